"""The scripts root runs on a director: what they read from files another user writes, and what they accept."""
import importlib.machinery
import importlib.util
import os
import subprocess
from pathlib import Path

import pytest

FILES = Path(__file__).resolve().parents[2] / "roles" / "keepalived" / "files"

CONFIG = """\
global_defs {
    enable_script_security
    script_user keepalived_script
}
vrrp_instance VI_1 {
    state BACKUP
    interface eth1
    virtual_router_id 51
    priority 100
    advert_int 1
    notify /usr/local/libexec/lvsfleet/vrrp-notify
    virtual_ipaddress {
        198.51.100.10/24 dev eth1
    }
}
vrrp_instance VI_2 {
    state BACKUP
    interface eth1
    virtual_router_id 52
    priority 100
    virtual_ipaddress {
        198.51.100.50/24 dev eth1
    }
}
"""


def load(name):
    loader = importlib.machinery.SourceFileLoader(name.replace("-", "_"), str(FILES / name))
    module = importlib.util.module_from_spec(importlib.util.spec_from_loader(loader.name, loader))
    loader.exec_module(module)
    return module


@pytest.fixture
def vr(tmp_path, monkeypatch):
    mod = load("vip-release")
    state = tmp_path / "vrrp"
    state.mkdir()
    monkeypatch.setattr(mod, "STATE_DIR", str(state))
    held = {"eth1": set()}
    monkeypatch.setattr(mod, "held", lambda dev: held.get(dev, set()))
    monkeypatch.setattr(mod, "keepalived_running", lambda: True)
    mod.test_held = held
    mod.test_dir = state
    return mod


def test_every_instance_is_reported_even_without_a_record(vr):
    out = vr.states(CONFIG)
    assert set(out) == {"VI_1", "VI_2"}
    assert out["VI_1"] == {"state": "BACKUP", "recorded": None, "holds_vip": False, "keepalived": True,
                           "transitions": [], "interface": "eth1", "vrid": 51, "addresses": ["198.51.100.10"]}
    assert out["VI_2"]["vrid"] == 52 and out["VI_2"]["addresses"] == ["198.51.100.50"]
    # The addresses lvsfleet renders after the first go to virtual_ipaddress_excluded: they count too.
    text = CONFIG.replace("        198.51.100.50/24 dev eth1\n    }",
                          "        198.51.100.50/24 dev eth1\n    }\n    virtual_ipaddress_excluded {\n"
                          "        198.51.100.51/24 dev eth1\n    }")
    assert vr.states(text)["VI_2"]["addresses"] == ["198.51.100.50", "198.51.100.51"]


def test_state_follows_the_kernel_not_the_record(vr):
    (vr.test_dir / "VI_1").write_text("MASTER\n")       # forged: this director holds nothing
    (vr.test_dir / "VI_2").write_text("BACKUP\n")       # stale: it holds VI_2's address
    vr.test_held["eth1"] = {"198.51.100.50/24"}
    out = vr.states(CONFIG)
    assert out["VI_1"]["state"] == "BACKUP" and out["VI_1"]["recorded"] == "MASTER"
    assert out["VI_2"]["state"] == "MASTER" and out["VI_2"]["holds_vip"] is True


def test_stopped_keepalived_is_stop_unless_it_still_holds_the_vip(vr, monkeypatch):
    monkeypatch.setattr(vr, "keepalived_running", lambda: False)
    vr.test_held["eth1"] = {"198.51.100.10/24"}
    out = vr.states(CONFIG)
    assert out["VI_1"]["state"] == "MASTER" and out["VI_2"]["state"] == "STOP"


def test_records_are_not_followed_through_symlinks_and_never_printed(vr, tmp_path):
    secret = tmp_path / "shadow"
    secret.write_text("root:$6$secret-hash:19000:0:99999:7:::\n")
    os.symlink(secret, vr.test_dir / "VI_1")
    os.symlink(secret, vr.test_dir / "VI_1.log")
    out = vr.states(CONFIG)
    assert out["VI_1"]["recorded"] is None and out["VI_1"]["transitions"] == []
    assert "secret-hash" not in repr(out)


def test_a_fifo_record_does_not_block_and_garbage_is_dropped(vr):
    os.mkfifo(vr.test_dir / "VI_1")
    (vr.test_dir / "VI_2").write_text("MASTER; rm -rf /\n")
    (vr.test_dir / "VI_2.log").write_text("1700000000.5 BACKUP\nnot a transition\n1700000001 MASTER\n" + "x" * 200000)
    out = vr.states(CONFIG)
    assert out["VI_1"]["recorded"] is None
    assert out["VI_2"]["recorded"] is None
    assert out["VI_2"]["transitions"] == []     # the bounded read sees only the last 64 KiB: no valid line there
    (vr.test_dir / "VI_2.log").write_text("1700000000.5 BACKUP\nnot a transition\n1700000001 MASTER\n")
    assert vr.states(CONFIG)["VI_2"]["transitions"] == ["1700000000.5 BACKUP", "1700000001 MASTER"]


def test_resigns_only_instances_whose_vip_it_holds(vr):
    (vr.test_dir / "VI_2").write_text("MASTER\n")       # a record alone does not make root send adverts
    vr.test_held["eth1"] = {"198.51.100.10/24"}
    assert [m["name"] for m in vr.masters(CONFIG)] == ["VI_1"]


def test_an_unconfigured_director_has_no_instances(vr):
    assert vr.states("") == {}


RTNL_PROBE = """
import importlib.machinery, importlib.util, json, subprocess, sys
loader = importlib.machinery.SourceFileLoader("vr", sys.argv[1])
vr = importlib.util.module_from_spec(importlib.util.spec_from_loader("vr", loader))
loader.exec_module(vr)
for argv in (["link", "add", "t0", "type", "veth", "peer", "name", "t1"], ["link", "set", "t0", "up"],
             ["addr", "add", "198.51.100.10/24", "dev", "t0"], ["addr", "add", "198.51.100.11/32", "dev", "t0"],
             ["addr", "add", "2001:db8::5/64", "dev", "t0"], ["addr", "add", "203.0.113.9/24", "dev", "t1"]):
    subprocess.run(["ip", *argv], check=True)
out = {"held": sorted(vr.held("t0")), "missing": sorted(vr.held("t9")), "bad": sorted(vr.held("t0 x"))}
out["deleted"] = [vr.delete(a, "t0") for a in ("198.51.100.11/32", "2001:db8::5/64", "198.51.100.11/32")]
out["after"] = sorted(vr.held("t0"))
out["other"] = sorted(vr.held("t1"))
print(json.dumps(out))
"""


def test_addresses_are_listed_and_removed_over_rtnetlink():
    """held() and delete() against the kernel, in a network namespace of their own."""
    import json
    probe = subprocess.run(["unshare", "-n", "python3", "-c", RTNL_PROBE, str(FILES / "vip-release")],
                           capture_output=True, text=True)
    if probe.returncode and "unshare" in probe.stderr and not os.environ.get("CI"):
        pytest.skip(f"no network namespace here: {probe.stderr.strip()}")
    assert probe.returncode == 0, probe.stderr
    out = json.loads(probe.stdout)
    assert out["held"] == ["198.51.100.10/24", "198.51.100.11/32", "2001:db8::5/64"]
    assert out["missing"] == [] and out["bad"] == []
    assert out["deleted"] == [True, True, False]       # the second delete of .11 is refused (not held)
    assert out["after"] == ["198.51.100.10/24"]
    assert out["other"] == ["203.0.113.9/24"]


@pytest.mark.parametrize("name", ["VI_1.log", "VI_1.tmp", ".", "..", "-x", "a/b", "a b", ""])
def test_vrrp_notify_refuses_names_outside_the_model_grammar(name):
    rc = subprocess.run(["sh", str(FILES / "vrrp-notify"), "INSTANCE", name, "MASTER", "100"]).returncode
    assert rc == 65


def test_vrrp_notify_and_the_model_agree_on_names():
    import re

    from ansible_collections.lvsfleet.lvs.plugins.module_utils.lvsfleet import model

    vr = load("vip-release")
    assert model._VRRP_NAME.pattern == vr.VRRP_NAME.pattern
    for name in ("VI_1", "a-b", "x" * 64):
        assert re.fullmatch(model._VRRP_NAME, name)
    for name in ("VI_1.log", "-a", "x" * 65):
        assert not re.fullmatch(model._VRRP_NAME, name)


# ---------------------------------------------------------------- lvsfleet-real-server: delete only what it created
RS_FILES = FILES.parents[1] / "real_server" / "files"


def load_rs():
    loader = importlib.machinery.SourceFileLoader("lvsfleet_real_server", str(RS_FILES / "lvsfleet-real-server"))
    module = importlib.util.module_from_spec(importlib.util.spec_from_loader(loader.name, loader))
    loader.exec_module(module)
    return module


def test_nat_only_server_leaves_foreign_rules_and_routes_alone():
    rs = load_rs()
    foreign_rules = {"192.0.2.99"}
    foreign_routes = {"default": {"dev": "eth0", "gateway": "192.0.2.1"}}
    steps = rs.plan_family(4, "100", set(), {}, foreign_rules, foreign_routes, {"rules": [], "routes": []})
    assert [s for s in steps if s[0]] == []


def test_what_it_created_is_removed_when_no_longer_wanted():
    rs = load_rs()
    created = {"rules": ["-4 100 198.51.100.10"], "routes": ["-4 100 default"]}
    have_routes = {"default": {"dev": "eth1", "gateway": "203.0.113.1"}, "192.0.2.0/24": {"dev": "eth0"}}
    steps = rs.plan_family(4, "100", set(), {}, {"198.51.100.10", "192.0.2.99"}, have_routes, created)
    done = [s[0] for s in steps if s[0]]
    assert done == ["remove rule from 198.51.100.10 lookup 100", "remove route default table 100"]


def test_a_foreign_route_it_would_replace_is_refused():
    rs = load_rs()
    with pytest.raises(rs.Refused, match="did not create"):
        rs.plan_family(4, "100", {"198.51.100.10"}, {"default": {"dev": "eth1", "via": "203.0.113.1"}}, set(),
                       {"default": {"dev": "eth0", "gateway": "192.0.2.1"}}, {"rules": [], "routes": []})


def test_new_rules_and_routes_are_recorded():
    rs = load_rs()
    steps = rs.plan_family(4, "100", {"198.51.100.10"}, {"default": {"dev": "eth1", "via": "203.0.113.1"}}, set(),
                           {}, {"rules": [], "routes": []})
    assert [s[2] for s in steps] == [("add", "rules", "-4 100 198.51.100.10"), ("add", "routes", "-4 100 default")]


def test_the_record_is_not_written_through_a_symlinked_directory(tmp_path, monkeypatch):
    rs = load_rs()
    target = tmp_path / "elsewhere"
    target.mkdir()
    link = tmp_path / "lib"
    os.symlink(target, link)
    monkeypatch.setattr(rs, "CREATED_DIR", str(link))
    with pytest.raises((rs.Refused, OSError)):
        rs.save_created({"rules": [], "routes": []})
    assert not (target / rs.CREATED).exists()


# ---------------------------------------------------------------- keepalived-config-test: nothing dropped unchecked
import shutil  # noqa: E402

from test_keepalived_render import render as render_lab  # noqa: E402  (a full rendered file with scripts)


def config_test_module():
    return load("keepalived-config-test")


def problems(text, on_director=False):
    kct = config_test_module()
    nodes = kct.kc.parse(text)
    c = kct.Checker(on_director=on_director)
    c.walk(nodes)
    c.global_defs(nodes)
    return c.problems


RS_BLOCK = """\
global_defs {
    enable_script_security
    script_user keepalived_script
}
virtual_server 198.51.100.10 3306 {
    lb_algo rr
    lb_kind NAT
    protocol TCP
    real_server 203.0.113.21 3306 {
        weight 1
%s
    }
}
"""

INJECTED = {
    "misc check as root": '        MISC_CHECK {\n            misc_path "/bin/sh -c id"\n            user root\n        }',
    "misc check as root group": '        MISC_CHECK {\n            misc_path "/usr/bin/true"\n            user nobody root\n        }',
    "notify_up as root": '        notify_up "/usr/bin/touch /tmp/pwned" root',
    "notify_down with a shell": '        notify_down "/bin/sh -c \'touch /tmp/x\'"',
    "relative program": '        notify_up "sh x"',
    "dot-dot program": '        notify_up "/usr/local/../../bin/sh x"',
    "unknown key in MISC_CHECK": '        MISC_CHECK {\n            misc_path "/usr/bin/true"\n            misc_shell yes\n        }',
    "a block inside MISC_CHECK": '        MISC_CHECK {\n            misc_path "/usr/bin/true"\n            extra {\n            }\n        }',
    "MISC_CHECK without a path": '        MISC_CHECK {\n            misc_timeout 3\n        }',
    "quorum-style script keyword": '        startup_script "/usr/bin/id" root',
}


@pytest.mark.parametrize("name", sorted(INJECTED))
def test_script_lines_that_could_run_as_root_or_a_shell_are_refused(name):
    assert problems(RS_BLOCK % INJECTED[name]), name


def test_the_lab_configuration_passes_the_script_checks():
    assert problems(render_lab()) == []


def test_scripts_without_script_security_or_with_a_root_script_user_are_refused():
    base = RS_BLOCK % '        MISC_CHECK {\n            misc_path "/usr/bin/true"\n        }'
    assert any("enable_script_security" in p for p in problems(base.replace("    enable_script_security\n", "")))
    assert any("no script_user" in p for p in problems(base.replace("    script_user keepalived_script\n", "")))
    assert any("root" in p for p in problems(base.replace("script_user keepalived_script", "script_user root")))


def test_vrrp_script_blocks_are_checked_key_by_key():
    text = ('global_defs {\n    enable_script_security\n    script_user nobody\n}\n'
            'vrrp_script chk {\n    script "/usr/bin/true"\n    interval 2\n    user root\n}\n')
    assert any("root" in p for p in problems(text))
    assert problems(text.replace("    user root\n", "")) == []
    assert problems(text.replace("    user root\n", "    notify_fifo /tmp/f\n"))


@pytest.mark.parametrize("line", ["include /etc/keepalived/evil.conf", "@lb1 notify_master /bin/sh",
                                  "$X=/bin/sh", "~SEQ(i,1,2) x"])
def test_lines_it_cannot_follow_are_refused(line):
    kct = config_test_module()
    with pytest.raises(kct.kc.ConfError):
        kct.kc.parse(RS_BLOCK % "" + line + "\n")


def test_without_scripts_keeps_every_other_line():
    kct = config_test_module()
    text = render_lab()
    stripped = kct.render(kct.without_scripts(kct.kc.parse(text)))
    assert "MISC_CHECK" not in stripped and "misc_path" not in stripped and "notify " not in stripped
    again = kct.kc.parse(stripped)
    assert [n.plain() for n in again if n.keyword != "vrrp_script"] == \
        [n.plain() for n in kct.without_scripts(kct.kc.parse(text))]
    assert stripped.count("TCP_CHECK") == text.count("TCP_CHECK") + text.count("MISC_CHECK")


# Skipped only outside CI: `make unit` installs keepalived first, so in CI a missing one is a failure.
needs_keepalived = pytest.mark.skipif(not os.environ.get("CI") and (
    not shutil.which("keepalived") or os.geteuid() != 0 or not shutil.which("unshare")),
    reason="needs root, keepalived and unshare")


def run_wrapper(tmp_path, text):
    f = tmp_path / "keepalived.conf"
    f.write_text(text)
    return subprocess.run([str(FILES / "keepalived-config-test"), "--offline", str(f)], capture_output=True,
                          text=True)


@needs_keepalived
def test_wrapper_refuses_a_root_misc_check_keepalived_would_accept(tmp_path):
    bad = run_wrapper(tmp_path, RS_BLOCK % INJECTED["misc check as root"])
    assert bad.returncode != 0 and "programs never run as root" in bad.stderr
    good = run_wrapper(tmp_path, RS_BLOCK % '        MISC_CHECK {\n            misc_path "/usr/bin/true"\n        }')
    assert good.returncode == 0, good.stderr


@needs_keepalived
def test_wrapper_accepts_the_lab_configuration(tmp_path):
    res = run_wrapper(tmp_path, render_lab())
    assert res.returncode == 0, res.stderr

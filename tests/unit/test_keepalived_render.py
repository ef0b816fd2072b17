"""keepalived.conf rendering from the model: virtual_server_group, digest checks, mysql credentials by file.

The role's keepalived.conf.j2 renders its header and then module_utils/lvsfleet/keepalived_render.py's text;
these tests call the renderer directly. keepalived itself judges the result (test_keepalived_adopt: every
adopted rendering; the gate's keepalived --config-test in the lab).
"""
import importlib.machinery
import importlib.util
import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from ansible_collections.lvsfleet.lvs.plugins.module_utils.lvsfleet import keepalived_render
from conftest import tool
from ansible_collections.lvsfleet.lvs.plugins.module_utils.lvsfleet.model import normalize_services, normalize_vrrp_instances

REPO = Path(__file__).resolve().parents[2]
ROLE = REPO / "roles" / "keepalived"
VRRP = [{"name": "VI_1", "interface": "lan0", "virtual_router_id": 51, "priorities": {"lb1": 150, "lb2": 100},
         "virtual_ipaddresses": ["198.51.100.10/24", "198.51.100.11/24"]}]
SERVICES = [
    {"name": "web", "vips": ["198.51.100.10", "198.51.100.11"], "port": 443, "scheduler": "wrr",
     "health_check": {"type": "https", "path": "/health", "digest": "d41d8cd98f00b204e9800998ecf8427e"},
     "real_servers": ["203.0.113.21", {"address": "203.0.113.22", "weight": 3}]},
    {"name": "db", "vip": "198.51.100.10", "port": 3306,
     "health_check": {"type": "mysql", "user": "lvsfleet_check", "password": "s3cret-pw"},
     "real_servers": ["203.0.113.21"]},
    {"name": "db-greeting", "vip": "198.51.100.11", "port": 3306, "health_check": {"type": "mysql"},
     "real_servers": ["203.0.113.22"]},
    {"name": "logs-udp", "vip": "198.51.100.10", "port": 514, "protocol": "udp",
     "health_check": {"type": "syslog", "transport": "udp"}, "real_servers": [{"address": "203.0.113.21", "port": 5514}]},
    {"name": "logs-tcp", "vip": "198.51.100.10", "port": 514, "protocol": "tcp",
     "health_check": {"type": "syslog", "transport": "tcp"}, "real_servers": [{"address": "203.0.113.21", "port": 5514}]},
]
ROLE_VARS = yaml.safe_load((ROLE / "vars" / "main.yml").read_text())


SETTINGS = {"router_id": "lb1", "script_user": "keepalived_script", "garp_master_repeat": 3, "garp_master_refresh": 0,
            "priority_override": 0, "nopreempt_suspended_for": [],
            "check_credentials_dir": "/etc/keepalived/lvsfleet-checks",
            "check_source": "", "syslog_probe": ROLE_VARS["keepalived_syslog_probe"]}


def render_model(model_services, my_vrrp, host="lb1", scripts=(), **settings) -> str:
    """What the role's keepalived.conf.j2 renders after its header (module_utils/lvsfleet/keepalived_render.py)
    for director `host` from a normalized model; `settings` override SETTINGS (router_id is the host's)."""
    return keepalived_render.render(model_services, my_vrrp, list(scripts), host,
                                    {**SETTINGS, "router_id": host, **settings})


def render(services=SERVICES, host="lb1", check_source="203.0.113.11", vrrp=VRRP, suspended=()) -> str:
    model = normalize_services(services)
    vrrp = normalize_vrrp_instances(vrrp, ["lb1", "lb2"])
    return render_model(model, vrrp, host, check_source=check_source, nopreempt_suspended_for=list(suspended))


def block(text: str, header: str) -> str:
    """The block that starts with `header` (to its matching brace)."""
    start = text.index(header)
    depth, i = 0, text.index("{", start)
    while True:
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        if depth == 0:
            return text[start:i + 1]
        i += 1


def test_a_group_renders_once_with_every_vip_and_one_virtual_server():
    conf = render()
    group = block(conf, "virtual_server_group web ")
    assert re.findall(r"^\s+(\S+ \d+)$", group, re.M) == ["198.51.100.10 443", "198.51.100.11 443"]
    assert conf.count("virtual_server_group web ") == 1 and conf.count("virtual_server group web ") == 1
    vs = block(conf, "virtual_server group web ")
    assert "lb_algo wrr" in vs and vs.count("real_server ") == 2 and "weight 3" in vs
    assert "virtual_server 198.51.100.10 443" not in conf and "virtual_server 198.51.100.11 443" not in conf


def test_group_members_are_kernel_services_in_the_model():
    members = [s for s in normalize_services(SERVICES) if s["group"] == "web"]
    assert [(s["vip"], s["port"]) for s in members] == [("198.51.100.10", 443), ("198.51.100.11", 443)]
    assert all(s["real_servers"] == members[0]["real_servers"] for s in members)
    assert normalize_services(SERVICES[1:2])[0]["group"] is None


def test_https_digest_check():
    vs = block(render(), "virtual_server group web ")
    check = block(vs, "SSL_GET")
    assert "path /health" in check and "digest d41d8cd98f00b204e9800998ecf8427e" in check and "status_code 200" in check


def test_syslog_checks_are_keepalived_native_and_probe_with_a_syslog_message():
    conf = render()
    assert conf.count("MISC_CHECK") == 2, "only the two mysql services run a script"
    udp = block(conf, "UDP_CHECK")
    payload = re.search(r"payload (\w+)", udp).group(1)
    assert bytes.fromhex(payload) == b"<15>1 - lvsfleet-check - - - - health probe\n"
    assert "require_reply" not in udp and "connect_port 5514" in udp
    tcp = block(conf[conf.index("protocol TCP", conf.index("virtual_server 198.51.100.10 514")):], "TCP_CHECK")
    assert "connect_port 5514" in tcp


def test_mysql_password_goes_to_a_file_never_into_the_config():
    conf = render()
    assert "s3cret-pw" not in conf
    db = block(conf, "virtual_server 198.51.100.10 3306")
    assert ('misc_path "/usr/local/libexec/lvsfleet/check-mysql 203.0.113.21 3306 2 '
            '/etc/keepalived/lvsfleet-checks/db.json"') in db
    plain = block(conf, "virtual_server 198.51.100.11 3306")
    assert 'misc_path "/usr/local/libexec/lvsfleet/check-mysql 203.0.113.22 3306 2"' in plain


def load_check_mysql():
    path = ROLE / "files" / "check-mysql"
    loader = importlib.machinery.SourceFileLoader("check_mysql", str(path))
    mod = importlib.util.module_from_spec(importlib.util.spec_from_loader("check_mysql", loader))
    loader.exec_module(mod)
    return mod


# The stored hash of the password "password" (SHA1(SHA1(password)), as MySQL's PASSWORD() shows it).
STORED_PASSWORD_HASH = bytes.fromhex("2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19")


def test_native_password_token_is_what_a_server_accepts():
    import hashlib
    check = load_check_mysql()
    salt = bytes(range(1, 21))
    token = check.native_password(b"password", salt)
    # The server's side: SHA1(token XOR SHA1(salt + stored)) must equal the stored hash.
    mask = hashlib.sha1(salt + STORED_PASSWORD_HASH).digest()
    assert hashlib.sha1(bytes(a ^ b for a, b in zip(token, mask))).digest() == STORED_PASSWORD_HASH
    assert check.native_password(b"wrong", salt) != token and check.native_password(b"", salt) == b""


def greeting(salt: bytes) -> bytes:
    return (b"\x0a" + b"10.11.6-MariaDB-0+deb12u1\0" + (7).to_bytes(4, "little") + salt[:8] + b"\0"
            + b"\xfe\xf7" + b"\x2d" + b"\x02\x00" + b"\xff\x81" + bytes([21]) + b"\0" * 10 + salt[8:] + b"\0"
            + b"mysql_native_password\0")


def test_greeting_scramble_and_error_packets():
    check = load_check_mysql()
    salt = b"abcdefgh" + b"ijklmnopqrst"
    assert check.parse_greeting(greeting(salt)) == salt
    err = b"\xff\x10\x04Too many connections"
    try:
        check.parse_greeting(err)
    except check.Down as exc:
        assert "error instead of a greeting" in str(exc)
    else:
        raise AssertionError("an error packet must be down")
    assert check.error_text(b"\xff\x15\x04#28000Access denied for user") == "error 1045: Access denied for user"


def test_only_the_first_vip_is_advertised():
    vi = block(render(), "vrrp_instance VI_1 ")
    assert block(vi, "virtual_ipaddress {").count("dev lan0") == 1 and "198.51.100.10/24 dev lan0" in vi
    assert "198.51.100.11/24 dev lan0" in block(vi, "virtual_ipaddress_excluded {")


@pytest.mark.parametrize("suspended", [(), ("lb2",), ("lb9",)])
@pytest.mark.parametrize("host", ["lb1", "lb2"])
def test_nopreempt_is_left_out_where_maintenance_moves_a_member_away(host, suspended):
    """maintenance.yml start lists the director it moves away: nopreempt would keep that director MASTER at
    priority 1, so the instances it is a member of lose nopreempt on every director meanwhile; instances it has
    no part in keep it (both start BACKUP either way: keepalived needs that for nopreempt)."""
    vrrp = [dict(VRRP[0], nopreempt=True)]
    vi = block(render(host=host, vrrp=vrrp, suspended=suspended), "vrrp_instance VI_1")
    assert ("nopreempt" in vi) is ("lb2" not in suspended)
    assert "state BACKUP" in vi and "preempt_delay" not in vi


def test_the_filter_reads_templated_and_vaulted_inventory_values_as_ansible_does(tmp_path):
    """Through ansible-playbook: lvs_keepalived_conf reads strings without a template start as stored and hands
    the others (a template, a vaulted value) to Ansible; both inventories render the same file."""
    password = tmp_path / "vault-password"
    password.write_text("unit-test-only\n")
    # This test's vault only (`make test` exports the lab's vault identity for the lab's runs).
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_VAULT")}
    env.update(ANSIBLE_CONFIG=str(ROLE.parents[1] / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"))
    vaulted = subprocess.run([tool("ansible-vault"), "encrypt_string", "--vault-password-file", str(password),
                              "/health", "--name", "health_path"], capture_output=True, text=True, env=env,
                             check=True).stdout
    plain = [{"name": "web", "vip": "198.51.100.10", "port": 80, "health_check": {"type": "http", "path": "/health"},
              "real_servers": [{"address": "203.0.113.21", "port": 8080}, "203.0.113.22"]}]
    templated = [{"name": "web", "vip": "{{ '198.51.100.' ~ (5 * 2) }}", "port": "{{ web_port }}",
                  "health_check": {"type": "http", "path": "{{ health_path }}"},
                  "real_servers": [{"address": "203.0.113.21", "port": "{{ web_port * 101 }}"}, "203.0.113.22"]}]
    settings = dict(SETTINGS, check_source="203.0.113.11")
    (tmp_path / "vars.yml").write_text(yaml.safe_dump({"web_port": 80, "plain": plain, "templated": templated,
                                                       "vrrp": VRRP, "settings": settings}) + vaulted)
    (tmp_path / "play.yml").write_text(yaml.safe_dump([{
        "hosts": "localhost", "gather_facts": False, "vars_files": ["vars.yml"],
        "tasks": [{"ansible.builtin.copy": {
            "content": "{{ %s | lvsfleet.lvs.lvs_keepalived_conf('lb1', vrrp=vrrp, settings=settings, "
                       "directors={'lb1': none, 'lb2': none}) }}" % name, "dest": f"{tmp_path}/{name}.conf"}}
            for name in ("plain", "templated")]}]))
    run = subprocess.run([tool("ansible-playbook"), "-i", "localhost,", "-c", "local", "--vault-password-file",
                          str(password), str(tmp_path / "play.yml")], capture_output=True, text=True, env=env,
                         cwd=tmp_path, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    expected = render(plain, check_source="203.0.113.11")
    assert (tmp_path / "plain.conf").read_text() == expected
    assert (tmp_path / "templated.conf").read_text() == expected
    assert "connect_port 8080" in expected and "path /health" in expected


def test_sync_groups_keep_the_earlier_order_and_names_differing_in_case_stay_apart():
    """Ordered by name without case (the earlier templates' Jinja groupby, so an upgrade changes no file); 'SG'
    and 'sg' are two groups, as keepalived compares names (groupby had merged them into one)."""
    def vi(name, vrid, group):
        return {"name": name, "interface": "lan0", "virtual_router_id": vrid, "sync_group": group,
                "priorities": {"lb1": 150, "lb2": 100}, "virtual_ipaddresses": [f"198.51.100.{vrid}/24"]}
    vrrp = normalize_vrrp_instances([vi("a1", 11, "Web"), vi("b1", 21, "db"), vi("a2", 12, "Web"), vi("b2", 22, "db"),
                                     vi("c1", 31, "SG"), vi("c2", 32, "SG"), vi("d1", 41, "sg"), vi("d2", 42, "sg")],
                                    ["lb1", "lb2"])
    text = render_model([], vrrp)
    groups = re.findall(r"^vrrp_sync_group (\S+) \{\n    group \{\n((?:        \S+\n)+)", text, re.M)
    assert [(g, members.split()) for g, members in groups] == [
        ("db", ["b1", "b2"]), ("SG", ["c1", "c2"]), ("sg", ["d1", "d2"]), ("Web", ["a1", "a2"])]


def test_a_jinja2_header_is_left_to_ansible():
    """A string Ansible may template (a Jinja start, or a leading #jinja2: header that redefines the delimiters)
    is never taken as stored."""
    from ansible_collections.lvsfleet.lvs.plugins.filter.lvs import _is_plain

    assert _is_plain(["203.0.113.21", {"port": 80, "weight": 1.5, "on": True, "none": None}])
    for text in ("{{ x }}", "a{%", "{# c #}", "#jinja2:variable_start_string:'[['\n[[ x ]]"):
        assert not _is_plain([{"path": text}])

"""Public keepalived.conf files (keepalived_corpus_public/, sources in its SOURCES.md) adopt with keepalived's
meaning or say where they do not.

For each file: keepalived 2.2.7 judges the original (`keepalived --config-test` in a private network
namespace); the adopter reads it, the model keeps what it accepts, the keepalived role's templates render the
result and keepalived accepts the rendering; then what the rendering means (keepalived_adopt.meaning:
keepalived's defaults and normalisations filled in) is compared with what the original means, item by item.
A difference is allowed only where the report names that setting; every service, instance and script the
original runs is adopted or left out by name, at its file:line. EXPECTED.yml records per file keepalived's
verdict, the summary, the report and the reported differences: a change to any of them is a test failure,
reviewed and then recorded with LVSFLEET_RECORD_CORPUS=1.
"""
import os
import re
import shlex
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
import yaml

from ansible_collections.lvsfleet.lvs.plugins.filter.lvs import adopt_checked
from ansible_collections.lvsfleet.lvs.plugins.module_utils.lvsfleet import keepalived_adopt as ka
from ansible_collections.lvsfleet.lvs.plugins.module_utils.lvsfleet import keepalived_conf as kc
from test_director_scripts import load as load_script
from test_keepalived_adopt import CONFIG_TEST, main_file, render

PUBLIC = Path(__file__).resolve().parent / "keepalived_corpus_public"
CASES = sorted(p for p in PUBLIC.iterdir() if p.suffix == ".conf" or p.is_dir())
EXPECTED_FILE = PUBLIC / "EXPECTED.yml"
HOST = "lb1"

needs_keepalived = pytest.mark.skipif(not os.environ.get("CI") and (
    not shutil.which("keepalived") or os.geteuid() != 0 or not shutil.which("unshare")),
    reason="needs root, keepalived and unshare")


# Whether a script a file names exists here, and is root's, is this machine's (keepalived 2.2.7 also ends a
# config test with SIGTERM, rc 143, once a secure script would run).
HOST_DEPENDENT = re.compile(r"since not found/accessible|Cannot find script|SECURITY VIOLATION|[Ii]nsecure")


def config_test_script():
    """roles/keepalived/files/keepalived-config-test as a module: its offline() names the interfaces a file uses."""
    return load_script("keepalived-config-test")


def keepalived_verdict(case: Path) -> dict:
    """keepalived 2.2.7's own --config-test of the original, offline: a private network namespace with a bridge
    for each interface the files name. rc and its messages, paths cut to file names."""
    main = main_file(case)
    texts = [p.read_text() for p in ([main] if case.is_file() else sorted(case.rglob("*.conf")))]
    names = sorted({n for t in texts for n in config_test_script().offline(t)[1]} - {"lo"})
    setup = " && ".join(f"ip link add name {shlex.quote(n)} type bridge" for n in names) or "true"
    # The same users on every machine (keepalived looks up script_user): root and nobody only.
    users = Path(tempfile.mkdtemp(prefix="lvsfleet-corpus-"))
    (users / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\n"
                                  "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n")
    (users / "group").write_text("root:x:0:\nnogroup:x:65534:\n")
    binds = f"mount --bind {users}/passwd /etc/passwd && mount --bind {users}/group /etc/group"
    res = subprocess.run(["unshare", "--net", "--mount", "sh", "-c",
                          f'{binds} && {setup} && exec keepalived --config-test -l -f "$0"', str(main)],
                         capture_output=True, text=True, cwd=main.parent)
    shutil.rmtree(users)
    rc = 128 - res.returncode if res.returncode < 0 else res.returncode
    lines = [re.sub(r"/\S*/", "", line) for line in res.stderr.splitlines() if line.strip()]
    # What depends on this host (the scripts and users a file names) is not part of the verdict.
    host = [line for line in lines if HOST_DEPENDENT.search(line)]
    return {"rc": "depends on the host's scripts" if host or rc == 143 else rc,
            "messages": sorted(set(lines) - set(host))}


def adopted(case: Path):
    nodes = kc.load(str(main_file(case)), host=HOST)
    return nodes, adopt_checked(ka.merge({HOST: ka.adopt(nodes, HOST)}))


def differences(want: dict, got: dict) -> list[str]:
    """Setting-level differences between two meanings, for the items the adopted rendering holds."""
    out = []

    def compare(item, a, b, prefix=""):
        for f in sorted(set(a) | set(b), key=str):
            if a.get(f) != b.get(f):
                out.append(f"{item}: {prefix}{f}")

    for key, svc in got["services"].items():
        item = f"service {' '.join(map(str, key)) if key[0] != 'group' else 'group ' + key[1][0][0]}"
        orig = want["services"].get(key)
        if orig is None:
            out.append(f"{item}: not in the original")
            continue
        compare(item, {k: v for k, v in orig.items() if k != "real_servers"},
                {k: v for k, v in svc.items() if k != "real_servers"})
        for rs in sorted(set(orig["real_servers"]) | set(svc["real_servers"])):
            a, b = orig["real_servers"].get(rs), svc["real_servers"].get(rs)
            if a is None or b is None:
                out.append(f"{item}: real_server {' '.join(rs)}")
                continue
            compare(item, {k: v for k, v in a.items() if k != "check"}, {k: v for k, v in b.items() if k != "check"})
            if (a["check"] is None) != (b["check"] is None):
                out.append(f"{item}: check")
            elif a["check"]:
                compare(item, a["check"], b["check"], "check ")
    for name, vi in got["instances"].items():
        orig = want["instances"].get(name)
        if orig is None:
            out.append(f"vrrp_instance {name}: not in the original")
        else:
            compare(f"vrrp_instance {name}", orig, vi)
    return sorted(set(out))


# meaning() keys whose directives have other names
DIRECTIVES = {"auth": ("authentication", "auth_type", "auth_pass"), "vips": ("virtual_ipaddress",),
              "lb_algo": ("lb_algo", "lvs_sched"), "lb_kind": ("lb_kind", "lvs_method"),
              "retry": ("retry", "nb_get_retry")}


def reported(difference: str, report: list[dict]) -> bool:
    """A difference ("ITEM: [check ]SETTING") is reported when an entry about that item names the setting (as its
    directive, or in its reason), or, for a check setting, says this service's real servers' checks differ."""
    item, setting = difference.split(": ", 1)
    word = setting.split()[-1]
    names = DIRECTIVES.get(word, (word,))
    token = item.split()[2] if item.startswith("service group ") else item.split()[1]

    def about_item(r):
        text = f"{r['block']} {r['directive']} {r['reason']}"
        return token in text or (item.startswith("service group ") and r["block"].startswith("virtual_server group"))

    def names_setting(r):
        return r["directive"].split()[:1] in ([n] for n in names) or any(
            re.search(rf"(?<![\w.]){re.escape(n)}(?![\w.])", r["reason"]) for n in names)

    return any(about_item(r) and (names_setting(r) or (setting.startswith("check ")
                                                       and "differs from the first real server" in r["reason"]))
               for r in report)


def record(case: Path, nodes, inv, verdict: dict | None) -> dict:
    got = ka.meaning(kc.parse(render(inv)))
    return {"keepalived": verdict, "summary": inv["summary"],
            "report": [f"{r['where'].rsplit('/', 1)[-1]} {r['directive']}" for r in inv["report"]],
            "differences": differences(ka.meaning(nodes), got)}


class Indented(yaml.SafeDumper):
    """Lists indented under their key, as yamllint wants them."""

    def increase_indent(self, flow=False, indentless=False):
        return super().increase_indent(flow, False)


def expected() -> dict:
    return yaml.safe_load(EXPECTED_FILE.read_text()) if EXPECTED_FILE.exists() else {}


def test_the_public_corpus_is_large_enough():
    assert len(CASES) >= 40


@needs_keepalived
@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_public_configurations_round_trip_with_keepalived_s_meaning(case, tmp_path):
    verdict = keepalived_verdict(case)
    try:
        nodes, inv = adopted(case)
    except kc.ConfError as exc:
        # Refused whole only when keepalived's own reading is broken too (braces that do not balance).
        assert re.search(r"braces|closes no block|opens no block", str(exc)) and verdict["rc"] != 0, (exc, verdict)
        got = {"keepalived": verdict, "refused": str(exc).replace(f"{PUBLIC}/", "")}
        nodes = inv = None
    else:
        text = render(inv)
        f = tmp_path / "adopted.conf"
        f.write_text(text)
        res = subprocess.run([str(CONFIG_TEST), "--offline", str(f)], capture_output=True, text=True)
        assert res.returncode == 0, f"{case.name}: keepalived refuses the adopted rendering: {res.stderr}\n{text}"
        got = record(case, nodes, inv, verdict)
        # Every difference from keepalived's own meaning is reported.
        silent = [d for d in got["differences"] if not reported(d, inv["report"])]
        assert not silent, f"{case.name}: differences nobody reported: {silent}"
        # Every service, instance and script the original runs is adopted or left out by name, at file:line.
        want = ka.meaning(nodes)
        totals = re.findall(r"adopted (\d+) of (\d+) services, (\d+) of (\d+) VRRP instances", inv["summary"])[0]
        left = [r for r in inv["report"] if r["directive"] == "left out"]
        assert len(left) == len(inv["left_out"]) and all(re.search(r":\d+$", r["where"]) for r in left), left
        assert int(totals[1]) >= len(want["services"]) and int(totals[3]) == len(want["instances"]), \
            (inv["summary"], sorted(want["services"], key=str), sorted(want["instances"]))
    if os.environ.get("LVSFLEET_RECORD_CORPUS"):
        data = expected()
        data[case.name] = got
        EXPECTED_FILE.write_text(yaml.dump(data, Dumper=Indented, sort_keys=True, width=110, allow_unicode=True))
        return
    assert expected().get(case.name) == got, f"{case.name}: differs from EXPECTED.yml (review, then record)"

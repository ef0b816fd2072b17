"""Adopting hand-written keepalived directors: the corpus round-trips, nothing is dropped silently.

Every configuration in keepalived_corpus/ is read as keepalived would (includes, per-host lines), turned into
inventory, validated by the model, rendered by the keepalived role's templates, judged by keepalived
--config-test (offline, in a private network namespace), and must mean what the original meant: the same
VIPs, services, real servers, weights and checks, keepalived's defaults filled in. Each file's
`# expect-report:` line lists what must be reported as not carried over, and nothing else may be.
"""
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from ansible_collections.lvsfleet.lvs.plugins.module_utils.lvsfleet import keepalived_adopt as ka
from ansible_collections.lvsfleet.lvs.plugins.module_utils.lvsfleet import keepalived_conf as kc
from ansible_collections.lvsfleet.lvs.plugins.module_utils.lvsfleet.model import ModelError, normalize_services, normalize_vrrp_instances, \
    normalize_vrrp_scripts
from test_keepalived_render import render_model
from test_keepalived_render import render as render_lab

CORPUS = Path(__file__).resolve().parent / "keepalived_corpus"
CONFIG_TEST = Path(__file__).resolve().parents[2] / "roles" / "keepalived" / "files" / "keepalived-config-test"
CASES = sorted(p for p in CORPUS.iterdir() if p.suffix == ".conf" or p.is_dir())
HOST = "lb1"


def main_file(case: Path) -> Path:
    return case / "keepalived.conf" if case.is_dir() else case


def expected_report(case: Path) -> set[str]:
    for line in main_file(case).read_text().splitlines():
        if line.startswith("# expect-report:"):
            return set(line.split(":", 1)[1].split())
    raise AssertionError(f"{case.name}: no '# expect-report:' line")


def adopt_case(case: Path, host: str = HOST) -> dict:
    nodes = kc.load(str(main_file(case)), host=host)
    return ka.merge({host: ka.adopt(nodes, host)})


def render(inv: dict, host: str = HOST) -> str:
    services = normalize_services(inv["lvs_services"])
    directors = {host: inv["host_vars"][host].get("lvs_vrrp_unicast_ip")}
    vrrp = normalize_vrrp_instances(inv["lvs_vrrp_instances"], directors, scripts=inv["lvs_vrrp_scripts"],
                                    services=services)
    mine = [vi for vi in vrrp if host in vi["priorities"]]
    gv = inv["group_vars"]
    return render_model(services, mine, host, normalize_vrrp_scripts(inv["lvs_vrrp_scripts"]),
                        garp_master_repeat=gv.get("keepalived_garp_master_repeat", 3),
                        garp_master_refresh=gv.get("keepalived_garp_master_refresh", 0),
                        check_source=inv["host_vars"][host].get("lvs_check_source", ""))


def reported(inv: dict) -> set[str]:
    return {r["directive"].split()[0] for r in inv["report"]}


def test_the_corpus_is_large_enough():
    assert len(CASES) >= 15


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_corpus_round_trips_and_reports_what_it_cannot_carry(case):
    inv = adopt_case(case)
    assert reported(inv) == expected_report(case), inv["report"]
    for r in inv["report"]:
        assert r["where"] and r["reason"], r
    rendered = render(inv)
    want = ka.meaning(kc.load(str(main_file(case)), host=HOST))
    got = ka.meaning(kc.parse(rendered))
    if case.name.startswith("17-"):
        # what was reported is what differs: the VIP on eth1, AH, the other real server's URL
        assert got["instances"]["ODDS"]["vips"] == ["192.0.2.170/24", "192.0.2.171/24"]
        assert got["instances"]["ODDS"]["auth"] is None
        rs = got["services"][("192.0.2.170", "80")]["real_servers"]
        assert [c["check"]["url"] for c in rs.values()] == [[("path", "/a"), ("status_code", "200")]] * 2
        return
    assert got["instances"] == want["instances"]
    assert got["services"] == want["services"]


# Skipped only outside CI: `make unit` installs keepalived first, so in CI a missing one is a failure.
needs_keepalived = pytest.mark.skipif(not os.environ.get("CI") and (
    not shutil.which("keepalived") or os.geteuid() != 0 or not shutil.which("unshare")),
    reason="needs root, keepalived and unshare")


@needs_keepalived
@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_keepalived_accepts_every_adopted_rendering(case, tmp_path):
    text = render(adopt_case(case))
    f = tmp_path / "adopted.conf"
    f.write_text(text)
    res = subprocess.run([str(CONFIG_TEST), "--offline", str(f)], capture_output=True, text=True)
    assert res.returncode == 0, f"{case.name} (adopted): {res.stderr}\n{text}"


def test_an_lvsfleet_rendering_adopts_to_the_same_meaning(tmp_path):
    text = render_lab()
    f = tmp_path / "keepalived.conf"
    f.write_text(text)
    inv = ka.merge({HOST: ka.adopt(kc.load(str(f), host=HOST), HOST)})
    # lvsfleet's own router_id and script settings are reported as replaced, its notify hook is recognised
    assert reported(inv) <= {"router_id", "enable_script_security", "script_user", "vrrp_garp_master_repeat",
                             "vrrp_garp_master_refresh", "misc_path"}, \
        inv["report"]
    got, want = ka.meaning(kc.parse(render(inv)))["services"], ka.meaning(kc.parse(text))["services"]
    # the authenticated mysql check loses only its credentials file (reported: user and password come from Vault)
    db = ("198.51.100.10", "3306")
    (rs_got,), (rs_want,) = got.pop(db)["real_servers"].values(), want.pop(db)["real_servers"].values()
    assert rs_want["check"]["misc_path"].startswith(rs_got["check"]["misc_path"] + " /etc/keepalived/")
    assert got == want


def test_two_directors_merge_into_priorities_and_report_differences(tmp_path):
    case = CORPUS / "15-per-host.conf"
    per = {h: ka.adopt(kc.load(str(case), host=h), h) for h in ("lb1", "lb2")}
    inv = ka.merge(per)
    assert inv["lvs_vrrp_instances"][0]["priorities"] == {"lb1": 150, "lb2": 100}
    # the per-host weight differs: lb1's is adopted and lb2's difference is reported
    assert inv["lvs_services"][0]["real_servers"][0]["weight"] == 4
    assert any(r["host"] == "lb2" and r["block"] == "lvs_services" for r in inv["report"])


def test_includes_are_read_relative_to_the_including_file_and_cycles_refused(tmp_path):
    (tmp_path / "a.conf").write_text("include sub/b.conf\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.conf").write_text("include ../a.conf\n")
    with pytest.raises(kc.ConfError, match="includes itself"):
        kc.load(str(tmp_path / "a.conf"))
    (tmp_path / "c.conf").write_text("include missing.conf\n")
    with pytest.raises(kc.ConfError, match="no such file"):
        kc.load(str(tmp_path / "c.conf"))
    (tmp_path / "d.conf").write_text("$VIP=192.0.2.1\n")
    with pytest.raises(kc.ConfError, match="variables"):
        kc.load(str(tmp_path / "d.conf"))


def test_a_value_the_model_refuses_names_the_item(tmp_path):
    (tmp_path / "k.conf").write_text(
        "vrrp_instance BAD {\n interface eth0\n virtual_router_id 300\n priority 150\n"
        " virtual_ipaddress {\n  192.0.2.1/24\n }\n}\n")
    inv = adopt_case(tmp_path / "k.conf")
    with pytest.raises(ModelError, match=r"virtual_router_id.*300"):
        render(inv)


def test_a_live_ipvs_table_becomes_services():
    info = [{"key": "-t 192.0.2.10:80", "family": 4, "protocol": "tcp", "vip": "192.0.2.10", "port": 80,
             "fwmark": None, "scheduler": "wrr", "scheduler_flags": [], "persistence_timeout": None,
             "real_servers": [{"address": "203.0.113.21", "port": 8080, "forwarding": "masq", "weight": 3,
                               "upper_threshold": 0, "lower_threshold": 0, "tunnel": None}]},
            {"key": "-f 5", "family": 4, "protocol": None, "vip": None, "port": 0, "fwmark": 5,
             "scheduler": "sh", "scheduler_flags": ["sh-port"], "persistence_timeout": 60,
             "real_servers": [{"address": "203.0.113.22", "port": 0, "forwarding": "route", "weight": 1,
                               "upper_threshold": 10, "lower_threshold": 0, "tunnel": None}]},
            {"key": "-u 192.0.2.10:53", "family": 4, "protocol": "udp", "vip": "192.0.2.10", "port": 53,
             "fwmark": None, "scheduler": "rr", "scheduler_flags": [], "persistence_timeout": None,
             "real_servers": []}]
    services, report = ka.services_from_ipvs(info)
    model = normalize_services(services)
    assert [(s["name"], s["forwarding"], s["scheduler"]) for s in model] == [
        ("tcp-192.0.2.10-80", "nat", "wrr"), ("fwmark-5", "dr", "sh")]
    assert model[0]["real_servers"][0]["weight"] == 3 and model[1]["real_servers"][0]["upper_threshold"] == 10
    assert any("without real servers" in r["reason"] for r in report)
    assert yaml.safe_dump(services)  # plain data, writable as inventory


def test_an_http_check_without_a_status_code_is_reported(tmp_path):
    (tmp_path / "k.conf").write_text(
        "virtual_server 192.0.2.1 80 {\n real_server 203.0.113.1 80 {\n  HTTP_GET {\n   url {\n    path /\n   }\n"
        "  }\n }\n}\n")
    inv = adopt_case(tmp_path / "k.conf")
    assert [r["reason"].split(" (")[0] for r in inv["report"] if r["directive"].startswith("url")] == [
        "no status_code"]


TUNNELS = """\
virtual_server 198.51.100.60 80 {
    delay_loop 5
    lb_algo wrr
    lb_kind TUN type gue port 5555
    protocol TCP
    real_server 203.0.113.21 80 {
        TCP_CHECK {
            connect_timeout 3
        }
    }
}
virtual_server 198.51.100.61 80 {
    delay_loop 5
    lb_algo wrr
    lb_kind TUN type gre
    protocol TCP
    real_server 203.0.113.22 80 {
        TCP_CHECK {
            connect_timeout 3
        }
    }
}
"""


@needs_keepalived
def test_gue_and_gre_tunnels_render_as_keepalived_reads_them(tmp_path):
    """keepalived 2.2.7 reads the tunnel type from lb_kind's words (check_parser.c svr_forwarding_handler); a
    rendering without them would program ipip. Adopted, rendered, accepted by keepalived, the same meaning."""
    f = tmp_path / "keepalived.conf"
    f.write_text(TUNNELS)
    inv = ka.merge({HOST: ka.adopt(kc.load(str(f), host=HOST), HOST)})
    services = {s["vip"]: s for s in inv["lvs_services"]}
    assert (services["198.51.100.60"]["tunnel"], services["198.51.100.60"]["tunnel_port"]) == ("gue", 5555)
    assert services["198.51.100.61"]["tunnel"] == "gre"
    text = render(inv)
    assert "lb_kind TUN type gue port 5555\n" in text and "lb_kind TUN type gre\n" in text, text
    out = tmp_path / "rendered.conf"
    out.write_text(text)
    res = subprocess.run([str(CONFIG_TEST), "--offline", str(out)], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr + text
    got, want = ka.meaning(kc.parse(text))["services"], ka.meaning(kc.parse(TUNNELS))["services"]
    assert {k: v.get("tunnel") for k, v in got.items()} == {k: v.get("tunnel") for k, v in want.items()}

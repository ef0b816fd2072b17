"""lvsfleet-metrics: what it reports from a director's configuration, kernel table and records."""
import importlib.machinery
import importlib.util
from pathlib import Path

import pytest

FILES = Path(__file__).resolve().parents[2] / "roles" / "keepalived" / "files"

CONFIG = """\
vrrp_instance VI_1 {
    state BACKUP
    interface eth1
    virtual_router_id 51
    virtual_ipaddress {
        198.51.100.10/24 dev eth1
        198.51.100.20/24 dev eth1
    }
    virtual_ipaddress_excluded {
        198.51.100.30/24 dev eth1
    }
}
# lvsfleet service: web
virtual_server 198.51.100.10 80 {
    lb_algo rr
    lb_kind NAT
    protocol TCP
    real_server 203.0.113.21 8080 {
        weight 3
    }
    real_server 203.0.113.22 8080 {
        weight 1
    }
    real_server 203.0.113.23 8080 {
        weight 0
    }
}
# lvsfleet service: dns
virtual_server 198.51.100.20 53 {
    lb_algo wrr
    lb_kind DR
    protocol UDP
    real_server 203.0.113.21 53 {
        weight 2
        inhibit_on_failure
    }
    real_server 203.0.113.22 53 {
        weight 2
        inhibit_on_failure
    }
}
virtual_server fwmark 1819672577 {
    lb_algo rr
    lb_kind DR
    real_server 203.0.113.21 {
        weight 1
    }
}
"""

# rs2 of web was taken out by keepalived; rs1 of dns was inhibited (weight 0); rs3 of web is drained by config.
PROC = """\
IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port Forward Weight ActiveConn InActConn
TCP  C633640A:0050 rr
  -> CB007115:1F90      Masq    3      4          10
  -> CB007117:1F90      Masq    0      0          0
UDP  C6336414:0035 wrr
  -> CB007115:0035      Route   0      0          0
  -> CB007116:0035      Route   2      0          7
FWM  6C760001 rr
  -> CB007115:0000      Route   1      0          60
"""


def load(script: str):
    """A director script (no .py suffix) as a module."""
    loader = importlib.machinery.SourceFileLoader(script.replace("-", "_"), str(FILES / script))
    mod = importlib.util.module_from_spec(importlib.util.spec_from_loader(loader.name, loader))
    loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def m():
    return load("lvsfleet-metrics")


@pytest.fixture(scope="module")
def vr():
    return load("vip-release")


def samples(m, vr, running=True, held=("198.51.100.10/24",), gen=("a" * 16, "a" * 16), reload=None):
    states = {"VI_1": {"state": "MASTER" if held else "BACKUP"}}
    out = m.collect(vr, CONFIG, PROC, states, {"eth1": set(held)}, running,
                    {"running": gen[0], "expected": gen[1]}, reload, 1700000000.0)
    return {(n, tuple(sorted(lab.items()))): v for n, lab, v in out}


def rs(service, address, port, vip, vport, proto):
    return (("port", str(vport)), ("protocol", proto), ("real_port", str(port)), ("real_server", address),
            ("service", service), ("vip", vip))


def test_proc_table_decodes_addresses_ports_and_marks(m):
    table = m.ipvs_table(PROC)
    assert table[("tcp", "198.51.100.10", 80)] == {("203.0.113.21", 8080): 3, ("203.0.113.23", 8080): 0}
    assert table[("fwmark", 0x6C760001, 0)] == {("203.0.113.21", 0): 1}
    v6 = m.ipvs_table("TCP  [2001:0db8:0000:0000:0000:0000:0000:0010]:01BB rr\n"
                      "  -> [2001:0db8:0000:0000:0000:0000:0000:0021]:1F90      Route   1      0          0\n")
    assert v6 == {("tcp", "2001:db8::10", 443): {("2001:db8::21", 8080): 1}}


def test_real_server_health_is_keepalived_s_verdict_on_the_table(m, vr):
    s = samples(m, vr)
    up = {k[1]: v for k, v in s.items() if k[0] == "lvsfleet_real_server_up"}
    assert up[rs("web", "203.0.113.21", 8080, "198.51.100.10", 80, "tcp")] == 1
    assert up[rs("web", "203.0.113.22", 8080, "198.51.100.10", 80, "tcp")] == 0   # removed by keepalived
    assert up[rs("web", "203.0.113.23", 8080, "198.51.100.10", 80, "tcp")] == 1   # drained in the configuration
    assert up[rs("dns", "203.0.113.21", 53, "198.51.100.20", 53, "udp")] == 0     # inhibited: weight 0
    assert up[rs("dns", "203.0.113.22", 53, "198.51.100.20", 53, "udp")] == 1
    assert len(up) == 5, "check-path fwmark services are not traffic and are not reported"
    weight = {k[1]: v for k, v in s.items() if k[0] == "lvsfleet_real_server_weight"}
    assert weight[rs("web", "203.0.113.22", 8080, "198.51.100.10", 80, "tcp")] == -1


def test_no_health_is_reported_while_keepalived_is_down(m, vr):
    s = samples(m, vr, running=False)
    assert s[("lvsfleet_keepalived_up", ())] == 0
    assert not [k for k in s if k[0].startswith("lvsfleet_real_server")]


def test_every_vip_of_an_instance_is_reported_as_the_kernel_holds_it(m, vr):
    s = samples(m, vr, held=("198.51.100.10/24",))
    assert s[("lvsfleet_vip_held", (("vip", "198.51.100.10"), ("vrrp_instance", "VI_1")))] == 1
    assert s[("lvsfleet_vip_held", (("vip", "198.51.100.20"), ("vrrp_instance", "VI_1")))] == 0
    # The VIPs past those the advert carries (virtual_ipaddress_excluded) are the instance's too.
    assert s[("lvsfleet_vip_held", (("vip", "198.51.100.30"), ("vrrp_instance", "VI_1")))] == 0
    states = {k[1]: v for k, v in s.items() if k[0] == "lvsfleet_vrrp_state"}
    assert states[(("state", "MASTER"), ("vrrp_instance", "VI_1"))] == 1
    assert sum(states.values()) == 1 and len(states) == 4


def test_drift_and_the_last_reload(m, vr):
    s = samples(m, vr, gen=("a" * 16, "b" * 16), reload={"time": 1699999999.5, "result": "failed"})
    assert s[("lvsfleet_config_drift", ())] == 1
    assert s[("lvsfleet_last_reload_success", ())] == 0
    assert s[("lvsfleet_last_reload_timestamp_seconds", ())] == "1699999999.500"
    assert samples(m, vr)[("lvsfleet_config_drift", ())] == 0


def test_the_file_is_valid_exposition_and_label_values_are_escaped(m, vr):
    text = m.render(m.collect(vr, CONFIG.replace("service: web", 'service: we"b'), PROC, {}, {}, True,
                              {"running": "x", "expected": "x"}, None, 1.0))
    assert text.endswith("\n") and "# TYPE lvsfleet_real_server_up gauge" in text
    # A name outside the model's grammar is not taken from the comment: the key names the service instead.
    assert 'service="tcp/198.51.100.10:80"' in text and '"b' not in text
    assert m.sample("x", {"a": 'q"\\\n'}, 1) == 'x{a="q\\"\\\\\\n"} 1'
    names = [line.split("{")[0].split()[0] for line in text.splitlines() if not line.startswith("#")]
    assert names == sorted(names, key=names.index) and len(set(names)) == len(
        [i for i, n in enumerate(names) if i == 0 or names[i - 1] != n]), "a family's samples are not together"


def test_promtool_accepts_the_file(m, vr):
    import subprocess
    from test_alert_rules import promtool
    text = m.render(m.collect(vr, CONFIG, PROC, {"VI_1": {"state": "MASTER"}}, {"eth1": {"198.51.100.10/24"}}, True,
                              {"running": "a", "expected": "b"}, {"time": 5.0, "result": "ok"}, 1.0))
    p = subprocess.run([promtool(), "check", "metrics"], input=text, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stdout + p.stderr


def test_events_between_two_snapshots(m, vr):
    first = m.snapshot(m.collect(vr, CONFIG, PROC, {"VI_1": {"state": "MASTER"}}, {}, True,
                                 {"running": "a", "expected": "a"}, None, 1.0))
    # rs2 of web comes back at weight 1, rs1 of web is drained to 0 by a new configuration (still up),
    # rs2 of dns is taken out, and VI_1 falls to BACKUP.
    proc = PROC.replace("  -> CB007115:1F90      Masq    3", "  -> CB007115:1F90      Masq    0") \
        .replace("  -> CB007117:1F90", "  -> CB007116:1F90      Masq    1      0          0\n  -> CB007117:1F90") \
        .replace("  -> CB007116:0035      Route   2      0          7\n", "")
    conf = CONFIG.replace("    real_server 203.0.113.21 8080 {\n        weight 3", "    real_server 203.0.113.21 8080 {\n        weight 0")
    second = m.snapshot(m.collect(vr, conf, proc, {"VI_1": {"state": "BACKUP"}}, {}, True,
                                  {"running": "a", "expected": "a"}, None, 2.0))
    assert m.changes(None, first) == []
    assert m.changes(first, first) == []
    got = m.changes(first, second)
    assert ("vrrp", {"vrrp_instance": "VI_1", "from": "MASTER", "to": "BACKUP"}) in got
    assert ("real_server_up", {"service": "web", "real_server": "203.0.113.22:8080", "weight": 1}) in got
    assert ("weight", {"service": "web", "real_server": "203.0.113.21:8080", "from": 3, "to": 0}) in got
    assert ("real_server_down", {"service": "dns", "real_server": "203.0.113.22:53"}) in got
    assert len(got) == 4, got
    # keepalived stopped: no health at all, so no real server events (its restart is not a flood of them).
    stopped = m.snapshot(m.collect(vr, CONFIG, PROC, {"VI_1": {"state": "STOP"}}, {}, False,
                                   {"running": "a", "expected": "a"}, None, 3.0))
    assert m.changes(first, stopped) == [("vrrp", {"vrrp_instance": "VI_1", "from": "MASTER", "to": "STOP"})]
    assert m.changes(stopped, first) == [("vrrp", {"vrrp_instance": "VI_1", "from": "STOP", "to": "MASTER"})]


@pytest.fixture(scope="module")
def ev():
    return load("lvsfleet-event")


def test_event_lines_are_stable_logfmt_and_read_back(ev):
    text = ev.line("reload", {"result": "ok", "by": 'eve "x"=1\\', "changed": "web dns"}, 1764066713.1234, "lb1")
    assert text.startswith("v=1 ts=2025-11-25T10:31:53.123Z director=lb1 event=reload result=ok ")
    from ansible_collections.lvsfleet.lvs.plugins.module_utils.lvsfleet.status import parse_event   # the status report reads the journal with it
    assert parse_event(text) == {"v": "1", "ts": "2025-11-25T10:31:53.123Z", "director": "lb1", "event": "reload",
                              "result": "ok", "by": 'eve "x"=1\\', "changed": "web dns"}
    assert "\n" not in ev.line("vrrp", {"to": "MASTER\nevent=forged"}, 0, "lb1")
    with pytest.raises(ValueError):
        ev.line("rm -rf", {}, 0, "lb1")
    with pytest.raises(ValueError):
        ev.line("vrrp", {"event": "forged"}, 0, "lb1")


def test_a_reload_event_is_recorded_for_the_metrics(ev, tmp_path, monkeypatch):
    monkeypatch.setattr(ev, "STATE_DIR", str(tmp_path))
    monkeypatch.setattr(ev, "SYSLOG", str(tmp_path / "no-socket"))   # journald away: still recorded
    assert ev.main(["reload", "result=failed", "by=ops"]) == 0
    import json
    data = json.loads((tmp_path / "last-reload.json").read_text())
    assert data["result"] == "failed" and data["by"] == "ops" and data["time"] > 0
    assert ev.main(["reload", "result=maybe"]) == 64
    assert ev.main(["reload", "result"]) == 64


def test_the_json_reading_for_the_status_report(m, vr):
    out = m.as_json(m.collect(vr, CONFIG, PROC, {"VI_1": {"state": "MASTER"}}, {"eth1": {"198.51.100.10/24"}}, True,
                              {"running": "a", "expected": "b"}, {"time": 5.0, "result": "ok"}, 1.0, restarts=2))
    assert out["keepalived"] is True and out["restarts"] == 2 and out["vrrp"] == {"VI_1": "MASTER"}
    assert {"vrrp_instance": "VI_1", "vip": "198.51.100.10", "held": True} in out["vips"]
    assert out["drift"] is True and out["generation"] == {"running": "a", "expected": "b"}
    assert out["last_reload"] == {"time": 5.0, "ok": True}
    rs2 = next(r for r in out["real_servers"] if r["service"] == "web" and r["real_server"] == "203.0.113.22")
    assert rs2["up"] is False and rs2["weight"] == -1 and rs2["port"] == 80 and rs2["real_port"] == 8080

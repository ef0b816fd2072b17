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


@pytest.fixture(scope="module")
def m():
    loader = importlib.machinery.SourceFileLoader("lvsfleet_metrics", str(FILES / "lvsfleet-metrics"))
    mod = importlib.util.module_from_spec(importlib.util.spec_from_loader(loader.name, loader))
    loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def vr():
    loader = importlib.machinery.SourceFileLoader("vip_release", str(FILES / "vip-release"))
    mod = importlib.util.module_from_spec(importlib.util.spec_from_loader(loader.name, loader))
    loader.exec_module(mod)
    return mod


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

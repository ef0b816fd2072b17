"""Anycast directors: the BGP model, the gate's readings and verdicts, and the BIRD configuration rendered from them."""
import importlib.machinery
import importlib.util
import shlex
import socket
import subprocess
import threading
from pathlib import Path

import jinja2
import pytest

from ansible_collections.lvsfleet.lvs.plugins.filter.lvs import lvs_normalize_bgp
from ansible_collections.lvsfleet.lvs.plugins.module_utils.lvsfleet.model import ModelError, normalize_bgp, \
    normalize_services

ROLE = Path(__file__).resolve().parents[2] / "roles" / "bgp"
SERVICES = [
    {"name": "web", "vip": "203.0.113.50", "port": 80, "scheduler": "mh", "scheduler_flags": ["mh-port"],
     "forwarding": "dr", "vip_holder": "bgp", "quorum": 2, "real_servers": ["198.51.100.21", "198.51.100.22"]},
    {"name": "web-tls", "vip": "203.0.113.50", "port": 443, "scheduler": "sh", "forwarding": "dr",
     "vip_holder": "bgp", "real_servers": ["198.51.100.21"]},
    {"name": "web6", "vip": "2001:db8::50", "port": 80, "scheduler": "mh", "forwarding": "dr", "vip_holder": "bgp",
     "real_servers": ["2001:db8::21"]},
    {"name": "pair", "vip": "198.51.100.10", "port": 80, "real_servers": ["203.0.113.21"]},
]
BGP = {"asn": 65001, "neighbors": [
    {"name": "up4", "address": "198.51.100.1", "asn": 65000, "password": "s3cret-key", "hold_time": 3,
     "keepalive_time": 1},
    {"name": "up6", "address": "2001:db8::1", "asn": 65000, "bfd": True}]}
SOURCES = {"lb1": {"lvs_bgp_source": "198.51.100.11", "lvs_bgp_source6": "2001:db8::11"}}


def gate_module():
    loader = importlib.machinery.SourceFileLoader("bgp_gate", str(ROLE / "files" / "lvsfleet-bgp-gate"))
    spec = importlib.util.spec_from_loader("bgp_gate", loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


def test_model_lists_anycast_vips_with_their_services_and_defaults():
    out = lvs_normalize_bgp(BGP, SERVICES, SOURCES)
    assert out["vips"] == ["203.0.113.50", "2001:db8::50"]  # the VRRP-held VIP is not announced
    assert out["gate"][0] == {"vip": "203.0.113.50", "prefix": 32, "protocol": "lvs_vip_203_0_113_50", "services": [
        {"name": "web", "port": 80, "protocol": "tcp", "quorum": 2},
        {"name": "web-tls", "port": 443, "protocol": "tcp", "quorum": 1}]}
    assert out["gate"][1]["protocol"] == "lvs_vip_2001_db8__50" and out["gate"][1]["prefix"] == 128
    assert out["neighbors"][1]["hold_time"] == 9 and out["neighbors"][1]["keepalive_time"] == 3
    assert out["bfd"] == {"interval_ms": 300, "multiplier": 3}  # a neighbor with bfd: true turns BFD on
    assert out["sources"] == {"lb1": {"4": "198.51.100.11", "6": "2001:db8::11"}}
    assert out["vip_interface"] == "lvsvip0"


def test_no_bgp_and_no_anycast_service_is_no_model():
    assert normalize_bgp(None, {}, normalize_services(SERVICES[3:])) is None


@pytest.mark.parametrize("value, message", [
    ("65001", "lvs_bgp: '65001' must be a mapping"),
    ({"asn": 65001, "neighbors": [{"address": "198.51.100.1", "asn": 65000}], "check_interval": 0},
     "lvs_bgp.check_interval: 0 must be a number of seconds from 0.1 to 10"),
    ({"asn": 65001, "neighbors": [{"address": "198.51.100.1", "asn": 65000}], "vip_interface": "lvs vip"},
     "lvs_bgp.vip_interface: 'lvs vip' must be an interface name"),
    ({"asn": 65001, "neighbors": [{"address": "198.51.100.1", "asn": 65000, "password": "x" * 81}]},
     "lvs_bgp.neighbors[0].password: must be 1 to 80"),
    ({"asn": 65001, "neighbors": [{"name": "a", "address": "198.51.100.1", "asn": 65000},
                                  {"name": "a", "address": "198.51.100.2", "asn": 65000}]},
     "lvs_bgp.neighbors[1].name: 'a' is also lvs_bgp.neighbors[0]'s"),
    ({"asn": 65001, "neighbors": [{"address": "198.51.100.1", "asn": 65000, "bfd": "yes"}]},
     "lvs_bgp.neighbors[0].bfd: 'yes' must be true or false"),
])
def test_bad_values_are_named(value, message):
    with pytest.raises(ModelError) as err:
        normalize_bgp(value, {"lb1": {"lvs_bgp_source": "198.51.100.11"}}, normalize_services(SERVICES[:2]))
    assert str(err.value).startswith(message)


def test_ipv6_neighbor_needs_an_ipv6_source():
    with pytest.raises(ModelError, match=r"^lb1: lvs_bgp_source6: required, lvs_bgp has IPv6 neighbors$"):
        normalize_bgp(BGP, {"lb1": {"lvs_bgp_source": "198.51.100.11"}}, normalize_services(SERVICES))


# /proc/net/ip_vs as the kernel prints it: an IPv4 service with two real servers (one at weight 0), an IPv6
# service, a fwmark service.
IP_VS = """\
IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port Forward Weight ActiveConn InActConn
TCP  CB007132:0050 mh
  -> C6336415:0050      Route   1      3          10
  -> C6336416:0050      Route   0      0          2
TCP  [2001:0db8:0000:0000:0000:0000:0000:0050]:0050 mh
  -> [2001:0db8:0000:0000:0000:0000:0000:0021]:0050      Route   2      0          0
FWM  00000007 rr
  -> C6336415:0000      Route   1      0          0
"""


def test_ip_vs_table_is_read_per_service():
    table = gate_module().parse_ip_vs(IP_VS)
    assert table == {("tcp", "203.0.113.50", 80): [1, 0], ("tcp", "2001:db8::50", 80): [2]}


@pytest.mark.parametrize("quorum, checker, maintenance, hold, want", [
    (1, True, False, False, (True, "")),
    (2, True, False, False, (False, "tcp/80: live weight 1 below quorum 2")),
    (1, False, False, False, (False, "keepalived's checker is not running")),
    (1, True, True, False, (False, "maintenance")),
    (1, True, False, True, (False, "held by a rolling change")),
])
def test_verdict(quorum, checker, maintenance, hold, want):
    gate = gate_module()
    vip = {"vip": "203.0.113.50", "services": [{"port": 80, "protocol": "tcp", "quorum": quorum}]}
    assert gate.verdict(vip, gate.parse_ip_vs(IP_VS), checker, maintenance, hold) == want


def test_a_service_missing_from_the_table_withdraws_its_vip():
    gate = gate_module()
    vip = {"vip": "203.0.113.50", "services": [{"port": 80, "protocol": "tcp", "quorum": 1},
                                              {"port": 443, "protocol": "tcp", "quorum": 1}]}
    assert gate.verdict(vip, gate.parse_ip_vs(IP_VS), True, False, False) == \
        (False, "tcp/443 is not in the IPVS table")


BIRDC_PROTOCOLS = """\
BIRD 2.0.12 ready.
Name       Proto      Table      State  Since         Info
device1    Device     ---        up     07:02:45.791
lvs_vip_203_0_113_50 Static     master4    up     07:06:09.868
upstream   BGP        ---        start  07:06:10.237  Active        Socket: Connection refused
"""


class FakeBird:
    """A Unix socket that answers as BIRD's control socket does: the greeting, then one reply per command."""

    def __init__(self, path, replies):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(str(path))
        self.sock.listen(1)
        self.replies, self.commands = replies, []
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        conn, _ = self.sock.accept()
        with conn:
            conn.sendall(b"0001 BIRD 2.0.12 ready.\n")
            stream = conn.makefile("rb")
            self.commands.append(stream.readline().decode().rstrip("\n"))
            conn.sendall(self.replies)


# `show protocols` as BIRD 2.0.12 sends it (table rows after the first are continuations, an async message between).
BIRD_SOCKET_PROTOCOLS = (b"2002-Name       Proto      Table      State  Since         Info\n"
                         b"1002-device1    Device     ---        up     07:02:45.791\n"
                         b" lvs_vip_203_0_113_50 Static     master4    up     07:06:09.868\n"
                         b"+Reconfiguration in progress\n"
                         b" upstream   BGP        ---        start  07:06:10.237  Active        Socket: Connection refused\n"
                         b"0000 \n")


def test_the_control_socket_reads_as_birdc_prints(tmp_path):
    gate = gate_module()
    bird = FakeBird(tmp_path / "bird.ctl", BIRD_SOCKET_PROTOCOLS)
    rc, text = gate.bird_query("show protocols", path=str(tmp_path / "bird.ctl"))
    assert rc == 0 and bird.commands == ["show protocols"]
    assert gate.parse_protocols(text) == gate.parse_protocols(BIRDC_PROTOCOLS)


@pytest.mark.parametrize("reply,why", [
    (b"9001 syntax error, unexpected CF_SYM_UNDEFINED\n", "syntax error"),
    (b"8003 No protocols match\n", "No protocols"),
    (b"1002-device1    Device\n", "closed"),  # the reply's last line never comes
    (b"garbage\n", "unexpected line"),
])
def test_a_failed_or_broken_reply_is_no_table(tmp_path, reply, why):
    FakeBird(tmp_path / "bird.ctl", reply)
    rc, text = gate_module().bird_query("show protocols", path=str(tmp_path / "bird.ctl"))
    assert rc == 1 and why in text


def test_no_bird_is_no_table(tmp_path):
    assert gate_module().bird_query("show protocols", path=str(tmp_path / "none.ctl"))[0] == 1


def test_birdc_protocols_are_parsed():
    out = gate_module().parse_protocols(BIRDC_PROTOCOLS)
    assert out["lvs_vip_203_0_113_50"] == {"proto": "Static", "state": "up", "info": ""}
    assert out["upstream"]["state"] == "start" and out["upstream"]["info"].startswith("Active")


def render(model: dict, host: str = "lb1") -> str:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(ROLE / "templates")), trim_blocks=True,
                             lstrip_blocks=False, undefined=jinja2.StrictUndefined)
    return env.get_template("bird.conf.j2").render(_bgp_model=model, inventory_hostname=host,
                                                   ansible_managed="managed")


def test_bird_config_announces_each_vip_through_a_disabled_static_protocol():
    text = render(lvs_normalize_bgp(BGP, SERVICES, SOURCES))
    assert "router id 198.51.100.11;" in text
    assert "protocol static lvs_vip_203_0_113_50 {\n    ipv4;\n    disabled yes;\n" \
           "    route 203.0.113.50/32 blackhole;\n}" in text
    assert "route 2001:db8::50/128 blackhole;" in text
    assert "local 198.51.100.11 as 65001;" in text and "local 2001:db8::11 as 65001;" in text
    assert 'password "s3cret-key";' in text and text.count("password ") == 1
    assert text.count("bfd on;") == 1 and "protocol bfd lvs_bfd" in text
    assert text.count('export where proto ~ "lvs_vip_*";') == 2 and "import none;" in text
    assert "protocol kernel" not in text  # a director installs no route it hears


def gate_cfg(notrack=True):
    return {"notrack": notrack, "vips": [
        {"vip": "203.0.113.50", "services": [{"port": 80, "protocol": "tcp"}, {"port": 53, "protocol": "udp"}]},
        {"vip": "2001:db8::50", "services": [{"port": 443, "protocol": "tcp"}]}]}


def test_silence_and_notrack_rules_cover_only_the_anycast_services():
    rules = gate_module().wanted_rules(gate_cfg())
    silent, notrack = rules[("iptables", "lvsfleet-anycast-silent")], rules[("iptables", "lvsfleet-anycast")]
    assert [r[:3] for r in silent] == [["OUTPUT", "-s", "203.0.113.50"]] * 2
    assert "port-unreachable" in silent[0] and silent[1][silent[1].index("--sport") + 1] == "80"
    assert silent[1][silent[1].index("--tcp-flags") + 1:][:2] == ["RST", "RST"]  # no reset for udp 53
    assert sorted((r[r.index("-p") + 1], r[r.index("--dport") + 1]) for r in notrack) == [("tcp", "80"),
                                                                                        ("udp", "53")]
    assert "icmpv6" in rules[("ip6tables", "lvsfleet-anycast-silent")][0]
    assert gate_module().wanted_rules(gate_cfg(notrack=False))[("iptables", "lvsfleet-anycast")] == []


def test_rules_of_vips_no_longer_configured_are_deleted(monkeypatch):
    """`iptables -S` as the kernel lists it: the old per-VIP NOTRACK rule (every port) and a removed VIP's rules
    go; rules already in place stay; other rules are never touched."""
    gate = gate_module()
    listing = {
        ("iptables", "raw"): ["-P PREROUTING ACCEPT",
                              '-A PREROUTING -d 203.0.113.50/32 -m comment --comment lvsfleet-anycast -j NOTRACK',
                              '-A PREROUTING -d 203.0.113.50/32 -p tcp -m tcp --dport 80 -m comment --comment '
                              'lvsfleet-anycast -j NOTRACK',
                              '-A PREROUTING -d 192.0.2.9/32 -m comment --comment "someone else" -j NOTRACK'],
        ("iptables", "filter"): ['-A OUTPUT -s 203.0.113.99/32 -p tcp -m tcp --tcp-flags RST RST -m comment '
                                 '--comment lvsfleet-anycast-silent -j DROP'],
    }
    calls = []

    def fake_run(argv, **kw):
        calls.append(argv)
        tool, table = argv[0], argv[argv.index("-t") + 1]
        if "-S" in argv:
            return subprocess.CompletedProcess(argv, 0, "\n".join(listing.get((tool, table), [])) + "\n", "")
        if "-C" in argv:
            present = any(gate.rule_key(shlex.split(line)) == gate.rule_key(argv)
                          for line in listing.get((tool, table), []))
            return subprocess.CompletedProcess(argv, 0 if present else 1, "", "")
        return subprocess.CompletedProcess(argv, 0, "", "")

    monkeypatch.setattr(gate.subprocess, "run", fake_run)
    gate.ensure_rules(gate_cfg())
    deleted = sorted((c for c in calls if "-D" in c), key=lambda c: c[c.index("-D") + 1], reverse=True)
    added = [c for c in calls if "-A" in c]
    assert [c[c.index("-D") + 1:c.index("-D") + 3] for c in deleted] == [
        ["PREROUTING", "-d"], ["OUTPUT", "-s"]], deleted
    assert "203.0.113.50/32" in deleted[0] and "--dport" not in deleted[0] and "203.0.113.99/32" in deleted[1]
    assert not any("someone else" in c for c in deleted)
    assert not any("--dport" in c and "80" in c and c[0] == "iptables" for c in added)  # already there
    assert any(c[0] == "iptables" and "udp" in c and "53" in c for c in added)



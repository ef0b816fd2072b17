"""The anycast model on the anycast lab (inventory/lab-ecmp): BGP sessions, ECMP over three directors, health-gated
announcements, rolling operations and drills under load, each counting lost requests.

Tests named *drill* are long or destructive and run with `make drills` (this scenario with `-k drill`)."""
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "resources"))

from labtest import LAB, REPO, Load, Stream, lab_host, recap, record  # noqa: E402

sys.path.insert(0, str(REPO / "lab"))
from lab import service_conns  # noqa: E402

INVENTORY = REPO / "inventory" / "lab-ecmp"
CHANGE = Path(__file__).resolve().parents[1] / "vars" / "change.yml"
VIP = "203.0.113.50"
TARGET = f"{VIP}:80"
DIRECTORS = {"lb1": "198.51.100.11", "lb2": "198.51.100.12", "lb3": "198.51.100.13"}
NAME_OF = {v: k for k, v in DIRECTORS.items()}
ENV = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0",
           LVSFLEET_LAB="ecmp")
GATE = "/usr/local/libexec/lvsfleet/lvsfleet-bgp-gate"
RESULTS = "ecmp.json"


def playbook(name: str, *args: str) -> tuple[int, str, float]:
    t0 = time.monotonic()
    p = subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(INVENTORY),
                        str(REPO / "playbooks" / name), *args], capture_output=True, text=True, env=ENV)
    return p.returncode, p.stdout + p.stderr, round(time.monotonic() - t0, 1)


def nexthops() -> set[str]:
    """The directors the router sends the VIP's traffic to (its kernel route, which BIRD installs)."""
    routes = json.loads(lab_host("router").check_output("ip -j route show %s", VIP) or "[]")
    out = set()
    for r in routes:
        for hop in r.get("nexthops", [r]):
            if hop.get("gateway"):
                out.add(NAME_OF.get(hop["gateway"], hop["gateway"]))
    return out


def gate(name: str) -> dict:
    return json.loads(lab_host(name).check_output(f"{GATE} status"))


def wait_nexthops(want: set[str], limit: float = 60) -> float:
    t0 = time.monotonic()
    while nexthops() != want:
        assert time.monotonic() - t0 < limit, f"router nexthops {sorted(nexthops())}, want {sorted(want)}"
        time.sleep(0.5)
    return round(time.monotonic() - t0, 2)


# Runs on the router: the VIP's nexthops every 0.1 s, one JSON line each time the set changes.
ROUTES = r"""
import json, subprocess, sys, time
vip, seconds = sys.argv[1], float(sys.argv[2])
end, last = time.monotonic() + seconds, None
while time.monotonic() < end:
    out = subprocess.run(["ip", "-j", "route", "show", vip], capture_output=True, text=True).stdout or "[]"
    hops = sorted(h["gateway"] for r in json.loads(out) for h in r.get("nexthops", [r]) if h.get("gateway"))
    if hops != last:
        print(json.dumps(hops), flush=True)
        last = hops
    time.sleep(0.1)
"""


class RouteWatch(Stream):
    """The router's nexthops for the VIP over time: [(controller time, {director, ...})]."""

    def __init__(self, seconds: float):
        self.changes: list[tuple[float, set[str]]] = []
        super().__init__("router", ROUTES, VIP, str(seconds))

    def take(self, hops, at: float) -> None:
        self.changes.append((at, {NAME_OF.get(h, h) for h in hops}))

    def stop(self) -> list:
        self.kill()
        return self.changes

    def first(self, predicate, after: float = 0) -> float | None:
        return next((t for t, hops in self.changes if t >= after and predicate(hops)), None)


def test_sessions_established_and_vip_multipath():
    """Every director has its BGP session up and announces the VIP; the router has one multipath route over all."""
    for name in DIRECTORS:
        st = gate(name)
        assert st["sessions"] and all(s["state"] == "up" and "Established" in s["info"]
                                      for s in st["sessions"].values()), (name, st["sessions"])
        assert st["vips"][VIP]["announced"], (name, st["vips"])
    assert nexthops() == set(DIRECTORS)


def test_bird_config_keeps_the_session_password_private():
    """The rendered BIRD configuration holds the TCP MD5 password: readable by root and BIRD's group only."""
    f = lab_host("lb1").file("/etc/bird/bird.conf")
    assert (f.user, f.group, f.mode) == ("root", "bird", 0o640)
    assert "password " in f.content_string


def test_node_exporter_without_a_metrics_address_listens_on_loopback_only():
    """This inventory sets no lvs_metrics_address: node_exporter (no authentication) must not answer on the
    directors' other addresses, VIPs included."""
    for name in DIRECTORS:
        listening = lab_host(name).check_output("ss -Hltn sport = :9100").split()
        assert "127.0.0.1:9100" in listening and not [w for w in listening if w.endswith(":9100")
                                                       and w != "127.0.0.1:9100"], (name, listening)


def test_notrack_and_silence_rules_cover_only_the_anycast_service_and_go_with_their_vip():
    """The gate's firewall rules: connection tracking off and resets dropped for tcp/80 of the VIP only (sshd, BIRD
    and node_exporter keep stateful firewalling); a rule for a VIP no longer configured (left by an older
    configuration) is deleted when the gate starts."""
    host = lab_host("lb1")
    conntrack = host.file("/proc/sys/net/netfilter/nf_conntrack_max").exists
    raw = [ln for ln in host.check_output("iptables -w 10 -t raw -S PREROUTING").splitlines()
           if "lvsfleet-anycast" in ln]
    out = [ln for ln in host.check_output("iptables -w 10 -S OUTPUT").splitlines() if "lvsfleet-anycast" in ln]
    assert len(raw) == (1 if conntrack else 0), raw
    assert all(f"-d {VIP}/32 -p tcp -m tcp --dport 80 " in ln for ln in raw), raw
    assert any("--sport 80 --tcp-flags RST RST" in ln for ln in out) and all(
        "--sport 80" in ln or "icmp" in ln for ln in out), out
    stale = ["-d", "192.0.2.77", "-m", "comment", "--comment", "lvsfleet-anycast", "-j", "NOTRACK"]
    host.run_expect([0], "iptables -w 10 -t raw -A PREROUTING " + " ".join(stale))
    host.run_expect([0], "iptables -w 10 -A OUTPUT -s 192.0.2.77 -p tcp --tcp-flags RST RST -m comment "
                         "--comment lvsfleet-anycast-silent -j DROP")
    host.run_expect([0], "systemctl restart lvsfleet-bgp-gate")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        rules = host.check_output("iptables -w 10 -t raw -S PREROUTING; iptables -w 10 -S OUTPUT")
        if "192.0.2.77" not in rules:
            break
        time.sleep(1)
    assert "192.0.2.77" not in rules, rules
    assert f"-s {VIP}/32 -p tcp -m tcp --sport 80" in rules, "the configured rules stay"
    wait_nexthops(set(DIRECTORS))  # the restarted gate announces again


def test_the_bgp_gate_is_sandboxed():
    from sandbox import EXPOSURE_MAX, exposure
    for name in DIRECTORS:
        level = exposure(lab_host(name), "lvsfleet-bgp-gate")
        record(f"sandbox_{name}_lvsfleet-bgp-gate", file="sandbox.json", exposure=level)
        assert level <= EXPOSURE_MAX, (name, level)


def test_traffic_spread_over_all_directors():
    """The demo: requests through the router, each director's share from its own IPVS counters, all answered."""
    p = subprocess.run(LAB + ["ecmp-demo", TARGET, "300"], capture_output=True, text=True, env=ENV)
    print(p.stdout)
    result = json.loads(p.stdout.splitlines()[-2])
    assert p.stdout.splitlines()[-1].startswith("ecmp: 300/300 requests via VIP"), p.stdout
    assert result["ok"] == 300 and all(n > 0 for n in result["by_director"].values()), result
    record("spread", RESULTS, requests=300, by_director=result["by_director"], by_server=result["by_server"])


def test_drill_maintenance_moves_traffic_away_and_back_dropping_nothing():
    """maintenance.yml start withdraws lb2's announcement (the router drops it, lb2 gets no new connections) and
    end brings it back, under load, with no request lost."""
    watch = RouteWatch(600)
    load = Load(1500, targets=(TARGET,))
    try:
        rc, out, start_s = playbook("maintenance.yml", "-e", "director=lb2", "-e", "maintenance=start")
        assert rc == 0, out[-3000:]
        assert nexthops() == {"lb1", "lb3"}
        assert gate("lb2")["vips"][VIP]["reason"] == "maintenance"
        time.sleep(4.5)  # IPVS counters are refreshed every 2 s: what came before the withdrawal is in them now
        before = service_conns("lb2", TARGET)
        time.sleep(3)
        assert service_conns("lb2", TARGET) == before, "lb2 still receives new connections while withdrawn"
        rc, out, end_s = playbook("maintenance.yml", "-e", "director=lb2", "-e", "maintenance=end")
        assert rc == 0, out[-3000:]
        assert nexthops() == set(DIRECTORS)
    finally:
        tally = load.stop()
        changes = watch.stop()
    assert min(len(h) for _, h in changes) >= 2, changes
    record("maintenance", RESULTS, requests=tally["requests"], ok=tally["ok"], lost=tally["failed"],
           errors=tally.get("errors"), p99_ms=tally.get("p99_ms"), start_s=start_s, end_s=end_s)
    assert tally["failed"] == 0, tally


def test_rolling_reload_drops_nothing():
    """reload.yml with a changed configuration: one director at a time withdraws, reloads, is verified and
    announces again; under load, no request is lost and the router never has fewer than two directors. (The
    lab keeps the change: `make test` takes it down next, `make drills` deploys the inventory again first.)"""
    watch = RouteWatch(900)
    load = Load(3000, targets=(TARGET,))
    try:
        rc, out, change_s = playbook("reload.yml", "-e", f"@{CHANGE}")
        assert rc == 0, out[-4000:]
        changed = {h for h, r in recap(out).items() if r.get("changed")}
    finally:
        tally = load.stop()
        changes = watch.stop()
    assert nexthops() == set(DIRECTORS)
    sets = [h for _, h in changes]
    assert min(len(h) for h in sets) >= 2, sets
    withdrawn = [d for prev, cur in zip(sets, sets[1:]) for d in prev - cur]
    assert sorted(withdrawn) == sorted(DIRECTORS), (withdrawn, sets)  # each director once, one at a time
    record("rolling_reload", RESULTS, requests=tally["requests"], ok=tally["ok"], lost=tally["failed"],
           errors=tally.get("errors"), p99_ms=tally.get("p99_ms"), reload_s=change_s,
           per_director_s=round(change_s / 3, 1), changed_hosts=sorted(changed))
    assert tally["failed"] == 0, tally


# keepalived's checker runs as root; forwarded client packets have no local socket, so this owner match rejects
# the checks of lb3 alone and leaves the traffic it forwards alone.
BLOCK_CHECKS = ["OUTPUT", "-p", "tcp", "-d", "198.51.100.0/24", "--dport", "80", "-m", "owner", "--uid-owner", "0",
                "-m", "comment", "--comment", "lvsfleet-test-checks", "-j", "REJECT", "--reject-with", "tcp-reset"]


def test_every_real_server_failing_on_one_director_withdraws_that_director_only():
    """lb3's health checks fail for both real servers (they are fine for lb1 and lb2): lb3 alone withdraws the
    VIP; when its checks pass again it announces it again."""
    lb3 = lab_host("lb3")
    watch = RouteWatch(300)
    load = Load(1000, targets=(TARGET,))
    try:
        t0 = time.monotonic()
        lb3.check_output("iptables -w -I " + " ".join(BLOCK_CHECKS))
        withdrawn_s = wait_nexthops({"lb1", "lb2"}, 30)
        assert "quorum" in gate("lb3")["vips"][VIP]["reason"]
        for name in ("lb1", "lb2"):
            assert gate(name)["vips"][VIP]["announced"], name
        time.sleep(3)
        assert nexthops() == {"lb1", "lb2"}
        t1 = time.monotonic()
        lb3.check_output("iptables -w -D " + " ".join(BLOCK_CHECKS))
        back_s = wait_nexthops(set(DIRECTORS), 30)
    finally:
        lb3.run("iptables -w -D " + " ".join(BLOCK_CHECKS))
        tally = load.stop()
        changes = watch.stop()
    assert all(h >= {"lb1", "lb2"} for _, h in changes), changes
    lost = tally["failed"]
    record("one_director_real_servers_fail", RESULTS, requests=tally["requests"], lost=lost, errors=tally.get("errors"),
           withdrawn_after_s=withdrawn_s, announced_again_after_s=back_s,
           route_gone_after_s=round((watch.first(lambda h: "lb3" not in h, t0) or t0) - t0, 2),
           route_back_after_s=round((watch.first(lambda h: "lb3" in h, t1) or t1) - t1, 2))
    # Requests reaching lb3 between its checker taking the real servers out and the router dropping its route
    # (one gate interval and a BGP update) find no real server there.
    assert lost <= 0.02 * tally["requests"], tally


# Runs on the client: `n` keep-alive HTTP connections to the VIP, each sending a request every `every` seconds for
# `seconds`; one JSON line at the end: how many connections kept working to the end, and the real server each had.
HELD = r"""
import json, socket, sys, time
vip, port, n, every, seconds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
conns, broken, servers = [], {}, {}
for i in range(n):
    s = socket.create_connection((vip, port), timeout=3)
    s.settimeout(15)  # a flow whose director died waits for the router to move it (hold time), then TCP retransmits
    conns.append(s)
def ask(i, s):
    s.sendall(b"GET / HTTP/1.1\r\nHost: lab\r\n\r\n")
    data = b""
    while b"\r\n\r\n" not in data or not data.rstrip().endswith((b"rs1", b"rs2")):
        chunk = s.recv(4096)
        if not chunk:
            raise OSError("closed")
        data += chunk
    name = data.rstrip().split()[-1].decode()
    if servers.setdefault(i, name) != name:
        raise OSError(f"moved from {servers[i]} to {name}")
end = time.monotonic() + seconds
print(json.dumps({"event": "open"}), flush=True)
while time.monotonic() < end:
    for i, s in enumerate(conns):
        if i in broken:
            continue
        try:
            ask(i, s)
        except OSError as exc:
            broken[i] = str(exc)
    time.sleep(every)
print(json.dumps({"connections": n, "survived": n - len(broken), "broken": broken,
                  "servers": sorted(servers.values())}), flush=True)
"""


class Held(Stream):
    """Long-lived connections through the VIP (HELD) and what became of them."""

    def __init__(self, n: int, seconds: float, every: float = 0.5):
        self.result = None
        self.opened = None
        super().__init__("client", HELD, VIP, "80", str(n), str(every), str(seconds))

    def take(self, item, at: float) -> None:
        if item.get("event") == "open":
            self.opened = at
        else:
            self.result = item

    def wait(self) -> dict:
        self.proc.wait()
        self.thread.join()
        return self.result


def test_drill_director_power_off():
    """Cut lb2's power under load, with 24 long-lived connections open: measure when the router drops lb2's route
    (BGP hold time: no goodbye from a dead director), the requests lost meanwhile, and how many established
    connections survive (mh on lb1 and lb3 picks the real server they already had). lb2 then boots and announces
    again by itself."""
    assert nexthops() == set(DIRECTORS)
    watch = RouteWatch(400)
    held = Held(24, 45)
    load = Load(2000, targets=(TARGET,))
    try:
        while held.opened is None:
            time.sleep(0.2)
        time.sleep(5)
        t0 = time.monotonic()
        subprocess.run(LAB + ["power-off", "lb2"], check=True, env=ENV)
        gone_s = wait_nexthops({"lb1", "lb3"}, 30)
        kept = held.wait()
        during = load.stop()
        t1 = time.monotonic()
        subprocess.run(LAB + ["power-on", "lb2"], check=True, env=ENV)
        back_s = wait_nexthops(set(DIRECTORS), 180)
    finally:
        changes = watch.stop()
        subprocess.run(LAB + ["power-on", "lb2"], env=ENV)  # already running: refused, harmless
    route_gone = (watch.first(lambda h: "lb2" not in h, t0) or time.monotonic()) - t0
    record("power_off", RESULTS, requests=during["requests"], lost=during["failed"], errors=during["errors"],
           longest_gap_s=during["longest_gap_s"], route_gone_after_s=round(route_gone, 2), waited_s=gone_s,
           held_connections=kept["connections"], held_survived=kept["survived"], held_broken=kept["broken"],
           back_after_power_on_s=back_s, boot_to_announce_s=round(time.monotonic() - t1, 1))
    assert route_gone <= 3 + 1.5, changes  # hold time 3 s (inventory/lab-ecmp), plus polling and BGP processing
    assert kept["survived"] == kept["connections"], kept


def test_drill_director_added_under_load():
    """A new director joins under load: lb3 is withdrawn (maintenance), replaced by a fresh server (new disk, new
    host key), then deployed by site.yml limited to it. Nothing is lost; afterwards lb3 takes its share."""
    load = Load(3000, targets=(TARGET,))
    try:
        rc, out, _ = playbook("maintenance.yml", "-e", "director=lb3", "-e", "maintenance=start")
        assert rc == 0, out[-3000:]
        subprocess.run(LAB + ["reimage", "lb3"], check=True, env=ENV)
        assert nexthops() == {"lb1", "lb2"}
        rc, out, deploy_s = playbook("site.yml", "--limit", "lb3:localhost")
        assert rc == 0, out[-4000:]
        joined_s = wait_nexthops(set(DIRECTORS), 60)
        before = service_conns("lb3", TARGET)
        time.sleep(5)  # more than one refresh of the counters (every 2 s)
        share = service_conns("lb3", TARGET) - before
    finally:
        tally = load.stop()
    record("director_added", RESULTS, requests=tally["requests"], lost=tally["failed"], errors=tally["errors"],
           deploy_s=deploy_s, joined_after_s=joined_s, lb3_connections_in_5s=share)
    assert share > 0
    assert tally["failed"] == 0, tally

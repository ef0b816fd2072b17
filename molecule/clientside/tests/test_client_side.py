"""Client-side balancing on the lab client (role client_side, inventory/lab/group_vars/client_side).

The client's own processes reach 192.0.2.10:80 (the directors' `web` service at a VIP of the client's own)
through IPVS on the client: with keepalived stopped on both directors, every request still reaches rs1
and rs2. DNS at 192.0.2.53 is answered by the client's own resolver while it is healthy, by rs1's and
rs2's when it is killed, and by the client's again once it is back; lost queries are counted.
"""
import json
import subprocess
import time

from conftest import LAB, REPO, probe, record

WEB = "192.0.2.10:80"
DNS = "192.0.2.53:53"
# dns-local's check (group_vars/client_side): interval 1 s, timeout 1 s, retries 1 (one slow answer on a
# busy host does not fail it over). A dead resolver is noticed at the latest (retries + 1) intervals plus the
# timeout after it died; one second for keepalived to act.
DNS_BOUND = 1 * (1 + 1) + 1 + 1
DIRECTOR_VIP = "198.51.100.10"


def ssh(host, *cmd, check=True) -> str:
    return subprocess.run(LAB + ["ssh", host, *cmd], check=check, stdout=subprocess.PIPE, text=True).stdout


def holds(host: str, vip: str) -> bool:
    return f" {vip}/" in ssh(host, "ip", "-o", "-4", "addr", "show", "dev", "lan0")


def wait_for(what, predicate, limit: float) -> float:
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit:
        if predicate():
            return time.monotonic() - t0
        time.sleep(0.5)
    raise AssertionError(f"{what}: not within {limit} s")


def test_vips_live_on_the_clients_dummy_device(client):
    out = client.check_output("ip -o -4 addr show dev lvsclient0")
    assert "192.0.2.10/32" in out and "192.0.2.53/32" in out
    # connections to a VIP leave from the client's address on the real servers' segment
    assert "src 203.0.113.100" in client.check_output("ip -4 route show table local 192.0.2.10")
    table = client.check_output("ipvsadm-save -n")
    assert "-A -t 192.0.2.10:80 -s rr" in table and "-A -u 192.0.2.53:53 -s fo" in table
    assert "-a -t 192.0.2.10:80 -r 203.0.113.21:8080 -m" in table
    # keepalived runs its checker only: no VRRP instance in its configuration
    assert "vrrp_instance" not in client.check_output("cat /etc/keepalived/keepalived.conf")
    assert client.check_output("sysctl -n net.ipv4.conf.all.arp_ignore") == "1"


def test_requests_reach_the_real_servers_with_both_directors_stopped():
    for lb in ("lb1", "lb2"):
        ssh(lb, "systemctl", "stop", "keepalived")
    try:
        for lb in ("lb1", "lb2"):
            wait_for(f"{lb} releases {DIRECTOR_VIP}", lambda lb=lb: not holds(lb, DIRECTOR_VIP), 30)
        # the directors are out: their VIP answers nothing now
        through_directors = probe(f"{DIRECTOR_VIP}:80", 3)
        assert through_directors["ok"] == 0, through_directors
        n = 300
        result = probe(WEB, n)
        record("client_side_directors_stopped", file="clientside.json", requests=n, ok=result["ok"],
               by_server=result["by_server"], errors=result["errors"], p50_ms=result["p50_ms"])
        print(f"client-side: {result['ok']}/{n} requests via VIP {WEB} with both directors stopped -> "
              + " ".join(f"{k}={v}" for k, v in result["by_server"].items()))
        assert result["ok"] == n, result
        assert set(result["by_server"]) == {"rs1", "rs2"}, result
    finally:
        for lb in ("lb1", "lb2"):
            ssh(lb, "systemctl", "start", "keepalived")
        wait_for(f"lb1 holds {DIRECTOR_VIP} again", lambda: holds("lb1", DIRECTOR_VIP), 90)


def remote_dns_entries() -> int:
    """UDP connection entries on the client that still send queries to rs1's or rs2's resolver."""
    return sum(1 for line in ssh("client", "ipvsadm", "-L", "-n", "-c").splitlines()
               if line.startswith("UDP") and line.split()[-1].endswith(":5354"))


def test_dns_goes_local_fails_over_to_the_remote_resolvers_and_comes_back():
    # A UDP connection entry keeps its real server until it expires; a new query from a source port an
    # earlier run used would follow it. The role sets the UDP timeout to 10 s: wait for earlier entries to go.
    timeouts = ssh("client", "ipvsadm", "-L", "--timeout")  # "Timeout (tcp tcpfin udp): 900 120 10"
    assert timeouts.split()[-1] == "10", timeouts
    wait_for("earlier UDP entries to the remote resolvers expire", lambda: remote_dns_entries() == 0, 30)
    script = (REPO / "lab" / "dnsload.py").read_text()
    load = subprocess.Popen(LAB + ["ssh", "client", "python3", "-", DNS, "--rate", "50", "--timeout", "0.5",
                                   "--max-seconds", "90"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    load.stdin.write(script)
    load.stdin.close()
    try:
        time.sleep(4)
        # one command line for the guest's shell: the kill, then the guest's clock (the load's clock)
        killed = float(ssh("client", "systemctl kill -s KILL lvsfleet-lab-resolver && date +%s.%N").strip())
        time.sleep(10)
        restored = float(ssh("client", "systemctl start lvsfleet-lab-resolver && date +%s.%N").strip())
        time.sleep(10)
    finally:
        ssh("client", "systemctl", "start", "lvsfleet-lab-resolver")
        ssh("client", "touch", "/tmp/lvsfleet-dnsload.stop")
    out = json.loads(load.stdout.read().strip().splitlines()[-1])
    load.wait(timeout=60)
    events = out["events"]
    # a query sent up to its timeout (0.5 s) before the kill may still have been waiting for its answer
    before = [w for t, w in events if t < killed - 0.5]
    outage = [(t, w) for t, w in events if killed <= t < killed + DNS_BOUND]
    remote = [w for t, w in events if killed + DNS_BOUND <= t < restored]
    after = [w for t, w in events if t >= restored + DNS_BOUND]
    lost_at = [t for t, w in events if w is None]
    first_remote = min((t for t, w in events if t >= killed and w in ("rs1", "rs2")), default=None)
    first_local_again = min((t for t, w in events if t >= restored and w == "client"), default=None)
    figures = {
        "queries": out["sent"], "answered": out["answered"], "lost": out["lost"], "by_server": out["by_server"],
        "lost_in_outage": sum(1 for _, w in outage if w is None),
        "failover_s": round(first_remote - killed, 2) if first_remote else None,
        "back_local_s": round(first_local_again - restored, 2) if first_local_again else None,
        "local_share_after_restore": round(after.count("client") / max(len(after), 1), 3),
        "bound_s": DNS_BOUND,
        "lost_at_s_after_kill": [round(t - killed, 2) for t in lost_at],
        "restored_s_after_kill": round(restored - killed, 2),
    }
    record("dns_local_redirect", file="clientside.json", **figures)
    assert before and set(before) == {"client"}, f"before the kill: {set(before)}"
    assert remote and None not in remote and set(remote) <= {"rs1", "rs2"}, \
        f"between the bound and the restore, answers came from {set(remote)}"
    assert all(killed - 0.5 <= t < killed + DNS_BOUND for t in lost_at), \
        f"queries lost outside the {DNS_BOUND} s after the kill: {[round(t - killed, 2) for t in lost_at]}"
    assert after and None not in after and figures["local_share_after_restore"] >= 0.9, figures

"""Each health-check type notices a dead backend within interval x retries + timeout + 1 s, and its return.

Timing is taken on the controller: the stop command's return on rs1, and the arrival of the director's
report (a poller reading /proc/net/ip_vs every 50 ms, streamed over SSH) that the real server left.
"""
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "resources"))

from labtest import LAB, Poller  # noqa: E402

RETRIES, TIMEOUT = 1, 2
# interval per type as in inventory/lab/group_vars/all/health_services.yml (script checks poll every 10 s)
INTERVAL = {"mysql": 10, "mysql-auth": 10}


def bound(kind: str) -> int:
    return INTERVAL.get(kind, 3) * RETRIES + TIMEOUT + 1


RS, VIP = "203.0.113.21", "198.51.100.30"
# type: (protocol, VIP port, real-server port, unit on rs1)
TYPES = {
    "http": ("tcp", 80, 8080, "nginx"),
    "https": ("tcp", 443, 8443, "lvsfleet-lab-backend@https-8443"),
    "tcp": ("tcp", 9000, 9000, "lvsfleet-lab-backend@tcp-9000"),
    "udp": ("udp", 9001, 9001, "lvsfleet-lab-backend@udp-9001"),
    "dns": ("udp", 53, 5353, "lvsfleet-lab-backend@dns-5353"),
    "smtp": ("tcp", 25, 2525, "lvsfleet-lab-backend@smtp-2525"),
    "mysql": ("tcp", 3306, 3306, "lvsfleet-lab-backend@mysql-3306"),
    "mysql-auth": ("tcp", 3307, 3307, "mariadb"),  # MariaDB; the check logs in and pings
    "syslog-udp": ("udp", 514, 5514, "lvsfleet-lab-backend@syslog-udp-5514"),
    "syslog-tcp": ("tcp", 514, 5514, "lvsfleet-lab-backend@syslog-tcp-5514"),
}
RESULTS = {}


def ssh(host, *cmd):
    subprocess.run(LAB + ["ssh", host, *cmd], check=True)


@pytest.mark.parametrize("kind", list(TYPES))
def test_dead_backend_leaves_and_returns(kind):
    proto, port, rport, unit = TYPES[kind]
    poller = Poller(proto, VIP, port, RS, rport)
    try:
        assert poller.wait_for("1", 30), f"{kind}: {RS}:{rport} never in the table before the test"
        ssh("rs1", "systemctl", "stop", unit)
        t_stop = time.monotonic()
        t_gone = poller.wait_for("0", 30)
        assert t_gone, f"{kind}: {RS}:{rport} still in the table 30 s after its backend stopped"
        ssh("rs1", "systemctl", "start", unit)
        t_start = time.monotonic()
        t_back = poller.wait_for("1", 30)
        assert t_back, f"{kind}: {RS}:{rport} did not return within 30 s of its backend starting"
    finally:
        poller.close()
        subprocess.run(LAB + ["ssh", "rs1", "systemctl", "start", unit])
    RESULTS[kind] = (round(t_gone - t_stop, 1), round(t_back - t_start, 1))
    print(f"\nhealth {kind}: removed after {t_gone - t_stop:.1f} s, back after {t_back - t_start:.1f} s "
          f"(bound {bound(kind)} s)")
    assert t_gone - t_stop <= bound(kind), f"{kind}: detection took {t_gone - t_stop:.1f} s > {bound(kind)} s"


def table_lines(service: str) -> list[str]:
    """lb1's real-server lines of one virtual service ("tcp 198.51.100.30:3308")."""
    proto, addr = service.split()
    out = subprocess.run(LAB + ["ssh", "lb1", "ipvsadm", "-Ln", "--" + proto + "-service", addr],
                         stdout=subprocess.PIPE, text=True, check=True).stdout
    return [line for line in out.splitlines() if "->" in line and "RemoteAddress" not in line]


def settled(service: str, want: set, seconds: int = 40) -> list[str]:
    """Poll until the service's real servers are exactly `want` (addresses), or give up; return the lines."""
    end = time.monotonic() + seconds
    while True:
        lines = table_lines(service)
        if {line.split()[1] for line in lines} == want or time.monotonic() > end:
            return lines
        time.sleep(2)


def test_authenticated_mysql_check_keeps_a_wrong_password_out():
    good = settled(f"tcp {VIP}:3307", {"203.0.113.21:3307", "203.0.113.22:3307"})
    assert len(good) == 2, f"with the vaulted password both MariaDB servers are in: {good}"
    # Same servers, wrong password: a greeting alone must not be enough.
    bad = settled(f"tcp {VIP}:3308", set(), seconds=25)
    assert bad == [], f"hc-mysql-badauth: a wrong password let real servers in: {bad}"


def test_https_digest_admits_only_the_matching_body():
    # The backend answers its host name; the digest is MD5("rs1\n"): rs1 in, rs2 out.
    lines = settled(f"tcp {VIP}:4443", {"203.0.113.21:8443"})
    assert [line.split()[1] for line in lines] == ["203.0.113.21:8443"], lines


def test_virtual_server_group_serves_on_every_vip():
    for vip in (VIP, "198.51.100.31"):
        lines = settled(f"tcp {vip}:8000", {"203.0.113.21:8080", "203.0.113.22:8080"})
        assert len(lines) == 2, f"{vip}:8000 {lines}"
        out = subprocess.run(LAB + ["probe", f"{vip}:8000", "20"], stdout=subprocess.PIPE, text=True)
        summary = out.stdout.strip().splitlines()[-1]
        print(f"\nvirtual_server_group web-group {summary}")
        assert out.returncode == 0 and "rs1=" in summary and "rs2=" in summary, summary


def test_print_summary():
    print("\nhealth detection (removed s, returned s): " +
          ", ".join(f"{k}={v[0]}/{v[1]}" for k, v in RESULTS.items()))
    assert len(RESULTS) == len(TYPES)

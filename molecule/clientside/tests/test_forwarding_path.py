"""Checks through the forwarding path (health_check.via: forwarding on web-dr and web-tun).

rs1 loses the VIP clients reach it by: from lo (DR, 198.51.100.20) and from tunl0 (TUN, 198.51.100.21). Its
own address still answers (a plain TCP check of 203.0.113.21:8080 passes: the control), but the checks go
to the VIP through DR or IP-in-IP as the clients' packets do, so rs1 leaves the service within the check
bound; requests are counted while it leaves (lost) and after (none may be lost). Then rs1 gets its VIP
back and returns.
"""
import subprocess
import time

import pytest

from conftest import LAB, Load, Poller, record

RS = "203.0.113.21"
# web-dr/web-tun checks (inventory/lab/group_vars/all/services.yml): interval 2, timeout 2, retries 1,
# keepalived's delay_before_retry 1: the first failed probe starts within one interval, each try takes the
# timeout, a retry waits delay_before_retry; one second for keepalived to act.
INTERVAL, TIMEOUT, RETRIES, DELAY = 2, 2, 1, 1
BOUND = INTERVAL + (RETRIES + 1) * TIMEOUT + RETRIES * DELAY + 1


def ssh(host, *cmd, check=True) -> subprocess.CompletedProcess:
    return subprocess.run(LAB + ["ssh", host, *cmd], check=check, stdout=subprocess.PIPE, text=True)


@pytest.mark.parametrize("kind,vip,dev", [("dr", "198.51.100.20", "lo"), ("tun", "198.51.100.21", "tunl0")])
def test_real_server_without_its_vip_leaves_the_table(kind, vip, dev):
    poller = Poller("tcp", vip, 8080, RS, 8080, 90)  # lb1, the MASTER
    try:
        assert poller.wait_for("1", 10), f"rs1 is not in {vip}:8080 on lb1 before the drill"
        during = Load(0, targets=(f"{vip}:8080",), workers=4, timeout=1.0)
        ssh("rs1", "ip", "addr", "del", f"{vip}/32", "dev", dev)
        removed = time.monotonic()
        try:
            # the control: rs1's own address still answers, so a check of it would keep rs1 in the table
            control = ssh("lb1", "nc", "-z", "-w", "2", RS, "8080", check=False).returncode
            left = poller.wait_for("0", BOUND + 10)
            lost_while_leaving = during.stop()
            after = Load(300, targets=(f"{vip}:8080",), workers=4, timeout=1.0)
            time.sleep(2)
            after_tally = after.stop()
        finally:
            # the real server's boot-time applier puts its VIPs back (as at boot)
            ssh("rs1", "/usr/local/libexec/lvsfleet/lvsfleet-real-server", "--boot", "/etc/lvsfleet/real-server.json")
        back = poller.wait_for("1", BOUND + 10)
    finally:
        poller.close()
    figures = {"left_s": round(left - removed, 2) if left else None, "bound_s": BOUND,
               "lost_while_leaving": lost_while_leaving["failed"], "requests_while_leaving": lost_while_leaving["requests"],
               "requests_after": after_tally["requests"], "lost_after": after_tally["failed"],
               "after_by_server": after_tally.get("by_server"), "own_address_check_passes": control == 0,
               "back_s": round(back - removed, 2) if back else None}
    record(f"forwarding_path_check_{kind}", file="clientside.json", **figures)
    assert control == 0, "rs1's own address should still answer (the control)"
    assert left is not None and left - removed <= BOUND, figures
    assert after_tally["failed"] == 0 and after_tally["requests"] >= 300, figures
    assert set(after_tally.get("by_server") or {}) == {"rs2"}, figures
    assert back is not None, "rs1 did not return after its VIP came back"

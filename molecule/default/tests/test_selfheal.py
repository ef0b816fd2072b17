"""Self-healing directors, drilled under load (client requests time out after 1 s, failures counted):

- keepalived SIGKILLed on the MASTER (children first, as the OOM killer or `kill -9 $(pidof keepalived)` does):
  exactly one VIP holder within 3 x advert_int + 1 s, keepalived running again within 10 s, <= 0.1 % lost;
- the same on the BACKUP: nothing lost, the MASTER keeps the VIP throughout;
- keepalived SIGSTOPped on the MASTER for 20 s: the watchdog kills it after 1 s, systemd releases its VIPs
  and restarts it; measured like the kill.
Figures go to /var/lib/lvsfleet-lab/results/selfheal.json and are printed as MEASURED lines.
"""
import json
import time

import pytest

from conftest import AlertWatch, Load, Watch, lab_host, record

VIP = "198.51.100.10"
ADVERT_INT = 1
SINGLE_HOLDER_GOAL_S = 3 * ADVERT_INT + 1
RESTART_GOAL_S = 10
# keepalived back (<= 2 s) + lvsfleet-metrics' write (5 s) + scrape (5 s) + rule evaluation (5 s), with margin.
ALERT_GOAL_S = 30
TIMEOUT_S = 1.0


def state(name: str) -> str:
    return json.loads(lab_host(name).check_output("/usr/local/libexec/lvsfleet/vrrp-state"))["VI_LAB"]["state"]


def settle():
    """lb1 MASTER, lb2 BACKUP, one holder: the lab's resting state."""
    deadline = time.monotonic() + 60
    while (state("lb1"), state("lb2")) != ("MASTER", "BACKUP"):
        assert time.monotonic() < deadline, "the lab did not settle with lb1 MASTER"
        time.sleep(1)


def timeline(watches: dict, t0: float) -> list:
    """[(seconds after t0, {director: (holds VIP, keepalived PIDs)})] from the directors' sample streams."""
    events = sorted((t, name, s) for name, w in watches.items() for t, s in w)
    now, out = {}, []
    for t, name, s in events:
        now[name] = (VIP in s["addrs"], tuple(s["pids"]))
        if len(now) == len(watches):
            out.append((round(t - t0, 2), dict(now)))
    return out


def analyse(tl: list, victim: str, other: str, pids_before: tuple) -> dict:
    """Times from the signal (t = 0 in `tl`): the failover, until the victim (which preempts) starts taking
    the VIP back, and that failback."""
    after = [(t, s) for t, s in tl if t >= 0]
    holders = [(t, [n for n, (holds, _) in s.items() if holds]) for t, s in after]
    took = next((t for t, h in holders if other in h), None)
    failback = next((t for t, h in holders if took is not None and t > took and (other not in h or victim in h)),
                    None)
    failover = [(t, h) for t, h in holders if failback is None or t < failback]
    last_bad = max((t for t, h in failover if len(h) != 1), default=None)
    back = next((t for t, s in after if s[victim][1] and all(p > 0 for p in s[victim][1])
                 and not set(s[victim][1]) & set(pids_before)), None)
    return {"single_holder_after_s": 0.0 if last_bad is None else round(last_bad + 0.1, 2),
            "victim_released_s": next((t for t, h in holders if victim not in h), None), "other_took_s": took,
            "no_holder_samples": sum(1 for _, h in failover if not h),
            "two_holder_samples": sum(1 for _, h in failover if len(h) > 1),
            "failback_at_s": failback,
            "failback_no_holder_samples": sum(1 for t, h in holders if failback is not None and t >= failback and not h),
            "failback_two_holder_samples": sum(1 for t, h in holders if failback is not None and t >= failback
                                               and len(h) > 1),
            "keepalived_back_s": back}


def drill(victim: str, signal: str, seconds: float, min_requests: int, hold_s: float = 0) -> tuple:
    settle()
    pids_before = tuple(int(p) for p in lab_host(victim).check_output("pidof keepalived").split())
    load = Load(min_requests=min_requests, timeout=TIMEOUT_S)
    # The victim's watcher sends the signal itself, 5 s in, so its moment is on the same clock as the samples.
    watches = {n: Watch(n, seconds, *((signal, 5, hold_s) if n == victim else ())) for n in ("lb1", "lb2")}
    samples = {n: w.wait() for n, w in watches.items()}
    result = load.stop()
    assert watches[victim].signalled_at is not None, "the watcher did not signal keepalived"
    figures = analyse(timeline(samples, watches[victim].signalled_at), victim, "lb2" if victim == "lb1" else "lb1",
                      pids_before)
    figures.update({k: result[k] for k in ("requests", "failed", "errors", "longest_gap_s", "rps")})
    figures["lost_pct"] = round(100 * result["failed"] / max(result["requests"], 1), 3)
    figures["_t0"] = watches[victim].signalled_at
    return figures, result


def test_keepalived_killed_on_the_master():
    # Prometheus on the monitoring host must say so: keepalived died on lb1 and the VIP moved.
    alerts = AlertWatch(150)
    try:
        figures, result = drill("lb1", "KILL", seconds=25, min_requests=20000)
        t0 = figures.pop("_t0")
        restarted = alerts.wait_for("LvsfleetKeepalivedRestarted", 90, instance="lb1")
    finally:
        alerts.close()
    # (LvsfleetVipMoved is not timed here: the maintenance runs before this drill moved the VIPs minutes ago,
    # so it is usually firing already.)
    figures["alert_keepalived_restarted_after_s"] = None if restarted is None else round(restarted - t0, 1)
    record("kill_master", file="selfheal.json", goal_single_holder_s=SINGLE_HOLDER_GOAL_S,
           goal_alert_s=ALERT_GOAL_S, **figures)
    assert restarted is not None and 0 <= restarted - t0 <= ALERT_GOAL_S, figures  # not firing before the kill
    assert figures["single_holder_after_s"] <= SINGLE_HOLDER_GOAL_S, figures
    assert figures["keepalived_back_s"] is not None and figures["keepalived_back_s"] <= RESTART_GOAL_S, figures
    assert result["failed"] * 1000 <= result["requests"], figures


def test_keepalived_killed_on_the_backup():
    figures, result = drill("lb2", "KILL", seconds=18, min_requests=2000)
    figures.pop("_t0")
    record("kill_backup", file="selfheal.json", **figures)
    assert figures["no_holder_samples"] == 0 and figures["two_holder_samples"] == 0, figures
    assert figures["keepalived_back_s"] is not None and figures["keepalived_back_s"] <= RESTART_GOAL_S, figures
    assert result["failed"] == 0, figures


def test_keepalived_stopped_on_the_master_for_20_s():
    figures, result = drill("lb1", "STOP", seconds=32, min_requests=2000, hold_s=20)
    figures.pop("_t0")
    record("sigstop_master_20s", file="selfheal.json", goal_single_holder_s=SINGLE_HOLDER_GOAL_S, **figures)
    # The watchdog kills a keepalived stopped for 1 s; from then on it is the kill above.
    assert figures["single_holder_after_s"] <= SINGLE_HOLDER_GOAL_S, figures
    assert figures["keepalived_back_s"] is not None and figures["keepalived_back_s"] <= RESTART_GOAL_S, figures


@pytest.fixture(scope="module", autouse=True)
def rested():
    yield
    settle()

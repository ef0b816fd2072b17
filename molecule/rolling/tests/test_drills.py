"""Faults operators meet, drilled under load (make drills, molecule `rolling`): the BACKUP director rebooted in
the middle of a rolling reload, the controller killed between the install and the reload of the second director,
the MASTER's file system full when its turn comes,
a real server powered off and back, the link between the directors cut.
Figures in /var/lib/lvsfleet-lab/results/rolling.json (MEASURED lines)."""
import re
import subprocess
import time

from conftest import (CHANGE, ENV, LAB, AlertWatch, Load, config_sha, lab_host, playbook, playbook_argv, recap, record, rest, restore,
                      table, vrrp)

# The lab's web service checks: interval 2 s, 1 retry, 2 s timeout: out of the table within 2 x 1 + 2 + 1 s.
CHECK_BOUND_S = 2 * 1 + 2 + 1
CLIENT_TIMEOUT_S = 3.0
# keepalived's verdict, then lvsfleet-metrics' write (5 s), a scrape (5 s), the rule's for (5 s) and its evaluation (5 s).
ALERT_GOAL_S = 45
# The roll's install step as ansible-playbook prints it (a task of the keepalived role's `roll` entry point).
INSTALL_TASK = re.compile(r"TASK \[(\S+ : )?Install the validated configuration\]")


def wait(what: str, check, timeout: float = 120, step: float = 1):
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(step)


def test_backup_rebooted_in_the_middle_of_a_roll():
    rest()
    load = Load(min_requests=3000, timeout=CLIENT_TIMEOUT_S)
    change = ["-e", f"@{CHANGE}"]
    proc = subprocess.Popen(playbook_argv("reload.yml", *change), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, env=dict(ENV, PYTHONUNBUFFERED="1"))
    out, reboot = [], None
    for line in proc.stdout:
        out.append(line)
        if reboot is None and INSTALL_TASK.match(line):
            reboot = subprocess.Popen(LAB + ["reboot", "lb2"])  # lb2 drained, about to install: mid-roll
    rc = proc.wait()
    out = "".join(out)
    assert reboot is not None, "the roll never reached lb2's install step:\n" + out[-3000:]
    assert reboot.wait(timeout=300) == 0
    assert rc != 0 and ("UNREACHABLE" in out or "The roll stops here" in out), out[-3000:]
    # rolling.yml's roll play takes one director at a time in the plan's order (lb2, the BACKUP, first); once lb2
    # failed, no task of it may have run on lb1.
    assert re.search(r"lb2: VRRP [^\"]*roll step 1 of 2", out), "lb2 must roll first:\n" + out[-3000:]
    assert "PLAY [Roll the directors one at a time" in out, out[-3000:]
    roll = out.split("PLAY [Roll the directors one at a time", 1)[1].split("\nPLAY [", 1)[0]
    assert not re.search(r"^\S+: \[lb1\]", roll, re.M), "lb1 must not be touched once lb2 failed:\n" + roll[-3000:]
    wait("lb2 back as BACKUP", lambda: vrrp("lb2").get("VI_LAB", {}).get("state") == "BACKUP", 120, 2)
    rc2, out2, took = playbook("reload.yml", *change)  # the re-run completes the roll
    result = load.stop()
    record("backup_rebooted_mid_roll", rerun_s=took, **{k: result[k] for k in (
        "requests", "failed", "errors", "longest_gap_s")})
    assert rc2 == 0, out2[-3000:]
    assert "TCP  198.51.100.10:81 rr" in table("lb1") and "TCP  198.51.100.10:81 rr" in table("lb2")
    assert result["failed"] == 0, result
    restore()  # back to the converged lab


def test_controller_killed_between_install_and_reload():
    """The controller dies (SIGKILL of ansible-playbook) in the worst place: lb2 rolled, lb1's new keepalived.conf
    installed but keepalived not yet reloaded. The files on lb1 now agree with the inventory while the running
    keepalived does not; the next run must still roll lb1 (the mark the roll leaves until it is confirmed), and
    leave no ICMP hold behind. Under load: nothing is lost, the VIPs never move."""
    rest()
    load = Load(min_requests=3000, timeout=CLIENT_TIMEOUT_S)
    change = ["-e", f"@{CHANGE}"]
    proc = subprocess.Popen(playbook_argv("reload.yml", *change), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, env=dict(ENV, PYTHONUNBUFFERED="1"))
    out, installs, killed = [], 0, False
    for line in proc.stdout:
        out.append(line)
        installs += bool(INSTALL_TASK.match(line))
        if installs == 2 and not killed and re.match(r"(changed|ok): \[lb1\]", line):
            proc.kill()  # lb1's install done, its reload not started
            killed = True
    proc.wait()
    out = "".join(out)
    assert killed, "the roll never installed on lb1:\n" + out[-3000:]
    assert re.search(r"lb2: VRRP [^\"]*roll step 1 of 2", out), "lb2 must roll first:\n" + out[-3000:]
    lb1 = lab_host("lb1")
    assert "TCP  198.51.100.10:81 rr" not in table("lb1"), "lb1's keepalived must still run the old configuration"
    assert lb1.file("/etc/keepalived/keepalived.conf.lvsfleet-rolling").exists
    # A hold left on a director the re-run does not roll again (lb2 finished its turn): the run removes it too.
    subprocess.run(LAB + ["ssh", "lb2", "iptables -w -I OUTPUT -p icmp --icmp-type port-unreachable "
                          "-m comment --comment lvsfleet-reload-hold -j DROP"], check=True)
    rc, out2, took = playbook("reload.yml", *change)  # the re-run finds lb1 unconfirmed and rolls it
    assert rc == 0, out2[-3000:]
    assert re.search(r"lb1: VRRP [^\"]*installed by a cut-off run", out2), out2[-3000:]
    rc3, out3, took3 = playbook("reload.yml", *change)
    result = load.stop()
    record("controller_killed_mid_roll", rerun_s=took, noop_s=took3,
           **{k: result[k] for k in ("requests", "failed", "errors", "longest_gap_s")})
    hosts = recap(out3)
    assert rc3 == 0 and hosts["lb1"]["changed"] == 0 and hosts["lb2"]["changed"] == 0, out3[-3000:]
    for host in ("lb1", "lb2"):
        assert "TCP  198.51.100.10:81 rr" in table(host), host
        assert not lab_host(host).file("/etc/keepalived/keepalived.conf.lvsfleet-rolling").exists, host
        assert "lvsfleet-reload-hold" not in lab_host(host).check_output("iptables -w -S OUTPUT"), host
    assert vrrp("lb1")["VI_LAB"]["state"] == "MASTER"
    assert result["failed"] == 0, result
    restore()


FILL = "/var/tmp/lvsfleet-drill-fill"
ROLL_PLAY = "PLAY [Roll the directors one at a time"


def test_master_disk_full_when_its_turn_comes():
    """lb1's root file system fills up (to the last 64 KiB) while lb2 rolls: lb1's turn stops before it changes,
    naming it and the free space; its live configuration and keepalived stay as they were. Freed, the next run
    completes the change. Under load: nothing is lost."""
    rest()
    sha = config_sha("lb1")
    load = Load(min_requests=3000, timeout=CLIENT_TIMEOUT_S)
    change = ["-e", f"@{CHANGE}"]
    proc = subprocess.Popen(playbook_argv("reload.yml", *change), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, env=dict(ENV, PYTHONUNBUFFERED="1"))
    out, filled = [], False
    try:
        for line in proc.stdout:
            out.append(line)
            if line.startswith(ROLL_PLAY) and not filled:
                subprocess.run(LAB + ["ssh", "lb1", f"fallocate -l $(( $(df --output=avail -B1 / | tail -1) - 65536 ))"
                                      f" {FILL}"], check=True)
                filled = True
        rc = proc.wait()
        out = "".join(out)
        assert filled, "the roll play never started:\n" + out[-3000:]
        assert rc != 0 and re.search(r"lb1: \d+ bytes free on the file system of /etc/keepalived", out), out[-3000:]
        assert config_sha("lb1") == sha, "lb1's live configuration must be untouched"
        assert lab_host("lb1").service("keepalived").is_running
        assert vrrp("lb1")["VI_LAB"]["state"] == "MASTER"
        assert "TCP  198.51.100.10:81 rr" in table("lb2") and "TCP  198.51.100.10:81 rr" not in table("lb1")
    finally:
        subprocess.run(LAB + ["ssh", "lb1", f"rm -f {FILL}"], check=True)
    rc2, out2, took = playbook("reload.yml", *change)
    result = load.stop()
    record("master_disk_full_mid_roll", rerun_s=took, **{k: result[k] for k in (
        "requests", "failed", "errors", "longest_gap_s")})
    assert rc2 == 0, out2[-3000:]
    assert "TCP  198.51.100.10:81 rr" in table("lb1")
    assert result["failed"] == 0, result
    restore()


def test_real_server_powered_off_and_back():
    rest()
    alerts = AlertWatch(240)
    load = Load(min_requests=4000, timeout=CLIENT_TIMEOUT_S)
    t0 = time.monotonic()
    subprocess.run(LAB + ["power-off", "rs2"], check=True)
    wait("rs2 leaves the table", lambda: "203.0.113.22:8080" not in table("lb1").split("198.51.100.10:81")[0],
         60, 0.5)
    removed_s = round(time.monotonic() - t0, 1)
    # Prometheus on the monitoring host says so (keepalived's verdict, exported by lvsfleet-metrics).
    fired = alerts.wait_for("LvsfleetRealServerDown", ALERT_GOAL_S, instance="lb1", real_server="203.0.113.22")
    alert_s = None if fired is None else round(fired - t0, 1)
    time.sleep(max(0.0, 5 - (time.monotonic() - t0 - removed_s)))
    subprocess.run(LAB + ["power-on", "rs2"], check=True)
    t1 = time.monotonic()
    wait("rs2 returns to the table", lambda: "203.0.113.22:8080" in table("lb1"), 180, 1)
    returned_s = round(time.monotonic() - t1, 1)
    time.sleep(5)
    result = load.stop()
    fails = result.get("failures_at_s") or []
    span = round(max(fails) - min(fails), 2) if fails else 0.0
    alerts.close()
    record("real_server_power_off_on", removed_after_s=removed_s, returned_after_power_on_s=returned_s,
           failure_span_s=span, bound_s=CHECK_BOUND_S + CLIENT_TIMEOUT_S, alert_real_server_down_after_s=alert_s,
           **{k: result[k] for k in ("requests", "failed", "errors", "by_server")})
    assert alert_s is not None, "LvsfleetRealServerDown did not fire for rs2 on lb1"
    # Requests fail only while keepalived has not yet seen rs2 die (plus the client's own timeout).
    assert span <= CHECK_BOUND_S + CLIENT_TIMEOUT_S + 1, result
    assert result["by_server"].get("rs2"), "rs2 served again after power-on"


def test_link_between_directors_cut():
    """lb2 stops hearing lb1's adverts (VRRP from lb1 dropped on lb2) while both keep serving: both become
    MASTER and hold the VIPs (split brain). The roll refuses to start while it lasts; healing the link ends it."""
    rest()
    load = Load(min_requests=4000, timeout=CLIENT_TIMEOUT_S)
    cut = "iptables -w -I INPUT -p vrrp -s 198.51.100.11 -m comment --comment lvsfleet-drill -j DROP"
    heal = "iptables -w -D INPUT -p vrrp -s 198.51.100.11 -m comment --comment lvsfleet-drill -j DROP"
    t0 = time.monotonic()
    subprocess.run(LAB + ["ssh", "lb2", cut], check=True)
    try:
        wait("lb2 becomes MASTER too", lambda: vrrp("lb2")["VI_LAB"]["state"] == "MASTER", 30, 0.5)
        split_s = round(time.monotonic() - t0, 1)
        assert vrrp("lb1")["VI_LAB"]["state"] == "MASTER"
        rc, out, _ = playbook("reload.yml")
        assert rc != 0 and "split brain" in out, out[-3000:]
        time.sleep(10)
    finally:
        subprocess.run(LAB + ["ssh", "lb2", heal], check=True)
    t1 = time.monotonic()
    wait("lb2 back to BACKUP", lambda: vrrp("lb2")["VI_LAB"]["state"] == "BACKUP", 30, 0.5)
    healed_s = round(time.monotonic() - t1, 1)
    time.sleep(3)
    result = load.stop()
    record("director_link_cut", split_after_s=split_s, healed_after_s=healed_s,
           **{k: result[k] for k in ("requests", "failed", "errors", "longest_gap_s", "by_server")})
    assert vrrp("lb1")["VI_LAB"]["state"] == "MASTER"

"""What the lab's testinfra checks share: hosts, one-shot probes, the client's load generator, watchers
that stream a director's state, and measurements kept under /var/lib/lvsfleet-lab/results."""
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import testinfra

REPO = Path(__file__).resolve().parents[2]
LAB = [sys.executable, str(REPO / "lab" / "lab.py")]
sys.path.insert(0, str(REPO / "lab"))
from lab import INVENTORY_DIR, STATE, private_dir  # noqa: E402  (the lab's own, checked state directory)

LOADGEN = (REPO / "lab" / "loadgen.py").read_text()
RESULTS = STATE / "results"


def lab_host(name: str):
    return testinfra.get_host(f"ansible://{name}?ansible_inventory={INVENTORY_DIR}")


def probe(url: str, count: int) -> dict:
    """Send `count` requests from the lab client to `url`; return the tally probe.py prints."""
    client = lab_host("client")
    script = (REPO / "lab" / "probe.py").read_text()
    out = client.check_output("python3 -c %s %s %s", script, url, str(count))
    return json.loads(out.splitlines()[-1])


class Load:
    """The load generator on the client, started now, stopped (and read) by stop()."""

    def __init__(self, min_requests: int, targets=("198.51.100.10:80",), workers: int = 8, timeout: float = 3.0):
        self.proc = subprocess.Popen(
            LAB + ["ssh", "client", "python3", "-", *targets, "--min-requests", str(min_requests),
                   "--workers", str(workers), "--max-seconds", "1200", "--timeout", str(timeout)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.proc.stdin.write(LOADGEN)
        self.proc.stdin.close()
        time.sleep(3)  # requests are flowing before the change starts

    def stop(self) -> dict:
        subprocess.run(LAB + ["ssh", "client", "touch", "/tmp/lvsfleet-loadgen.stop"], check=True)
        out = self.proc.stdout.read()
        self.proc.wait(timeout=1300)
        return json.loads(out.strip().splitlines()[-1])


# Runs in a director: one JSON line every 0.1 s with the IPv4 addresses on lan0 and keepalived's PIDs
# (a stopped process counts as negative: -PID). With a signal, it also signals every keepalived process
# after `delay` seconds, newest first (children before the parent, as `kill -9 $(pidof keepalived)` and the
# OOM killer do), and prints {"event": "signal"} then; with `hold`, it sends SIGCONT that much later.
WATCH = r"""
import json, os, signal, subprocess, sys, time
seconds, sig, delay, hold = float(sys.argv[1]), sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
start = time.monotonic()
signalled = resumed = None
def keepalived():
    out = []
    for p in os.listdir("/proc"):
        try:
            if p.isdigit() and open(f"/proc/{p}/comm").read().strip() == "keepalived":
                stat = open(f"/proc/{p}/stat").read()
                out.append(-int(p) if stat[stat.rfind(")") + 2] in "Tt" else int(p))
        except OSError:
            pass
    return sorted(out, key=abs, reverse=True)
while time.monotonic() - start < seconds:
    now = time.monotonic() - start
    if sig != "none" and signalled is None and now >= delay:
        signalled = keepalived()
        for pid in signalled:
            try:
                os.kill(abs(pid), getattr(signal, "SIG" + sig))
            except ProcessLookupError:
                pass
        print(json.dumps({"event": "signal"}), flush=True)
    if hold and signalled and resumed is None and now >= delay + hold:
        resumed = True
        for pid in signalled:
            try:
                os.kill(abs(pid), signal.SIGCONT)
            except ProcessLookupError:
                pass
    out = subprocess.run(["ip", "-4", "-o", "addr", "show", "dev", "lan0"], capture_output=True, text=True).stdout
    print(json.dumps({"addrs": [l.split()[3].split("/")[0] for l in out.splitlines()], "pids": keepalived()}),
          flush=True)
    time.sleep(0.1)
"""


class Stream:
    """A script run on a lab host whose JSON lines are read as they come, each stamped with this host's clock
    on arrival (so the timelines of several hosts compare); subclasses take them in `take`."""

    def __init__(self, host: str, script: str, *args: str):
        # A session of its own: kill() ends lab.py and its ssh together (an ssh left behind would hold the test's
        # stdout open, and molecule would wait for it).
        self.proc = subprocess.Popen(LAB + ["ssh", host, "python3", "-u", "-", *args],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                     start_new_session=True)
        self.proc.stdin.write(script)
        self.proc.stdin.close()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        for line in self.proc.stdout:
            try:
                item = json.loads(line)
            except ValueError:
                continue
            self.take(item, time.monotonic())

    def take(self, item, at: float) -> None:
        raise NotImplementedError

    def kill(self) -> None:
        """Stop the script now: lab.py and the ssh it started."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()


class Watch(Stream):
    """A director's addresses and keepalived PIDs over time."""

    def __init__(self, name: str, seconds: float, signal: str = "none", delay: float = 0, hold: float = 0):
        self.samples: list[tuple[float, dict]] = []
        self.signalled_at: float | None = None
        super().__init__(name, WATCH, str(seconds), signal, str(delay), str(hold))

    def take(self, sample, at: float) -> None:
        if sample.get("event") == "signal":
            self.signalled_at = at
        else:
            self.samples.append((at, sample))

    def wait(self) -> list:
        self.proc.wait()
        self.thread.join()
        return self.samples


def record(name: str, file: str = "rolling.json", **figures) -> None:
    """Keep a test's measurements (printed, and saved under /var/lib/lvsfleet-lab/results)."""
    private_dir(private_dir(STATE) / "results")
    path = RESULTS / file
    data = json.loads(path.read_text()) if path.exists() else {}
    data[name] = figures
    path.write_text(json.dumps(data, indent=1, sort_keys=True))
    print(f"\nMEASURED {name}: {json.dumps(figures, sort_keys=True)}")


def recap(out: str) -> dict:
    """PLAY RECAP lines -> {host: {"ok": n, "changed": n, ...}}."""
    hosts = {}
    for line in out.split("PLAY RECAP", 1)[-1].splitlines()[1:]:
        parts = line.split(":", 1)
        if len(parts) == 2 and "ok=" in parts[1]:
            hosts[parts[0].strip()] = {k: int(v) for k, v in (kv.split("=") for kv in parts[1].split())}
    return hosts


class Poller:
    """A director's view of one real server, streamed: poll_ipvs.py on the director prints 1/0 as the real
    server enters/leaves the service (reading /proc/net/ip_vs every 50 ms); times are the controller's."""

    SCRIPT = (Path(__file__).parent / "poll_ipvs.py").read_bytes()

    def __init__(self, proto: str, vip: str, port: int, rs: str, rport: int, seconds: int = 40,
                 director: str = "lb1"):
        # A session of its own, as Stream's: close() ends lab.py and its ssh together. An ssh left behind kept
        # polling until `seconds` ran out, holding the test's stderr open, and molecule waited for it (70 s of
        # the clientside scenario's 177).
        self.proc = subprocess.Popen(LAB + ["ssh", director, "python3", "-", proto, vip, str(port), rs, str(rport),
                                            str(seconds)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     start_new_session=True)
        self.proc.stdin.write(self.SCRIPT)
        self.proc.stdin.close()

    def wait_for(self, state: str, limit: float) -> float | None:
        """Controller time at which the poller reported `state`, or None within `limit` seconds."""
        end = time.monotonic() + limit
        while time.monotonic() < end:
            line = self.proc.stdout.readline()
            if not line:
                return None
            if line.strip().decode() == state:
                return time.monotonic()
        return None

    def close(self):
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()


PROMETHEUS = "http://203.0.113.100:9090"   # the lab's monitoring host (client), inventory group monitoring


def prom(query: str) -> list:
    """An instant PromQL query on the lab's Prometheus: the result vector."""
    out = lab_host("client").check_output("curl -sf --max-time 10 --get --data-urlencode %s %s",
                                          f"query={query}", f"{PROMETHEUS}/api/v1/query")
    data = json.loads(out)
    assert data["status"] == "success", data
    return data["data"]["result"]


# Runs on the client: every 0.5 s, the alerts Prometheus has firing, one JSON line each time the set changes.
ALERTS = r"""
import json, sys, time, urllib.request
url, seconds = sys.argv[1], float(sys.argv[2])
end, last = time.monotonic() + seconds, None
while time.monotonic() < end:
    try:
        with urllib.request.urlopen(url + "/api/v1/alerts", timeout=2) as r:
            alerts = json.load(r)["data"]["alerts"]
        now = sorted([a["labels"].get("alertname", ""), a["labels"].get("instance", ""),
                      a["labels"].get("real_server", ""), a["labels"].get("vip", "")]
                     for a in alerts if a["state"] == "firing")
        if now != last:
            print(json.dumps(now), flush=True)
            last = now
    except OSError:
        pass
    time.sleep(0.5)
"""


class AlertWatch(Stream):
    """The alerts firing on the lab's Prometheus over time."""

    def __init__(self, seconds: float):
        self.seen: dict[tuple, float] = {}
        super().__init__("client", ALERTS, PROMETHEUS, str(seconds))

    def take(self, firing, at: float) -> None:
        for alert in firing:
            self.seen.setdefault(tuple(alert), at)

    def first(self, alertname: str, **labels) -> float | None:
        """When an alert with that name (and instance / real_server / vip, if given) was first seen firing."""
        keys = ("instance", "real_server", "vip")
        times = [t for a, t in self.seen.items() if a[0] == alertname
                 and all(labels.get(k) in (None, a[i + 1]) for i, k in enumerate(keys))]
        return min(times) if times else None

    def wait_for(self, alertname: str, limit: float, **labels) -> float | None:
        end = time.monotonic() + limit
        while time.monotonic() < end:
            found = self.first(alertname, **labels)
            if found is not None:
                return found
            time.sleep(0.5)
        return None

    def close(self):
        self.kill()

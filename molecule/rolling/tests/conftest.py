"""Helpers for the rolling-change tests: run playbooks, drive the client's load generator."""
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import testinfra

REPO = Path(__file__).resolve().parents[3]
LAB = [sys.executable, str(REPO / "lab" / "lab.py")]
INVENTORY = REPO / "inventory" / "lab" / "hosts.yml"
CHANGE = Path(__file__).resolve().parents[1] / "vars" / "change.yml"
LOADGEN = (REPO / "lab" / "loadgen.py").read_text()
RESULTS = Path("/var/tmp/lvsfleet/results")
ENV = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")


def lab_host(name: str):
    return testinfra.get_host(f"ansible://{name}?ansible_inventory={REPO / 'inventory' / 'lab'}")


def playbook_argv(name: str, *args: str) -> list[str]:
    return [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(INVENTORY),
            str(REPO / "playbooks" / name), *args]


def playbook(name: str, *args: str) -> tuple[int, str, float]:
    t0 = time.monotonic()
    p = subprocess.run(playbook_argv(name, *args), capture_output=True, text=True, env=ENV)
    return p.returncode, p.stdout + p.stderr, round(time.monotonic() - t0, 1)


def recap(out: str) -> dict:
    """PLAY RECAP lines -> {host: {"ok": n, "changed": n, ...}}."""
    hosts = {}
    for line in out.split("PLAY RECAP", 1)[-1].splitlines()[1:]:
        parts = line.split(":", 1)
        if len(parts) == 2 and "ok=" in parts[1]:
            hosts[parts[0].strip()] = {k: int(v) for k, v in (kv.split("=") for kv in parts[1].split())}
    return hosts


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


def record(name: str, **figures) -> None:
    """Keep a test's measurements (printed, and saved under /var/tmp/lvsfleet/results)."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / "rolling.json"
    data = json.loads(path.read_text()) if path.exists() else {}
    data[name] = figures
    path.write_text(json.dumps(data, indent=1, sort_keys=True))
    print(f"\nMEASURED {name}: {json.dumps(figures, sort_keys=True)}")


def config_sha(name: str) -> str:
    return lab_host(name).file("/etc/keepalived/keepalived.conf").sha256sum


def vrrp(name: str) -> dict:
    return json.loads(lab_host(name).check_output("/usr/local/libexec/lvsfleet/vrrp-state"))


def table(name: str) -> str:
    return lab_host(name).check_output("ipvsadm -Ln")

"""Helpers for the rolling-change tests: run playbooks, drive the client's load generator."""
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "resources"))

from labtest import LAB, REPO, Load, lab_host, recap, record  # noqa: E402,F401  (re-exported to the tests)

INVENTORY = REPO / "inventory" / "lab" / "hosts.yml"
CHANGE = Path(__file__).resolve().parents[1] / "vars" / "change.yml"
ENV = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")


def playbook_argv(name: str, *args: str) -> list[str]:
    return [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(INVENTORY),
            str(REPO / "playbooks" / name), *args]


def playbook(name: str, *args: str) -> tuple[int, str, float]:
    t0 = time.monotonic()
    p = subprocess.run(playbook_argv(name, *args), capture_output=True, text=True, env=ENV)
    return p.returncode, p.stdout + p.stderr, round(time.monotonic() - t0, 1)


def config_sha(name: str) -> str:
    return lab_host(name).file("/etc/keepalived/keepalived.conf").sha256sum


def vrrp(name: str) -> dict:
    return json.loads(lab_host(name).check_output("/usr/local/libexec/lvsfleet/vrrp-state"))


def table(name: str) -> str:
    return lab_host(name).check_output("ipvsadm -Ln")


NOPREEMPT_VIP = "198.51.100.50"


def rest() -> None:
    """lb1 MASTER of every VRRP instance, lb2 BACKUP of all: the order the rolling tests expect. VI_NOPREEMPT
    stays wherever it went (after a boot, whichever director started first); restarting keepalived on lb2 when
    it holds that VIP hands it to lb1 (lb2 is BACKUP of VI_LAB: nothing else moves)."""
    if NOPREEMPT_VIP in lab_host("lb2").check_output("ip -4 addr show dev lan0"):
        lab_host("lb2").check_output("systemctl restart keepalived")
    deadline = time.monotonic() + 60
    while {v["state"] for v in vrrp("lb1").values()} != {"MASTER"}:
        assert time.monotonic() < deadline, "lb1 did not become MASTER of every instance"
        time.sleep(1)

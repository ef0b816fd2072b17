"""Helpers for the rolling-change tests: run playbooks, drive the client's load generator."""
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "resources"))

from labtest import LAB, REPO, AlertWatch, Load, lab_host, recap, record  # noqa: E402,F401  (re-exported to the tests)
from vaulted import lab_secrets, leaks  # noqa: E402

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


# What an operator runs by default: ansible-core's linear strategy, whose -vvv also prints the connection trace
# (Mitogen's prints none).
LINEAR_ENV = {k: v for k, v in ENV.items()
              if k not in ("ANSIBLE_STRATEGY", "ANSIBLE_STRATEGY_PLUGINS", "ANSIBLE_DEPRECATION_WARNINGS")}


def playbook_vvv(name: str, *args: str, linear: bool = True) -> tuple[int, str, float]:
    """The playbook at -vvv, its whole output searched for every vaulted value of the lab (molecule/resources/
    vaulted.py): the drain, maintenance and failed-reload runs the tests make anyway are the secret checks of
    those paths (no second run of each only to search it). linear: with ansible-core's strategy, whose
    connection trace (the remote command with its environment) is searched too; about 8 times slower on the lab
    than Mitogen under load (a reload at -vvv: 227 s against 28 s), so each playbook runs that way once and its
    other runs with the suite's strategy."""
    t0 = time.monotonic()
    p = subprocess.run(playbook_argv(name, "-vvv", *args), capture_output=True, text=True,
                       env=LINEAR_ENV if linear else ENV)
    out, took = p.stdout + p.stderr, round(time.monotonic() - t0, 1)
    assert "task path: " in out, f"not a -vvv run:\n{out[-2000:]}"
    if linear:
        assert "ESTABLISH" in out and "EXEC" in out, f"not a -vvv run of the linear strategy:\n{out[-2000:]}"
    assert leaks(out, lab_secrets()) == [], f"{name} {args} at -vvv printed a secret"
    return p.returncode, out, took


def restore() -> None:
    """The lab back to the converged snapshot (lab.py snapshot load: seconds), instead of rolling a change back
    by hand. Under `make test` and `make drills` (LVSFLEET_SNAPSHOT=required) the snapshot the run took must be
    there; a lab without one for today's files (a scenario run by hand) is rolled back with reload.yml."""
    required = os.environ.get("LVSFLEET_SNAPSHOT") == "required"
    rc = subprocess.run(LAB + ["snapshot", "load", "converged"] + (["--any"] if required else []),
                        check=False).returncode
    if rc == 3 and not required:
        rc, out, took = playbook("reload.yml")
        assert rc == 0, f"reload.yml (back to the inventory): rc {rc} after {took} s\n{out[-3000:]}"
    else:
        assert rc == 0, "lab.py snapshot load converged failed"


def config_sha(name: str) -> str:
    return lab_host(name).file("/etc/keepalived/keepalived.conf").sha256sum


def vrrp(name: str) -> dict:
    return json.loads(lab_host(name).check_output("/usr/local/libexec/lvsfleet/vrrp-state"))


CHECK_MARKS = range(0x6C760000, 0x6C770000)  # forwarding-path check services (model.CHECK_FWMARK_BASE)


def table(name: str) -> str:
    """The director's `ipvsadm -Ln`, without the forwarding-path check services: they carry no client
    traffic and keep weight 1 through drains (their real servers appear there with port 0)."""
    out, skip = [], False
    for line in lab_host(name).check_output("ipvsadm -Ln").splitlines():
        if not line.startswith(" "):
            words = line.split()
            skip = words[:1] == ["FWM"] and words[1].isdigit() and int(words[1]) in CHECK_MARKS
        if not skip:
            out.append(line)
    return "\n".join(out)


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


def nopreempt_to_lb2() -> None:
    """VI_NOPREEMPT held by lb2, lb1 MASTER of the rest (a split-MASTER pair). Restarting keepalived on lb1
    hands that instance to lb2 for good; VI_LAB comes back to lb1 by preemption."""
    if NOPREEMPT_VIP in lab_host("lb1").check_output("ip -4 addr show dev lan0"):
        lab_host("lb1").check_output("systemctl restart keepalived")
    deadline = time.monotonic() + 90
    while not (NOPREEMPT_VIP in lab_host("lb2").check_output("ip -4 addr show dev lan0")
               and vrrp("lb1").get("VI_LAB", {}).get("state") == "MASTER"):
        assert time.monotonic() < deadline, "VI_NOPREEMPT did not move to lb2 (or lb1 did not take VI_LAB back)"
        time.sleep(1)


# A test that fails may leave the lab anywhere (a change half rolled, a load generator running): the next test
# starts from the converged snapshot instead of inheriting that, so one failure is reported once.
_failed_before = {"flag": False}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    if outcome.get_result().failed:
        _failed_before["flag"] = True


# Tests that go on from the state the test before them left (the change it rolled): restoring before them would
# turn one failure into three.
CONTINUES = {"test_rolling_reload_again_changes_nothing", "test_preview_changes_nothing_and_prints_no_secret"}


@pytest.fixture(autouse=True)
def _restore_after_a_failure(request):
    if _failed_before["flag"] and request.node.originalname not in CONTINUES:
        _failed_before["flag"] = False
        subprocess.run(LAB + ["ssh", "client", "touch", "/tmp/lvsfleet-loadgen.stop"], check=False)
        restore()
    yield

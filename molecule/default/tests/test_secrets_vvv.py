"""No playbook prints a secret: each runs at -vvv against the converged lab and its whole output is searched for
every vaulted value of the inventory (molecule/resources/vaulted.py). These runs cover the gate, the no-op
site.yml (also the scenario's idempotence check), check mode with diff and the status report; the other paths are
searched in runs their own tests make anyway (see RUNS). Each run ends where it started.
"""
import os
import re
import subprocess
import sys
import time

import pytest

from conftest import REPO, lab_host, record

sys.path.insert(0, str(REPO / "molecule" / "resources"))

from vaulted import lab_secrets, leaks  # noqa: E402

ENV = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
# What an operator runs by default: ansible-core's linear strategy, deprecation warnings on (the Makefile may
# have chosen Mitogen for the lab runs and silenced ansible-core's notice about third-party strategies).
LINEAR_ENV = {k: v for k, v in ENV.items()
              if k not in ("ANSIBLE_STRATEGY", "ANSIBLE_STRATEGY_PLUGINS", "ANSIBLE_DEPRECATION_WARNINGS")}
# The no-op site.yml (the idempotence check; 10 minutes with the linear strategy on emulated guests) runs with
# the suite's strategy, deprecation warnings on: the one deprecation allowed is ansible-core's notice about a
# strategy it does not ship (Mitogen's), and the hint that comes with it.
SITE_ENV = dict(ENV, ANSIBLE_DEPRECATION_WARNINGS="True")
STRATEGY_NOTICE = "[DEPRECATION WARNING]: Use of strategy plugins not included in ansible.builtin are deprecated"
NOTICE_HINT = "[WARNING]: Deprecation warnings can be disabled by setting `deprecation_warnings=False`"
INVENTORY = REPO / "inventory" / "lab" / "hosts.yml"

RUNS = [
    # (id, playbook, extra args, strategy's environment). The quick runs use ansible-core's strategy (its -vvv
    # connection trace is searched too); site.yml the suite's; the check-mode reload too (31.6 s linear against
    # about 10 s): the preview path's linear trace is searched in the installed collection's reload, run with
    # --diff (test_collection.py).
    ("verify", "verify.yml", [], LINEAR_ENV),
    ("site", "site.yml", [], SITE_ENV),
    ("reload-check-diff", "reload.yml", ["--check", "--diff"], ENV),
    ("status", "status.yml", [], LINEAR_ENV),
]
# Searched the same way where those runs happen anyway, not run a second time only to be searched:
#   - reload.yml at -vvv with ansible-core's strategy: the installed collection's run (test_collection.py);
#   - the drain, maintenance and failed-and-rolled-back paths: the `rolling` drill's own runs of drain.yml,
#     maintenance.yml and reload.yml (molecule/rolling/tests, playbook_vvv);
#   - bootstrap.yml: the bootstrap scenario.


@pytest.fixture(scope="module")
def secrets():
    found = lab_secrets()
    assert len(found) >= 2, found  # the VRRP password and the MySQL check password at least
    return found


@pytest.mark.parametrize("name,book,args,env", RUNS, ids=[r[0] for r in RUNS])
def test_playbook_at_vvv_prints_no_secret(name, book, args, env, secrets):
    argv = [str(os.path.join(os.path.dirname(sys.executable), "ansible-playbook")), "-vvv", "-i", str(INVENTORY),
            str(REPO / "playbooks" / book), *args]
    linear = env.get("ANSIBLE_STRATEGY", "linear") == "linear"
    t0 = time.monotonic()
    p = subprocess.run(argv, capture_output=True, text=True, env=env)
    took = round(time.monotonic() - t0, 1)
    out = p.stdout + p.stderr
    record(f"vvv_{name}", file="secrets.json", playbook_s=took, lines=len(out.splitlines()), rc=p.returncode)
    assert p.returncode == 0, f"{book} {args}: rc {p.returncode} after {took} s\n{out[-4000:]}"
    assert "task path: " in out, "not a -vvv run (no task paths)"
    if linear:  # Mitogen's connections print no trace
        assert "ESTABLISH" in out and "EXEC" in out, "not a -vvv run (no connection trace)"
    assert leaks(out, secrets) == [], f"{book} {args} at -vvv printed a secret"
    if name == "site":
        # The scenario's idempotence check (conftest runs this first): a second site.yml changes nothing, and a
        # lab run prints no warning and no deprecation but the strategy's.
        recap = dict(re.findall(r"^(\S+)\s+: ok=\d+\s+changed=(\d+)", out, re.M))
        assert {"lb1", "lb2", "rs1", "rs2", "client"} <= set(recap), recap
        assert all(n == "0" for n in recap.values()), f"site.yml again changed: {recap}\n{changed_tasks(out)}"
        warnings = [line for line in out.splitlines() if "WARNING]" in line]
        if not linear:
            warnings = [w for w in warnings if not w.startswith((STRATEGY_NOTICE, NOTICE_HINT))]
        assert warnings == [], warnings


def changed_tasks(out: str) -> str:
    """The TASK headers of the tasks that reported changed, for the failure message."""
    task, hits = "", []
    for line in out.splitlines():
        if line.startswith("TASK ["):
            task = line
        elif line.startswith("changed: ["):
            hits.append(f"{task} {line[:120]}")
    return "\n".join(hits)

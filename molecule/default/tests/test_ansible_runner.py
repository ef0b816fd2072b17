"""site.yml and reload.yml through ansible-runner, the library AWX and Automation Platform run jobs with: a private
data directory of its own layout (env/, inventory/, artifacts/), the project being this checkout, the lab's
inventory and vault identity given as AWX gives them (environment variables of the job). The job events must end
in a `playbook_on_stats` without failures or unreachable hosts, the lab already converged changes nothing, and no
secret of the lab's vault appears anywhere in the artifacts AWX would keep (stdout, job events, the command line,
the environment it records)."""
import os
import sys
from pathlib import Path

import ansible_runner
import pytest
from conftest import REPO, record

sys.path.insert(0, str(REPO / "molecule" / "resources"))
from vaulted import lab_secrets, leaks  # noqa: E402


@pytest.fixture(scope="module")
def secrets():
    found = lab_secrets()
    assert len(found) >= 2, found
    return found


def artifacts_text(private: Path) -> str:
    """Everything ansible-runner wrote into the job's artifacts (job_events/*.json, stdout, command, env...)."""
    parts = []
    for path in sorted((private / "artifacts").rglob("*")):
        if path.is_file():
            parts.append(path.read_text(errors="replace"))
    return "\n".join(parts)


@pytest.mark.parametrize("book", ["site", "reload"])
def test_a_playbook_through_ansible_runner(book, tmp_path, secrets):
    private = tmp_path / "job"
    private.mkdir()
    # As an AWX job template passes them: the project's ansible.cfg, the credentials' vault identity, the
    # lab's own roles; the suite's strategy (the no-op site.yml with ansible-core's linear strategy costs ten
    # minutes on the emulated guests: README, Speed).
    envvars = {k: v for k, v in os.environ.items() if k.startswith("ANSIBLE_") and k != "ANSIBLE_INVENTORY"}
    envvars.update(ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0",
                   ANSIBLE_ROLES_PATH=str(REPO / "lab" / "roles"))
    run = ansible_runner.run(private_data_dir=str(private), project_dir=str(REPO), playbook=f"playbooks/{book}.yml",
                             inventory=str(REPO / "inventory" / "lab"), envvars=envvars, quiet=True,
                             timeout=900)
    events = list(run.events)
    stats = [e for e in events if e.get("event") == "playbook_on_stats"]
    record(f"ansible_runner_{book}", status=run.status, rc=run.rc, events=len(events),
           changed=stats[-1]["event_data"].get("changed") if stats else None)
    tail = "".join(e.get("stdout", "") + "\n" for e in events[-40:])
    assert run.status == "successful" and run.rc == 0, tail
    assert len(stats) == 1, tail
    data = stats[0]["event_data"]
    assert not data.get("failures") and not data.get("dark"), data
    assert set(data.get("ok") or {}) >= ({"lb1", "lb2", "rs1", "rs2"} if book == "site" else {"lb1", "lb2"}), data
    assert not data.get("changed"), f"the converged lab changed under ansible-runner: {data.get('changed')}\n{tail}"
    assert not [e for e in events if e.get("event") == "runner_on_failed" and not e["event_data"].get("ignore_errors")]
    assert leaks(artifacts_text(private), secrets) == [], "a vaulted secret is in ansible-runner's artifacts"

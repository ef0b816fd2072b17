"""A pytest plugin for the lab's test runs: each test's wall time (setup, call and teardown) goes into the
stage-times file `make test` and `make drills` keep (LVSFLEET_TIMES, tests/tools/stage_times.py), under
"tests". Loaded with `-p labtimes` (the Makefile's PYTEST_ADDOPTS); without LVSFLEET_TIMES it does nothing."""
import fcntl
import json
import os
from pathlib import Path

_took: dict[str, float] = {}


def pytest_runtest_logreport(report):
    _took[report.nodeid] = _took.get(report.nodeid, 0.0) + report.duration


def pytest_sessionfinish(session):
    path = os.environ.get("LVSFLEET_TIMES")
    if not path or not _took:
        return
    path = Path(path)
    with open(path.with_name(path.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # the lock tests/tools/stage_times.py takes
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            data = {"stages": []}
        scenario = os.environ.get("MOLECULE_SCENARIO_NAME", "pytest")
        tests = data.setdefault("tests", {})
        for nodeid, seconds in _took.items():
            # Node ids are relative to pytest's rootdir (molecule's verifier runs from /): from molecule/ on.
            tests[f"{scenario}::{nodeid.split('molecule/', 1)[-1]}"] = round(seconds, 1)
        tmp = path.with_suffix(".tests.tmp")
        tmp.write_text(json.dumps(data, indent=1) + "\n")
        tmp.replace(path)

"""Shared helpers for the lab's testinfra checks (molecule/resources/labtest.py)."""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "resources"))

from labtest import (  # noqa: E402,F401  (re-exported to the tests)
    LAB, REPO, AlertWatch, Load, Watch, lab_host, probe, prom, record,
)


@pytest.fixture(scope="module")
def lb1():
    return lab_host("lb1")


@pytest.fixture(scope="module")
def lb2():
    return lab_host("lb2")


# The -vvv run of site.yml is also the scenario's idempotence check (molecule's own idempotence stage would be
# a second full no-op run): it goes first, on the lab exactly as converge left it.
FIRST = "test_secrets_vvv.py::test_playbook_at_vvv_prints_no_secret[site]"


def pytest_collection_modifyitems(items):
    items.sort(key=lambda item: not item.nodeid.endswith(FIRST))

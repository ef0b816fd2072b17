"""Shared helpers for the lab's testinfra checks (molecule/resources/labtest.py)."""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "resources"))

from labtest import LAB, REPO, Load, Poller, lab_host, probe, record  # noqa: E402,F401  (re-exported to the tests)


@pytest.fixture(scope="module")
def lb1():
    return lab_host("lb1")


@pytest.fixture(scope="module")
def lb2():
    return lab_host("lb2")


@pytest.fixture(scope="module")
def client():
    return lab_host("client")


@pytest.fixture(scope="module")
def rs1():
    return lab_host("rs1")

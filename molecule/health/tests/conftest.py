"""Shared helpers for the lab's testinfra checks."""
import json
from pathlib import Path

import pytest
import testinfra

REPO = Path(__file__).resolve().parents[3]


def lab_host(name: str):
    inventory = REPO / "inventory" / "lab"
    return testinfra.get_host(f"ansible://{name}?ansible_inventory={inventory}")


def probe(url: str, count: int) -> dict:
    """Send `count` requests from the lab client to `url`; return the tally probe.py prints."""
    client = lab_host("client")
    script = (REPO / "lab" / "probe.py").read_text()
    out = client.check_output("python3 -c %s %s %s", script, url, str(count))
    return json.loads(out.splitlines()[-1])


@pytest.fixture(scope="module")
def lb1():
    return lab_host("lb1")


@pytest.fixture(scope="module")
def lb2():
    return lab_host("lb2")

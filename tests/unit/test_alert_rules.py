"""The alert rules, checked and unit-tested by Prometheus's own promtool (`make promtool` puts it in the venv)."""
import subprocess
from pathlib import Path

from conftest import tool

REPO = Path(__file__).resolve().parents[2]
RULES = REPO / "roles" / "monitoring" / "files" / "lvsfleet-alerts.yml"
TESTS = REPO / "tests" / "promtool"


def promtool():
    return tool("promtool")  # `make promtool` (part of `make setup`) puts it in the venv


def run(*args):
    return subprocess.run([promtool(), *args], cwd=TESTS, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=120)


def test_rules_are_valid():
    p = run("check", "rules", str(RULES))
    assert p.returncode == 0, p.stdout + p.stderr


def test_rules_fire_as_their_tests_say():
    tests = sorted(TESTS.glob("*.test.yml"))
    assert tests
    p = run("test", "rules", *map(str, tests))
    assert p.returncode == 0, p.stdout + p.stderr

"""Every unit lvsfleet installs on the VRRP lab runs sandboxed (systemd-analyze security), and still does its job:
the watchdog's self-heal under the sandbox is test_selfheal.py's, the metrics' test_telemetry.py's; here each unit
is rated and found running (the appliers, run once more, finished cleanly)."""
import sys
from pathlib import Path

import pytest

from conftest import lab_host, record

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "resources"))
from sandbox import EXPOSURE_MAX, exposure  # noqa: E402

UNITS = [("lb1", "lvsfleet-keepalived-watchdog"), ("lb1", "lvsfleet-metrics"), ("lb2", "lvsfleet-keepalived-watchdog"),
         ("rs1", "lvsfleet-real-server"), ("client", "lvsfleet-client-side")]
# The appliers run once at boot (the roles apply the same state themselves): started here, in their sandbox, they
# must apply it and finish cleanly.
ONESHOT = ("lvsfleet-real-server", "lvsfleet-client-side")


@pytest.mark.parametrize("host, unit", UNITS, ids=[f"{h}-{u}" for h, u in UNITS])
def test_lvsfleet_units_are_sandboxed_and_running(host, unit):
    guest = lab_host(host)
    level = exposure(guest, unit)
    record(f"sandbox_{host}_{unit}", file="sandbox.json", exposure=level)
    assert level <= EXPOSURE_MAX, f"{unit} on {host}: exposure {level}"
    if unit in ONESHOT:
        guest.run_expect([0], "systemctl restart %s", unit)
    assert sorted(guest.check_output("systemctl show -p ActiveState,Result --value %s", unit).split()) == [
        "active", "success"], unit

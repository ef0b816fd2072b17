"""`systemd-analyze security` of the units lvsfleet installs, read on a lab guest."""
import re

# Every lvsfleet unit is sandboxed (systemd.exec(5)); before that each rated 9.6 UNSAFE on the lab's Debian 12.
# systemd's ratings: below 5 is OK, below 2 SAFE.
EXPOSURE_MAX = 4.0


def exposure(host, unit: str) -> float:
    out = host.check_output("systemd-analyze security --no-pager %s", unit)
    m = re.search(r"Overall exposure level for \S+: ([0-9.]+) ", out)
    assert m, out[-500:]
    return float(m.group(1))

"""Unit tests: no root, no network. The checkout is importable as the collection it is (ansible_collections.lvsfleet.lvs,
through the .collections link). They run under `make unit` (pytest in .venv) and under `ansible-test units`
(`make units`), which imports test files by path: the tests' own directory goes on sys.path for their shared
helpers."""
import os
import shlex
import shutil
import sys
from pathlib import Path

from hypothesis import settings

COLLECTIONS = Path(__file__).resolve().parents[2] / ".collections"
sys.path.insert(0, str(COLLECTIONS))
sys.path.insert(0, str(Path(__file__).resolve().parent))


def tool(name: str) -> str:
    """A controller tool (ansible-playbook, promtool, ...): beside this Python (the .venv of `make unit`), else on
    PATH (ansible-test's own environment; the Makefile puts .venv/bin there)."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    assert found, f"{name} is missing: run `make setup`"
    return found

# Property tests: CI runs a fixed set of examples (a red build is then reproducible, not luck); a developer
# run explores new ones. LVSFLEET_HYPOTHESIS=deep explores ten times as many.
settings.register_profile("dev", max_examples=150)
settings.register_profile("ci", max_examples=150, derandomize=True, print_blob=True)
settings.register_profile("deep", max_examples=1500)
settings.load_profile(os.environ.get("LVSFLEET_HYPOTHESIS") or ("ci" if os.environ.get("CI") else "dev"))


def keepalived_bench(interfaces, accounts: dict, groups: dict) -> str:
    """Shell commands that make a fresh `unshare --net --mount` namespace keepalived's test bench: /run a private
    tmpfs (keepalived's pid files; the bench's own files under /run/lvsfleet-bench), the same users on every machine
    (keepalived looks up script users; accounts: name -> (uid, gid), groups: name -> gid) bound over /etc/passwd and
    /etc/group, and an empty bridge, up, for each interface name. Run them first in the namespace: the host's
    network, accounts and /run are never touched."""
    passwd = "".join(f"{n}:x:{u}:{g}::/nonexistent:/bin/false\\n" for n, (u, g) in accounts.items())
    group = "".join(f"{n}:x:{g}:\\n" for n, g in groups.items())
    return " && ".join([
        "mount -t tmpfs -o mode=755 tmpfs /run && mkdir /run/lvsfleet-bench",
        f"printf {shlex.quote(passwd)} > /run/lvsfleet-bench/passwd",
        f"printf {shlex.quote(group)} > /run/lvsfleet-bench/group",
        "mount --bind /run/lvsfleet-bench/passwd /etc/passwd && mount --bind /run/lvsfleet-bench/group /etc/group",
        *(f"ip link add name {shlex.quote(n)} type bridge && ip link set {shlex.quote(n)} up" for n in interfaces)])

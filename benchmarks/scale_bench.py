#!/usr/bin/env python3
"""What the controller's gate (playbooks/verify.yml) costs as the inventory grows, no host contacted.

    benchmarks/scale_bench.py [--services 10,100,1000,2000] [--directors 2,4,8] [--full] [--rounds N]
                              [--real-server-hosts 2] [--profile] [--strategy linear|mitogen]

Generated inventories in the lab's shape (inventory/lab): hosts.yml with a directors group and a real_servers
group, group_vars/all/services.yml with SERVICES services (HTTP checks, 10 real servers each, 5 ports per VIP:
VIPs from 198.51.100.0/24 and 192.0.2.0/24, every fourth VIP from 2001:db8:100::/64; real servers from
203.0.113.0/24 or 2001:db8:200::/64) and group_vars/directors/vrrp.yml (one VRRP instance per director pair and
family, holding that pair's share of the VIPs). Hosts point at 127.0.0.9 port 1: verify.yml contacts none (its
first play runs on localhost, its second renders and tests on localhost by delegation, neither gathers facts),
and a host it did contact would fail the run.

For each size, one `ansible-playbook playbooks/verify.yml` with ansible.posix.profile_tasks (best of --rounds,
after one unmeasured run that warms the caches):
  gate         the run's wall time, and its ratio to the smallest size of the same director count (the issue's
               goal: 2,000 services within 1.5x of 10);
  model        the gate's model task (lvs_check_inventory over every host's variables);
  render/dir   the gate's render task (the role's keepalived.conf.j2 through the template module) per director;
  config-test  the gate's keepalived --config-test task (keepalived-config-test --offline, every director);
then the JSON of every figure, each task's time included, as the last line. By default every size runs at the
first director count and the other counts at the smallest and largest size only; --full runs every pair.
--profile then runs the largest size once more at the first director count under cProfile
(benchmarks/profile_playbook.py) and prints the 10 slowest tasks and the top of the profile.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import re
import sys
import tempfile
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from playbook_bench import REPO, run_playbook  # noqa: E402  (benchmarks/ is not a package)
from profile_playbook import report as profile_report  # noqa: E402

PORTS_PER_VIP = 5
REAL_SERVERS = 10
# The gate's tasks whose times the table shows (profile_tasks names role tasks "role : task").
MODEL_TASK = "Every director, real server and lvs_* variable is valid"
RENDER_TASK = "Render keepalived.conf for this director"
TEST_TASK = "Test it (keepalived --config-test, offline)"
PROFILE_LINE = re.compile(r"^(?P<task>.+?) -+ (?P<s>[0-9]+\.[0-9]+)s$")


def vip(k: int) -> str:
    """The k-th VIP: every fourth from 2001:db8:100::/64, the others from 198.51.100.10-249 then 192.0.2.10-249."""
    if k % 4 == 3:
        return str(ipaddress.ip_address("2001:db8:100::") + 16 + k)
    v4 = k - (k + 1) // 4
    if v4 >= 480:
        raise SystemExit(f"{k + 1} VIPs: the IPv4 documentation ranges hold 480; use fewer services")
    return str(ipaddress.ip_address("198.51.100.10" if v4 < 240 else "192.0.2.10") + v4 % 240)


def inventory(services: int, directors: int, real_server_hosts: int) -> dict[str, dict]:
    """The files of a generated inventory, by path: hosts.yml, the services and the VRRP instances."""
    names = [f"lb{i + 1}" for i in range(directors)]
    svcs = []
    for i in range(services):
        address = vip(i // PORTS_PER_VIP)
        six = ":" in address
        svcs.append({
            "name": f"svc{i}", "vip": address, "port": 8000 + i % PORTS_PER_VIP, "scheduler": "wrr",
            "forwarding": "nat",
            "health_check": {"type": "http", "path": "/health", "status": 200, "interval": 6, "timeout": 3},
            # The same 10 addresses per family, a port each service: 10 distinct real servers per service.
            "real_servers": [{"address": f"2001:db8:200::{21 + j:x}" if six else f"203.0.113.{21 + j}",
                              "port": 10000 + i, "weight": 1 + j} for j in range(REAL_SERVERS)]})
    vips = sorted({s["vip"] for s in svcs}, key=lambda a: (":" in a, ipaddress.ip_address(a)))
    pairs = [names[k:k + 2] for k in range(0, directors, 2)]
    instances = []
    for k, pair in enumerate(pairs):
        share = vips[k::len(pairs)]
        for six in (False, True):
            held = [f"{a}/64" if six else f"{a}/24" for a in share if (":" in a) == six]
            if held:
                instances.append({"name": f"VI_{k}_{6 if six else 4}", "interface": "lan0",
                                  "virtual_router_id": 50 + 2 * k + six, "advert_int": 1,
                                  "priorities": {h: 150 - 50 * j for j, h in enumerate(pair)},
                                  "virtual_ipaddresses": held})
    hosts = {"all": {"children": {
        "directors": {"hosts": {h: {"ansible_host": "127.0.0.9", "ansible_port": 1,
                                    "lvs_check_source": f"203.0.113.{11 + i}"} for i, h in enumerate(names)}},
        "real_servers": {"hosts": {f"rs{j + 1}": {"ansible_host": "127.0.0.9", "ansible_port": 1}
                                   for j in range(real_server_hosts)}}}}}
    return {"hosts.yml": hosts, "group_vars/all/services.yml": {"lvs_services": svcs},
            "group_vars/directors/vrrp.yml": {"lvs_vrrp_instances": instances}}


def write(files: dict[str, dict], where: Path) -> Path:
    for name, data in files.items():
        (where / name).parent.mkdir(parents=True, exist_ok=True)
        (where / name).write_text(yaml.safe_dump(data, width=200, sort_keys=False))
    return where


def task_times(stdout: str) -> dict[str, float]:
    """profile_tasks' recap: seconds per task name (a name run twice, summed)."""
    recap = stdout.split("TASKS RECAP", 1)[-1]
    times: dict[str, float] = {}
    for line in recap.splitlines():
        m = PROFILE_LINE.match(line.strip())
        if m:
            times[m["task"]] = times.get(m["task"], 0.0) + float(m["s"])
    return times


def task(times: dict[str, float], name: str) -> float:
    return sum(s for t, s in times.items() if t == name or t.endswith(f" : {name}"))


def gate(inv: Path, strategy: str, wrapper: tuple[str, ...] = ()) -> tuple[float, dict[str, float]]:
    env = {"ANSIBLE_CALLBACKS_ENABLED": "ansible.posix.profile_tasks", "PROFILE_TASKS_TASK_OUTPUT_LIMIT": "all",
           "PROFILE_TASKS_SORT_ORDER": "descending", "ANSIBLE_NOCOLOR": "1", "COLUMNS": "160"}
    took, proc = run_playbook(strategy, "verify.yml", "-i", str(inv), env=env, wrapper=wrapper)
    if "UNREACHABLE" in proc.stdout:
        sys.exit(f"verify.yml contacted a host of {inv}:\n{proc.stdout[-2000:]}")
    return took, task_times(proc.stdout)


def measure(services: int, directors: int, args, tmp: Path) -> dict:
    inv = write(inventory(services, directors, args.real_server_hosts), tmp / f"s{services}-d{directors}")
    runs = [gate(inv, args.strategy) for _ in range(args.rounds)]
    took, times = min(runs, key=lambda r: r[0])
    return {"services": services, "directors": directors, "real_servers": services * REAL_SERVERS,
            "gate_s": round(took, 2), "model_s": round(task(times, MODEL_TASK), 2),
            "render_s_per_director": round(task(times, RENDER_TASK) / directors, 3),
            "config_test_s": round(task(times, TEST_TASK), 2), "tasks_s": times}


def matrix(sizes: list[int], counts: list[int], full: bool) -> list[tuple[int, int]]:
    ends = sorted({sizes[0], sizes[-1]})
    return [(n, d) for d in counts for n in sizes if full or d == counts[0] or n in ends]


FIGURES = ("gate_s", "model_s", "render_s_per_director", "config_test_s")
HEADER = (f"{'services':>8} {'dirs':>4} {'gate s':>8} {'x10svc':>6} {'render s/dir':>12} {'x':>6} "
          f"{'model s':>8} {'x':>6} {'kad test s':>10} {'x':>6}")


def row(r: dict) -> str:
    x = r["ratio_to_smallest"]
    return (f"{r['services']:>8} {r['directors']:>4} {r['gate_s']:>8.2f} {x['gate_s']:>6} "
            f"{r['render_s_per_director']:>12.3f} {x['render_s_per_director']:>6} {r['model_s']:>8.2f} "
            f"{x['model_s']:>6} {r['config_test_s']:>10.2f} {x['config_test_s']:>6}")


def profile(services: int, directors: int, args, tmp: Path) -> dict:
    """The largest size once more under cProfile: the slowest tasks and the profile's top."""
    inv = tmp / f"s{services}-d{directors}"
    out = tmp / "profile"
    wrapper = (sys.executable, str(Path(__file__).resolve().parent / "profile_playbook.py"), str(out))
    took, times = gate(inv, "linear", wrapper)
    slowest = sorted(times.items(), key=lambda kv: -kv[1])[:10]
    print(f"\nprofile at {services} services x {directors} directors (under cProfile: gate {took:.1f} s)")
    print("10 slowest tasks (profile_tasks):")
    for name, seconds in slowest:
        print(f"{seconds:8.2f} s  {name}")
    print(profile_report(out, args.top))
    return {"services": services, "directors": directors, "gate_s_profiled": round(took, 2),
            "slowest_tasks_s": dict(slowest)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--services", default="10,100,1000,2000", help="comma-separated, smallest first")
    ap.add_argument("--directors", default="2,4,8", help="comma-separated; the first runs at every size")
    ap.add_argument("--full", action="store_true", help="every size at every director count")
    ap.add_argument("--rounds", type=int, default=1, help="best of N gate runs per size")
    ap.add_argument("--real-server-hosts", type=int, default=2, help="hosts in the real_servers group (lab: 2)")
    ap.add_argument("--profile", action="store_true", help="then profile the largest size (tasks and cProfile)")
    ap.add_argument("--top", type=int, default=15, help="cProfile lines per listing")
    ap.add_argument("--strategy", default="linear", choices=("linear", "mitogen"))
    args = ap.parse_args()
    sizes = sorted(int(x) for x in args.services.split(","))
    counts = [int(x) for x in args.directors.split(",")]
    rows = []
    with tempfile.TemporaryDirectory(prefix="lvsfleet-scale.") as tmp:
        # One unmeasured run first: the first ansible-playbook of an invocation pays for cold caches.
        gate(write(inventory(sizes[0], counts[0], args.real_server_hosts), Path(tmp) / "warm"), args.strategy)
        print(HEADER, flush=True)
        for n, d in matrix(sizes, counts, args.full):
            r = measure(n, d, args, Path(tmp))
            base = next((x for x in rows if x["directors"] == d), r)
            r["ratio_to_smallest"] = {k: round(r[k] / base[k], 2) if base[k] else None for k in FIGURES}
            rows.append(r)
            print(row(r), flush=True)
        prof = profile(sizes[-1], counts[0], args, Path(tmp)) if args.profile else None
    largest = [r for r in rows if r["services"] == sizes[-1]]
    goal = {f"{r['directors']}_directors": r["ratio_to_smallest"]["gate_s"] for r in largest}
    print(json.dumps({"scale": rows, "gate_ratio_largest_to_smallest": goal, "goal_ratio": 1.5,
                      "strategy": args.strategy, "profile": prof}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

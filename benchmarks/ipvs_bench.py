#!/usr/bin/env python3
"""IPVS bulk-load benchmark, run as root inside a lab director, in a throwaway network namespace.

Loads SERVICES x DESTS real servers from an empty table with, side by side in one run:
  module     lvsfleet's netlink core (normalize the model, one dump, diff, batched writes)
  restore    ipvsadm-restore of the same table
  per_rule   one ipvsadm process per rule, on a sample of the services, scaled to the full table
  pyroute2   pyroute2's IPVS API (one request per object), on a sample, scaled
then a no-op re-run of the module core, one full dump (ours and ipvsadm-save -n; best of 3 each), and one
weight change.
The last line printed is one JSON object with every figure.

Usage (make bench does this): ip netns exec lvsbench python3 ipvs_bench.py [--services N] [--dests N]
    [--sample-per-rule F] [--sample-pyroute2 F] [--pyroute2-wheel PATH]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from module_utils.lvsfleet.ipvs_netlink import IPVSNetlink  # noqa: E402
from module_utils.lvsfleet.ipvs_state import diff, from_model, no_gc, restore_script  # noqa: E402
from module_utils.lvsfleet.model import normalize_services  # noqa: E402


REPEAT = 3


def sh(argv, data=None):
    return subprocess.run(argv, input=data, text=True, capture_output=True, check=True).stdout


def services(n: int, dests: int) -> list[dict]:
    return [{"name": f"s{i}", "vip": f"198.51.100.{1 + i // 1000}", "port": 1024 + i % 1000, "scheduler": "wrr",
             "real_servers": [{"address": f"203.0.113.{10 + j}", "port": 8080, "weight": 1 + j}
                              for j in range(dests)]} for i in range(n)]


def flush():
    sh(["ipvsadm", "-C"])


def module_core(svcs: list[dict]) -> tuple[float, int, dict]:
    """What lvs_ipvs does, timed: normalize, one dump, diff, batched writes (GC paused, as in the module)."""
    with no_gc():
        return _module_core(svcs)


def _module_core(svcs: list[dict]) -> tuple[float, int, dict]:
    t0 = time.perf_counter()
    conn = IPVSNetlink()
    desired = from_model(normalize_services(svcs))
    t_norm = time.perf_counter()
    actual = conn.read_table()
    t_read = time.perf_counter()
    plan = diff(actual, desired)
    errors = conn.apply(plan) if len(plan) else []
    t1 = time.perf_counter()
    if errors:
        raise SystemExit(f"module core: {len(errors)} errors, first: {errors[0]}")
    writes = conn.writes
    conn.close()
    return t1 - t0, writes, {"normalize_s": round(t_norm - t0, 3), "read_s": round(t_read - t_norm, 3),
                             "diff_apply_s": round(t1 - t_read, 3)}


def per_rule(script: str) -> tuple[float, int]:
    lines = script.splitlines()
    t0 = time.perf_counter()
    for line in lines:
        subprocess.run(["ipvsadm"] + line.split(), check=True)
    return time.perf_counter() - t0, len(lines)


def pyroute2_load(svcs: list[dict], wheel: str) -> tuple[float, float]:
    t0 = time.perf_counter()
    sys.path.insert(0, wheel)
    from pyroute2 import IPVS, IPVSDest, IPVSService  # noqa: PLC0415
    import socket  # noqa: PLC0415
    t_import = time.perf_counter() - t0
    ipvs = IPVS()
    for s in svcs:
        svc = IPVSService(addr=s["vip"], port=s["port"], protocol=socket.IPPROTO_TCP, sched=s["scheduler"])
        ipvs.service("add", service=svc)
        for rs in s["real_servers"]:
            ipvs.dest("add", service=svc, dest=IPVSDest(addr=rs["address"], port=rs["port"], weight=rs["weight"]))
    ipvs.close()
    return time.perf_counter() - t0, t_import


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--services", type=int, default=2000)
    ap.add_argument("--dests", type=int, default=5)
    ap.add_argument("--sample-per-rule", type=float, default=0.05)
    ap.add_argument("--sample-pyroute2", type=float, default=0.1)
    ap.add_argument("--pyroute2-wheel", default="")
    a = ap.parse_args()
    for argv in (["ip", "link", "set", "lo", "up"], ["ip", "link", "add", "bench0", "type", "dummy"],
                 ["ip", "addr", "add", "203.0.113.1/24", "dev", "bench0"], ["ip", "link", "set", "bench0", "up"]):
        subprocess.run(argv, capture_output=True)
    svcs = services(a.services, a.dests)
    objects = a.services * (1 + a.dests)
    script = restore_script(diff({}, from_model(normalize_services(svcs))))
    res: dict = {"objects": objects, "services": a.services, "dests_per_service": a.dests}

    flush()
    res["module_s"], res["module_writes"], res["module_breakdown"] = module_core(svcs)
    saved_module = sh(["ipvsadm-save", "-n"])

    flush()
    t0 = time.perf_counter()
    sh(["ipvsadm-restore"], data=script)
    res["restore_s"] = time.perf_counter() - t0
    saved_restore = sh(["ipvsadm-save", "-n"])
    res["same_table_as_restore"] = sorted(saved_module.splitlines()) == sorted(saved_restore.splitlines())

    # no-op re-run and dumps, on the full table: best of REPEAT runs each (TCG timing is noisy)
    noop = [module_core(svcs) for _ in range(REPEAT)]
    res["noop_s"] = min(n[0] for n in noop)
    res["noop_writes"] = max(n[1] for n in noop)
    res["noop_breakdown"] = min(noop, key=lambda n: n[0])[2]
    dumps, saves = [], []
    for _ in range(REPEAT):
        t0 = time.perf_counter()
        with no_gc():
            conn = IPVSNetlink()
            table = conn.read_table()
            conn.close()
        dumps.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        sh(["ipvsadm-save", "-n"])
        saves.append(time.perf_counter() - t0)
    res["dump_s"], res["ipvsadm_save_s"] = min(dumps), min(saves)
    res["dump_objects"] = len(table) + sum(len(s.dests) for s in table.values())

    # one weight change among the whole table
    svcs[a.services // 2]["real_servers"][2]["weight"] = 77
    res["one_change_s"], res["one_change_writes"], _ = module_core(svcs)
    changed = [line for line in sh(["ipvsadm-save", "-n"]).splitlines() if "-w 77" in line]
    res["one_change_applied"] = len(changed) == 1

    # one ipvsadm process per rule, on a sample
    n_rule = max(1, int(a.services * a.sample_per_rule))
    flush()
    t, rules = per_rule(restore_script(diff({}, from_model(normalize_services(svcs[:n_rule])))))
    res["per_rule_s"] = t * a.services / n_rule
    res["per_rule_sampled"] = n_rule < a.services
    res["per_rule_sample_services"] = n_rule
    res["per_rule_sample_s"] = t

    if a.pyroute2_wheel:
        n_py = max(1, int(a.services * a.sample_pyroute2))
        flush()
        t, t_import = pyroute2_load(svcs[:n_py], a.pyroute2_wheel)
        res["pyroute2_s"] = t_import + (t - t_import) * a.services / n_py
        res["pyroute2_sampled"] = n_py < a.services
        res["pyroute2_sample_services"] = n_py
        res["pyroute2_import_s"] = t_import
    flush()

    res["ratio_module_vs_restore"] = res["module_s"] / res["restore_s"]
    res["ratio_pyroute2_vs_module"] = res.get("pyroute2_s", 0) / res["module_s"]
    res["ratio_per_rule_vs_module"] = res["per_rule_s"] / res["module_s"]
    res["ratio_noop_vs_ipvsadm_save"] = res["noop_s"] / res["ipvsadm_save_s"]
    res["ratio_noop_vs_own_dump"] = res["noop_s"] / res["dump_s"]
    res = {k: round(v, 3) if isinstance(v, float) else v for k, v in res.items()}
    print(f"bulk load of {objects} objects: module {res['module_s']} s, ipvsadm-restore {res['restore_s']} s "
          f"(module/restore = {res['ratio_module_vs_restore']}), per-rule ipvsadm {res['per_rule_s']} s "
          f"({res['ratio_per_rule_vs_module']}x the module), pyroute2 {res.get('pyroute2_s')} s "
          f"({res['ratio_pyroute2_vs_module']}x the module)", file=sys.stderr)
    print(f"no-op re-run {res['noop_s']} s with {res['noop_writes']} writes; full dump {res['dump_s']} s "
          f"(ipvsadm-save -n {res['ipvsadm_save_s']} s); one weight change {res['one_change_s']} s, "
          f"{res['one_change_writes']} writes", file=sys.stderr)
    print(json.dumps(res))


if __name__ == "__main__":
    main()

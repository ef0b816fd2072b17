#!/usr/bin/env python3
"""Where `make test` and `make drills` spend their time: each stage's wall time, kept in one JSON file.

    stage_times.py start FILE             a new record (the commit, the start); removes the old one
    stage_times.py run FILE NAME -- CMD   run CMD, add NAME's wall time and exit status; exit as CMD did
                                          (stages that overlap are each counted: the shares are of their sum)
    stage_times.py report FILE            the stages, each with its share of the total; exit 1 if one failed

The lab's pytest runs add each test's duration to the same file (molecule/resources/labtest.py,
LVSFLEET_TIMES). A stage that was not reached is absent: the report shows what ran.
"""

from __future__ import annotations

import fcntl
import json
import subprocess
import sys
import time
from pathlib import Path


def locked(path: Path):
    """An exclusive lock beside the file: stages may end at the same time (lint and unit run beside the lab's
    first converge) and each adds itself to the file."""
    fd = open(path.with_name(path.name + ".lock"), "w")
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


def load(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {"stages": [], "tests": {}}


def save(path: Path, data: dict) -> None:
    stages = data.setdefault("stages", [])
    total = sum(s["seconds"] for s in stages)
    for s in stages:
        s["share"] = round(s["seconds"] / total, 3) if total else 0.0
    data["total_seconds"] = round(total, 1)
    data["total_minutes"] = round(total / 60, 1)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=1) + "\n")
    tmp.replace(path)


def start(path: Path) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    save(path, {"commit": commit or None, "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "started_epoch": round(time.time(), 1), "stages": [], "tests": {}})
    return 0


def run(path: Path, name: str, argv: list[str]) -> int:
    t0 = time.monotonic()
    try:
        rc = subprocess.call(argv)
    except KeyboardInterrupt:
        rc = 130
    took = time.monotonic() - t0
    with locked(path):
        data = load(path)
        data["stages"].append({"stage": name, "seconds": round(took, 1), "rc": rc})
        save(path, data)
    print(f"stage-times: {name}: {took:.1f} s, rc {rc}", file=sys.stderr, flush=True)
    return rc


def report(path: Path) -> int:
    with locked(path):
        data = load(path)
        if data.get("started_epoch"):  # start to report: the wall time (overlapping stages counted once)
            data["wall_seconds"] = round(time.time() - data["started_epoch"], 1)
            data["wall_minutes"] = round(data["wall_seconds"] / 60, 1)
            save(path, data)
    stages = data.get("stages", [])
    if not stages:
        print(f"stage-times: nothing recorded in {path}")
        return 1
    width = max(len(s["stage"]) for s in stages)
    for s in stages:
        flag = "" if s["rc"] == 0 else f"  FAILED (rc {s['rc']})"
        print(f"{s['stage']:<{width}}  {s['seconds']:8.1f} s  {100 * s['share']:5.1f} %{flag}")
    print(f"{'sum':<{width}}  {data['total_seconds']:8.1f} s  ({data['total_minutes']} min, commit "
          f"{data.get('commit')}, {path})")
    if "wall_seconds" in data:
        print(f"{'wall':<{width}}  {data['wall_seconds']:8.1f} s  ({data['wall_minutes']} min from start to this report)")
    slow = sorted(data.get("tests", {}).items(), key=lambda kv: -kv[1])[:10]
    if slow:
        print("slowest lab tests: " + ", ".join(f"{k.split('::', 1)[-1]} {v:.0f} s" for k, v in slow))
    return 0 if all(s["rc"] == 0 for s in stages) else 1


def main(argv: list[str]) -> int:
    if len(argv) >= 2 and argv[0] == "start":
        return start(Path(argv[1]))
    if len(argv) >= 2 and argv[0] == "report":
        return report(Path(argv[1]))
    if len(argv) >= 5 and argv[0] == "run" and argv[3] == "--":
        return run(Path(argv[1]), argv[2], argv[4:])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

#!/usr/bin/env python3
"""Where a playbook run's time goes, from the reports of ansible-core's junit callback.

    ANSIBLE_CALLBACKS_ENABLED=ansible.builtin.junit JUNIT_OUTPUT_DIR=DIR JUNIT_TASK_CLASS=yes \\
        ansible-playbook playbooks/site.yml
    benchmarks/task_profile.py DIR [--top N]

Prints the tasks that took longest (the slowest host's time, since hosts run a task in parallel), then
the total per role and the number of task results. The slowest-host sum approximates the run's wall
time; the difference is the controller's own work (templating, forks) and the play boundaries.
"""

from __future__ import annotations

import argparse
import collections
import sys
import xml.etree.ElementTree as ET
from pathlib import Path


def load(directory: Path) -> list[tuple[str, str, str, float]]:
    """(report, task, host, seconds) for every task result in every report of `directory`."""
    rows = []
    for report in sorted(directory.glob("*.xml")):
        for case in ET.parse(report).getroot().iter("testcase"):
            name = case.get("name", "")
            # JUNIT_TASK_CLASS=yes: classname is the task's file and the name "[host] task".
            host, _, task = name.partition("] ")
            rows.append((report.name, task or name, host.lstrip("["), float(case.get("time") or 0)))
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("directory", type=Path)
    ap.add_argument("--top", type=int, default=25)
    args = ap.parse_args()
    rows = load(args.directory)
    if not rows:
        print(f"{args.directory}: no junit reports", file=sys.stderr)
        return 1
    slowest: dict[tuple[str, str], float] = collections.defaultdict(float)
    for report, task, _host, seconds in rows:
        key = (report, task)
        slowest[key] = max(slowest[key], seconds)
    ranked = sorted(slowest.items(), key=lambda kv: -kv[1])
    total = sum(slowest.values())
    print(f"{len(rows)} task results, {len(slowest)} tasks; sum over tasks of the slowest host: {total:.1f} s")
    for (_report, task), seconds in ranked[:args.top]:
        print(f"{seconds:8.2f} s  {seconds / total:5.1%}  {task}")
    per_role: dict[str, float] = collections.defaultdict(float)
    for (_report, task), seconds in ranked:
        role = task.split(" : ", 1)[0] if " : " in task else "(play)"
        per_role[role] += seconds
    print("per role:")
    for role, seconds in sorted(per_role.items(), key=lambda kv: -kv[1]):
        print(f"{seconds:8.2f} s  {seconds / total:5.1%}  {role}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

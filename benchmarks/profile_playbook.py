#!/usr/bin/env python3
"""An ansible-playbook run under cProfile: the controller's main process and every worker it forks (each task on
each host runs in a worker: templating, filters, the action), one pstats file per process.

    benchmarks/profile_playbook.py DIR .venv/bin/ansible-playbook ARGS...    (DIR/<pid>.prof)
    benchmarks/profile_playbook.py --report DIR [--top N]

The report adds every process's figures together: the functions with the most time of their own (tottime) and
the project's own code (the collection's Python and the role's templates) by cumulative time. ansible-core's
linear strategy only: Mitogen's workers are not ansible-core's WorkerProcess.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import runpy
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PROJECT = (str(REPO / "plugins"), str(REPO / "roles"), "/ansible_collections/lvsfleet/")


def profiled(out: Path, fn, *args):
    """fn(*args) with this process's profile written to out/<pid>.prof, however it ends."""
    prof = cProfile.Profile()
    prof.enable()
    try:
        return fn(*args)
    finally:
        prof.disable()
        prof.dump_stats(str(out / f"{os.getpid()}.prof"))


def run(out: Path, argv: list[str]) -> None:
    from ansible.executor.process.worker import WorkerProcess

    plain = WorkerProcess._run
    # A worker leaves by os._exit after run() returns: its profile is written before that.
    WorkerProcess._run = lambda self: profiled(out, plain, self)
    sys.argv = argv
    profiled(out, runpy.run_path, argv[0], None, "__main__")


def report(directory: Path, top: int) -> str:
    """Every process's profile added together: top `top` by own time, and the project's code by cumulative time."""
    text = io.StringIO()
    stats, files, cut = None, 0, 0
    for path in sorted(directory.glob("*.prof")):
        try:  # a worker ended by the controller while it wrote leaves a cut file
            one = pstats.Stats(str(path), stream=text)
        except (EOFError, ValueError, TypeError):
            cut += 1
            continue
        files += 1
        stats = one if stats is None else stats.add(one)
    if stats is None:
        return f"{directory}: no readable profile"
    text.write(f"cProfile of {files} processes (the controller and its workers; {cut} cut files skipped), summed; "
               f"seconds under the profiler (slower than a plain run)\n")
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats("|".join(PROJECT), top)
    return "\n".join(line for line in text.getvalue().splitlines() if line.strip())


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--report":
        ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
        ap.add_argument("--report", type=Path, required=True)
        ap.add_argument("--top", type=int, default=15)
        args = ap.parse_args()
        print(report(args.report, args.top))
        return 0
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    try:
        run(out, sys.argv[2:])
    except SystemExit as done:
        return done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    return 0


if __name__ == "__main__":
    sys.exit(main())

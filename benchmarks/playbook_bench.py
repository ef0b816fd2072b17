#!/usr/bin/env python3
"""What lvsfleet's playbooks cost on the lab, with ansible-core's linear strategy and with Mitogen's, side by side.

    benchmarks/playbook_bench.py [--fresh] [--rounds N]

For each strategy: a no-op site.yml, a no-op reload.yml and reload.yml --check --diff on the converged lab
(best of N rounds), and with --fresh also the first converge (the lab is taken down and booted again before
each strategy's converge). Prints one line per run, the ratios (Mitogen against linear; no-op against first
converge), then one JSON object with every figure. Needs the lab (`make lab-up`); runs from the checkout
with the Makefile's environment (`make bench-playbooks`).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MITOGEN_VARS = ("ANSIBLE_STRATEGY", "ANSIBLE_STRATEGY_PLUGINS", "ANSIBLE_DEPRECATION_WARNINGS")


def environment(strategy: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in MITOGEN_VARS}
    env.update(ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    if strategy == "mitogen":  # as the Makefile sets it (its venv target makes the link)
        env.update(ANSIBLE_STRATEGY="mitogen_linear", ANSIBLE_DEPRECATION_WARNINGS="False",
                   ANSIBLE_STRATEGY_PLUGINS=str(REPO / ".venv" / "mitogen-strategy"))
    return env


def playbook(strategy: str, book: str, *args: str) -> tuple[float, list[str]]:
    argv = [str(Path(sys.executable).parent / "ansible-playbook"), str(REPO / "playbooks" / book), *args]
    t0 = time.monotonic()
    p = subprocess.run(argv, env=environment(strategy), cwd=REPO, capture_output=True, text=True)
    took = time.monotonic() - t0
    if p.returncode != 0:
        sys.exit(f"{strategy} {book} {' '.join(args)}: rc {p.returncode}\n{(p.stdout + p.stderr)[-3000:]}")
    changed = [line for line in p.stdout.splitlines() if " : ok=" in line and "changed=0 " not in line]
    return took, changed


def lab(*args: str) -> None:
    subprocess.run([sys.executable, str(REPO / "lab" / "lab.py"), *args], check=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fresh", action="store_true", help="also time the first converge (reboots the lab twice)")
    ap.add_argument("--rounds", type=int, default=1)
    args = ap.parse_args()
    runs = {"site_noop": ("site.yml",), "reload_noop": ("reload.yml",),
            "reload_check_diff": ("reload.yml", "--check", "--diff")}
    figures: dict[str, dict[str, float]] = {}
    for strategy in ("linear", "mitogen"):
        got = figures[strategy] = {}
        if args.fresh:
            lab("down")
            lab("up")
            got["site_converge"], _ = playbook(strategy, "site.yml")
            print(f"{strategy:8} site_converge      {got['site_converge']:7.1f} s", flush=True)
        else:
            playbook(strategy, "site.yml")  # converged, whatever the lab held before
        for name, argv in runs.items():
            best = None
            for _ in range(args.rounds):
                took, changed = playbook(strategy, *argv)
                if name != "reload_check_diff" and changed:
                    sys.exit(f"{strategy} {name} is not a no-op: {changed}")
                best = took if best is None else min(best, took)
            got[name] = best
            print(f"{strategy:8} {name:18} {best:7.1f} s", flush=True)
    ratios = {f"mitogen/linear {name}": figures["mitogen"][name] / figures["linear"][name]
              for name in figures["linear"]}
    for strategy in ("linear", "mitogen"):
        if "site_converge" in figures[strategy]:
            ratios[f"{strategy} site_noop/site_converge"] = (figures[strategy]["site_noop"]
                                                             / figures[strategy]["site_converge"])
    for name, value in ratios.items():
        print(f"{name:40} {value:6.1%}")
    print(json.dumps({"seconds": figures, "ratios": {k: round(v, 3) for k, v in ratios.items()}}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

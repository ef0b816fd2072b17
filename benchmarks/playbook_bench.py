#!/usr/bin/env python3
"""What lvsfleet's playbooks cost on the lab, with ansible-core's linear strategy and with Mitogen's, side by side.

    benchmarks/playbook_bench.py [--fresh] [--rounds N] [--strategies linear,mitogen]

For each strategy: a no-op site.yml, a no-op reload.yml, reload.yml --check --diff, and a rolling reload of a
changed configuration and back (molecule/rolling/vars/change.yml, no load) on the converged lab (best of N
rounds), and with --fresh also the first converge (the lab is taken down and booted again before each
strategy's converge). Prints one line per run, the ratios (Mitogen against linear; no-op against first
converge) and the rolling reload per director, then one JSON object with every figure. Needs the lab
(`make lab-up`); runs from the checkout with the Makefile's environment (`make bench-playbooks`).
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
CHANGE = REPO / "molecule" / "rolling" / "vars" / "change.yml"
MITOGEN_VARS = ("ANSIBLE_STRATEGY", "ANSIBLE_STRATEGY_PLUGINS", "ANSIBLE_DEPRECATION_WARNINGS")


def environment(strategy: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in MITOGEN_VARS}
    env.update(ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    if strategy == "mitogen":  # as the Makefile sets it (its venv target makes the link)
        env.update(ANSIBLE_STRATEGY="mitogen_linear", ANSIBLE_DEPRECATION_WARNINGS="False",
                   ANSIBLE_STRATEGY_PLUGINS=str(REPO / ".venv" / "mitogen-strategy"))
    return env


def run_playbook(strategy: str, book: str, *args: str, env: dict[str, str] | None = None,
                 wrapper: tuple[str, ...] = ()) -> tuple[float, subprocess.CompletedProcess]:
    """Wall time and the finished process of `ansible-playbook playbooks/<book> <args>` (exits when it fails);
    `env` is added to the strategy's environment; `wrapper` runs the playbook under another Python program."""
    argv = [*wrapper, str(Path(sys.executable).parent / "ansible-playbook"), str(REPO / "playbooks" / book), *args]
    t0 = time.monotonic()
    p = subprocess.run(argv, env={**environment(strategy), **(env or {})}, cwd=REPO, capture_output=True, text=True)
    took = time.monotonic() - t0
    if p.returncode != 0:
        sys.exit(f"{strategy} {book} {' '.join(args)}: rc {p.returncode}\n{(p.stdout + p.stderr)[-3000:]}")
    return took, p


def playbook(strategy: str, book: str, *args: str) -> tuple[float, list[str]]:
    took, p = run_playbook(strategy, book, *args)
    changed = [line for line in p.stdout.splitlines() if " : ok=" in line and "changed=0 " not in line]
    return took, changed


def lab(*args: str) -> None:
    subprocess.run([sys.executable, str(REPO / "lab" / "lab.py"), *args], check=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fresh", action="store_true", help="also time the first converge (reboots the lab twice)")
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--strategies", default="linear,mitogen", help="comma-separated: linear, mitogen")
    args = ap.parse_args()
    strategies = [s for s in args.strategies.split(",") if s]
    if not strategies or set(strategies) - {"linear", "mitogen"}:
        sys.exit(f"--strategies: {args.strategies!r}: linear and/or mitogen")
    runs = {"site_noop": ("site.yml",), "reload_noop": ("reload.yml",),
            "reload_check_diff": ("reload.yml", "--check", "--diff"),
            "reload_change": ("reload.yml", "-e", f"@{CHANGE}"), "reload_back": ("reload.yml",)}
    changes = {"reload_check_diff", "reload_change", "reload_back"}
    directors = len(json.loads(subprocess.run(
        [str(Path(sys.executable).parent / "ansible-inventory"), "--list"], env=environment("linear"), cwd=REPO,
        capture_output=True, text=True, check=True).stdout).get("directors", {}).get("hosts", []))
    figures: dict[str, dict[str, float]] = {}
    for strategy in strategies:
        got = figures[strategy] = {}
        if args.fresh:
            lab("down")
            lab("up")
            got["site_converge"], _ = playbook(strategy, "site.yml")
            print(f"{strategy:8} site_converge      {got['site_converge']:7.1f} s", flush=True)
        else:
            playbook(strategy, "site.yml")  # converged, whatever the lab held before
        # Per round: the no-ops, the preview, then the change and the change back (each pair a real roll).
        for _ in range(args.rounds):
            for name, argv in runs.items():
                took, changed = playbook(strategy, *argv)
                if name not in changes and changed:
                    sys.exit(f"{strategy} {name} is not a no-op: {changed}")
                if name in ("reload_change", "reload_back") and not changed:
                    sys.exit(f"{strategy} {name} changed nothing: the lab did not hold what it expects")
                got[name] = min(got.get(name, took), took)
                print(f"{strategy:8} {name:18} {took:7.1f} s", flush=True)
    ratios = {f"mitogen/linear {name}": figures["mitogen"][name] / figures["linear"][name]
              for name in figures["linear"]} if len(strategies) == 2 else {}
    for strategy in strategies:
        figures[strategy]["reload_change_per_director"] = figures[strategy]["reload_change"] / max(directors, 1)
        if "site_converge" in figures[strategy]:
            ratios[f"{strategy} site_noop/site_converge"] = (figures[strategy]["site_noop"]
                                                             / figures[strategy]["site_converge"])
    for name, value in ratios.items():
        print(f"{name:40} {value:6.1%}")
    print(json.dumps({"seconds": figures, "ratios": {k: round(v, 3) for k, v in ratios.items()}}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env bash
# Run the IPVS benchmark inside a lab director (lb2), in a throwaway network namespace so the
# director's own (keepalived-owned) table is untouched. Needs the lab up (make bench boots it).
# The pyroute2 wheel is carried into the guest (the guest has no network); it is fetched once from
# PyPI into the cache outside the repository.
set -euo pipefail
cd "$(dirname "$0")/.."
py=${PY:-.venv/bin/python}
host=${BENCH_HOST:-lb2}
wheels=/var/cache/lvsfleet/wheels
wheel=$wheels/pyroute2-0.9.7-py3-none-any.whl
[[ -f $wheel ]] || { mkdir -p "$wheels"; "$py" -m pip download -q --no-deps -d "$wheels" pyroute2==0.9.7; }
ssh_() { "$py" lab/lab.py ssh "$host" "$@"; }
tar -C plugins -cf - module_utils | ssh_ 'rm -rf /tmp/bench && mkdir -p /tmp/bench && tar -C /tmp/bench -xf -'
ssh_ 'cat > /tmp/bench/ipvs_bench.py' < benchmarks/ipvs_bench.py
ssh_ 'cat > /tmp/bench/pyroute2-0.9.7-py3-none-any.whl' < "$wheel"
ssh_ "ip netns del lvsbench 2>/dev/null; ip netns add lvsbench && cd /tmp/bench && \
  ip netns exec lvsbench python3 ipvs_bench.py --pyroute2-wheel /tmp/bench/pyroute2-0.9.7-py3-none-any.whl $*; \
  rc=\$?; ip netns del lvsbench; exit \$rc"

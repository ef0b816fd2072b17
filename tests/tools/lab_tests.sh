#!/usr/bin/env bash
# The lab half of `make test` (and all of it with --with-checks), each stage timed into $TIMES:
#
#   lab_tests.sh [--with-checks] SCENARIO...     (run by the Makefile, which sets PATH, PY and the Ansible env)
#
# 1. Both labs down, the VRRP lab booted fresh: the first converge always runs on new guests.
# 2. The first scenario (default) is created and converged, and the converged lab is snapshotted (its side_effect).
#    With --with-checks, lint and the unit tests run meanwhile on the controller (`make -j2 lint unit`) at the
#    lowest CPU priority (nice 19): they need no lab and take the CPU time the lab leaves. At equal priority
#    they doubled the first converge (215 s against 110) and were slower than running after it. The lab tests
#    wait for them: no timing-sensitive test runs beside them, and a lint or unit failure stops the run.
# 3. The first scenario's tests, then every other scenario, each from the snapshot (its create restores it).
# 4. The anycast lab replaces the VRRP lab for the `ecmp` scenario; both labs are taken down at the end.
# The first failure stops the run; the stage table is printed either way.
set -uo pipefail
cd "$(dirname "$0")/../.."

checks=0
if [ "${1:-}" = "--with-checks" ]; then checks=1; shift; fi
: "${PY:?}" "${TIMES:?}"
stage() { local name=$1; shift; "$PY" tests/tools/stage_times.py run "$TIMES" "$name" -- "$@"; }
labtimes() { LVSFLEET_TIMES="$PWD/$TIMES" LVSFLEET_KEEP_LAB=1 PYTHONPATH="$PWD/molecule/resources" \
  PYTEST_ADDOPTS="-p labtimes" "$@"; }
first=$1; shift

"$PY" lab/lab.py down; LVSFLEET_LAB=ecmp "$PY" lab/lab.py down
checks_pid=
if [ $checks = 1 ]; then
  mkdir -p build
  stage lint+unit nice -n 19 make --no-print-directory -j2 --output-sync=target lint unit > build/checks.log 2>&1 &
  checks_pid=$!
fi

rc=0
stage lab-boot "$PY" lab/lab.py up || rc=1
[ $rc = 0 ] && { labtimes stage "converge-$first" molecule converge -s "$first" || rc=1; }
[ $rc = 0 ] && { labtimes stage "snapshot" molecule side-effect -s "$first" || rc=1; }
if [ -n "$checks_pid" ]; then
  wait "$checks_pid" || rc=1
  cat build/checks.log
  [ $rc = 0 ] || echo "lab-tests: lint, unit or the first converge failed (lint and unit output above)" >&2
fi
[ $rc = 0 ] && { labtimes stage "molecule-$first" molecule verify -s "$first" || rc=1; }
LVSFLEET_KEEP_LAB=1 molecule destroy -s "$first" >/dev/null 2>&1
export LVSFLEET_SNAPSHOT=required  # every later VRRP scenario starts from the snapshot this run took
for s in "$@"; do
  [ $rc = 0 ] || break
  if [ "$s" = ecmp ]; then
    export LVSFLEET_LAB=ecmp; unset LVSFLEET_SNAPSHOT  # a lab of its own, converged by its scenario
    stage lab-boot-ecmp "$PY" lab/lab.py up || { rc=1; break; }
  fi
  labtimes stage "molecule-$s" molecule test -s "$s" || rc=1
done
"$PY" lab/lab.py down; LVSFLEET_LAB=ecmp "$PY" lab/lab.py down
exit $rc

#!/usr/bin/env bash
# A smoke run of every benchmark at tiny sizes, one repetition each: they must run end to end (CI runs this so they
# cannot rot; the figures mean nothing at these sizes). Exits non-zero if any of them fails.
set -uo pipefail
cd "$(dirname "$0")/.."
status=0
run() {
  local name=$1
  shift
  local t0=$SECONDS
  echo "== bench:$name $*"
  if npx tsx "bench/$name.ts" "$@"; then
    echo "== bench:$name ok ($((SECONDS - t0)) s)"
  else
    echo "== bench:$name FAILED ($((SECONDS - t0)) s)"
    status=1
  fi
}
run overhead --runs 1 --shapes 4/2 --steps 3
run vs-peers --runs 1 --shapes 4/2 --workloads skewed.3
run latency --samples 3
run scale --runs 1 --targets 20 --window 50%
run cli --runs 2
run wrapper --runs 1 --block 5
exit $status

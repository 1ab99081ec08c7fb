#!/bin/sh
# Creates the namespace the rollout bot and workers use, with a retention long enough for release history:
# a closed rollout's workflow (its thread, decisions and per-target results) stays readable this long.
set -eu
ns=${TEMPORAL_NAMESPACE:-default}
retention=${TEMPORAL_RETENTION:-30d}
addr=${TEMPORAL_ADDRESS:-temporal:7233}
i=0
until temporal operator cluster health --address "$addr" >/dev/null 2>&1; do
  i=$((i + 1)); [ "$i" -lt 60 ] || { echo "Temporal at $addr is not healthy"; exit 1; }
  sleep 2
done
if temporal operator namespace describe -n "$ns" --address "$addr" >/dev/null 2>&1; then
  temporal operator namespace update -n "$ns" --retention "$retention" --address "$addr"
  echo "namespace $ns: retention $retention"
else
  temporal operator namespace create -n "$ns" --retention "$retention" --address "$addr"
  echo "namespace $ns created (retention $retention)"
fi

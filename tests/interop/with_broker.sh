#!/usr/bin/env bash
# Runs a command against a fresh `gregor serve` on loopback, then shuts the broker down with
# SIGTERM and checks that it stopped cleanly. The command sees BROKER=127.0.0.1:<port> and
# BROKER_LOG, the broker's log file.
# The broker's group.initial.rebalance.delay.ms is GROUP_INITIAL_REBALANCE_DELAY_MS (default 0, as
# in Kafka's own test configs: consumer-group tests would otherwise wait 3 s for every new group);
# BROKER_LOG_LEVEL (default info) is its --log-level.
# Usage: with_broker.sh GREGOR_BINARY COMMAND [ARGS...]
set -euo pipefail
gregor=$1
shift
work=$(mktemp -d "${TMPDIR:-/tmp}/gregor-interop.XXXXXX")
trap 'kill -9 "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
echo "\"group.initial.rebalance.delay.ms\" = ${GROUP_INITIAL_REBALANCE_DELAY_MS:-0}" \
  >"$work/broker.toml"
"$gregor" --log-level "${BROKER_LOG_LEVEL:-info}" serve --config "$work/broker.toml" \
  --log-dir "$work/data" --listen 127.0.0.1:0 >"$work/broker.log" 2>&1 &
pid=$!
for _ in $(seq 1 200); do
  if grep -q "listening on" "$work/broker.log" 2>/dev/null; then break; fi
  if ! kill -0 "$pid" 2>/dev/null; then cat "$work/broker.log"; echo "broker died" >&2; exit 1; fi
  sleep 0.05
done
BROKER=$(sed -n 's/.*listening on \([0-9.]*:[0-9]*\).*/\1/p' "$work/broker.log" | head -1)
if [[ -z "$BROKER" ]]; then cat "$work/broker.log"; echo "broker did not start" >&2; exit 1; fi
BROKER_LOG=$work/broker.log
export BROKER BROKER_LOG
status=0
"$@" || status=$?
kill -TERM "$pid"
broker_status=0
wait "$pid" || broker_status=$?
if [[ $status -ne 0 || $broker_status -ne 0 ]] || ! grep -q "stopped cleanly" "$work/broker.log"; then
  echo "--- broker log ---" >&2
  tail -50 "$work/broker.log" >&2
fi
[[ $broker_status -eq 0 ]] || { echo "broker exited with $broker_status" >&2; exit 1; }
grep -q "stopped cleanly" "$work/broker.log" || { echo "broker did not stop cleanly" >&2; exit 1; }
exit $status

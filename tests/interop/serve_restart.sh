#!/usr/bin/env bash
# `gregor serve` shuts down gracefully on SIGTERM (exit 0, "stopped cleanly") and a restart on the
# same log dir serves everything produced before, then takes more. Uses kcat as the client.
# Usage: serve_restart.sh GREGOR_BINARY
set -euo pipefail
gregor=$1
work=$(mktemp -d "${TMPDIR:-/tmp}/gregor-restart.XXXXXX")
pid=
trap '[[ -n "$pid" ]] && kill -9 "$pid" 2>/dev/null; rm -rf "$work"' EXIT

start() {
  : >"$work/broker.log"
  "$gregor" --log-level info serve --log-dir "$work/data" --listen 127.0.0.1:0 \
    >"$work/broker.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 200); do
    grep -q "listening on" "$work/broker.log" 2>/dev/null && break
    sleep 0.05
  done
  BROKER=$(sed -n 's/.*listening on \([0-9.]*:[0-9]*\).*/\1/p' "$work/broker.log" | head -1)
  [[ -n "$BROKER" ]] || { cat "$work/broker.log"; exit 1; }
}
stop() {
  kill -TERM "$pid"
  wait "$pid" || { echo "broker exited with $?"; cat "$work/broker.log"; exit 1; }
  pid=
  grep -q "stopped cleanly" "$work/broker.log" || { cat "$work/broker.log"; exit 1; }
}

start
seq 1 5000 | kcat -b "$BROKER" -P -t durable -X acks=all
stop
start
grep -q "1 partitions" "$work/broker.log" || { echo "topic not reloaded"; cat "$work/broker.log"; exit 1; }
seq 5001 6000 | kcat -b "$BROKER" -P -t durable -X acks=all
kcat -b "$BROKER" -C -t durable -o beginning -e -q >"$work/out.txt"
stop
seq 1 6000 | cmp -s - "$work/out.txt" || { echo "got $(wc -l <"$work/out.txt") lines"; exit 1; }
echo "restart ok: 6000 messages across a graceful restart"

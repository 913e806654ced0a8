#!/usr/bin/env bash
# A consumer group's committed offsets survive broker restarts (__consumer_offsets): kcat -G
# (librdkafka) reads 80 of 200 messages and commits; after a graceful restart (SIGTERM) the group
# resumes with exactly the other 120; 50 more messages are read and committed, the broker is
# killed (SIGKILL: the process dies, the page cache stays), and after that restart `gregor groups
# describe` shows the committed offsets at the log end and the group reads nothing again.
# Usage: group_restart.sh GREGOR_BINARY
set -euo pipefail
gregor=$1
work=$(mktemp -d "${TMPDIR:-/tmp}/gregor-group-restart.XXXXXX")
pid=
trap '[[ -n "$pid" ]] && kill -9 "$pid" 2>/dev/null; rm -rf "$work"' EXIT
topic=restart-group
group=restart-group-1
echo '"group.initial.rebalance.delay.ms" = 0' >"$work/broker.toml"

fail() {
  echo "FAIL: $*" >&2
  echo "--- broker log ---" >&2
  tail -30 "$work/broker.log" >&2
  exit 1
}
start() {
  : >"$work/broker.log"
  "$gregor" --log-level info serve --config "$work/broker.toml" --log-dir "$work/data" \
    --listen 127.0.0.1:0 >"$work/broker.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 200); do
    grep -q "listening on" "$work/broker.log" 2>/dev/null && break
    sleep 0.05
  done
  BROKER=$(sed -n 's/.*listening on \([0-9.]*:[0-9]*\).*/\1/p' "$work/broker.log" | head -1)
  [[ -n "$BROKER" ]] || fail "the broker did not start"
}
stop() {
  kill -TERM "$pid"
  wait "$pid" || fail "broker exited with $?"
  pid=
  grep -q "stopped cleanly" "$work/broker.log" || fail "the broker did not stop cleanly"
}
crash() {
  kill -9 "$pid"
  wait "$pid" 2>/dev/null || true
  pid=
}
# group_read NAME KCAT-ARGS...: one kcat -G run; values to $work/NAME.txt.
group_read() {
  local name=$1
  shift
  timeout 30 kcat -b "$BROKER" -G "$group" -q -f '%s\n' -X auto.offset.reset=earliest \
    -X session.timeout.ms=6000 -X heartbeat.interval.ms=500 "$@" "$topic" \
    >"$work/$name.txt" 2>"$work/$name.err" || fail "kcat -G run '$name': $(tail -5 "$work/$name.err")"
}
# Keyed, so the partitioner spreads the values over both partitions by key hash: without keys
# librdkafka's sticky partitioner may put a whole run in one partition, and the check after the
# crash (a committed offset at the log end of each partition) then sees one row.
produce() {
  for i in $(seq "$1" "$2"); do echo "k-$i:m-$i"; done |
    kcat -b "$BROKER" -P -t "$topic" -p -1 -K: -X acks=all || fail "produce $1..$2"
}
# expect_exactly NAME FIRST LAST: the run read m-FIRST..m-LAST minus $work/seen, each once.
expect_exactly() {
  local name=$1
  for i in $(seq "$2" "$3"); do echo "m-$i"; done | sort | comm -23 - <(sort "$work/seen") \
    >"$work/$name.want"
  sort "$work/$name.txt" >"$work/$name.sorted"
  if ! cmp -s "$work/$name.want" "$work/$name.sorted"; then
    fail "run '$name' read $(wc -l <"$work/$name.txt") values, want $(wc -l <"$work/$name.want");" \
      "repeated: $(uniq -d "$work/$name.sorted" | head -3 | tr '\n' ' ')" \
      "missing: $(comm -23 "$work/$name.want" "$work/$name.sorted" | head -3 | tr '\n' ' ')" \
      "unexpected: $(comm -13 "$work/$name.want" "$work/$name.sorted" | head -3 | tr '\n' ' ')"
  fi
  cat "$work/$name.txt" >>"$work/seen"
}

: >"$work/seen"
start
"$gregor" topics --bootstrap-server "$BROKER" create --topic "$topic" --partitions 2 >/dev/null
produce 1 200
group_read part -c 80
[[ $(wc -l <"$work/part.txt") -eq 80 ]] || fail "run 1 read $(wc -l <"$work/part.txt") values"
cat "$work/part.txt" >>"$work/seen"
stop

start
grep -q "loaded __consumer_offsets" "$work/broker.log" || fail "no offsets partition loaded"
group_read rest -e -X enable.partition.eof=true
expect_exactly rest 1 200
produce 201 250
group_read new -e -X enable.partition.eof=true
expect_exactly new 201 250
crash

start
desc=$("$gregor" groups --bootstrap-server "$BROKER" describe "$group") ||
  fail "groups describe after the crash: $desc"
rows=$(grep -cE "^$group +$topic +[01] +([0-9]+) +\\1 +0 " <<<"$desc" || true)
[[ $rows -eq 2 ]] || fail "after the crash the committed offsets are not the log ends: $desc"
group_read none -e -X enable.partition.eof=true
[[ ! -s "$work/none.txt" ]] || fail "after the crash the group read $(wc -l <"$work/none.txt") again"
stop
echo "group restart ok: 80 + 120 + 50 values across a graceful restart and a kill -9"

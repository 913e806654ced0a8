#!/usr/bin/env bash
# kcat 1.7.1 -G (librdkafka 2.0.2's high-level consumer: FindCoordinator, JoinGroup, SyncGroup,
# Heartbeat, OffsetFetch, OffsetCommit, LeaveGroup) against Gregor, with committed offsets:
#   1. 300 keyed messages on 3 partitions; a group member reads 120 of them (-c 120) and exits,
#      committing what it read (auto commit on close);
#   2. a new member of the same group reads to the end (-e): exactly the other 180, no repeats;
#   3. 100 more messages; a third run reads exactly those 100.
# Each run starts from the group's committed offsets (no -o: kcat's -o overrides them in -G mode).
# Usage: with_broker.sh GREGOR kcat_group.sh GREGOR (needs $BROKER).
set -euo pipefail
gregor=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
topic=kcat-group
group=kcat-group-1

fail() {
  echo "FAIL: $*" >&2
  exit 1
}
# group_read NAME KCAT-ARGS...: one kcat -G run of the group; its values go to $work/NAME.txt,
# its stderr (and librdkafka's group debug log) to $work/NAME.err.
group_read() {
  local name=$1
  shift
  if ! timeout 30 kcat -b "$BROKER" -G "$group" -q -f '%s\n' -X auto.offset.reset=earliest \
    -X session.timeout.ms=6000 -X heartbeat.interval.ms=500 -d cgrp \
    "$@" "$topic" >"$work/$name.txt" 2>"$work/$name.err"; then
    tail -40 "$work/$name.err" >&2
    fail "kcat -G run '$name' failed or hung (exit status above)"
  fi
}
# produce FIRST LAST: values m-FIRST..m-LAST with 7 keys, spread over the partitions.
produce() {
  for i in $(seq "$1" "$2"); do echo "k$((i % 7)):m-$i"; done |
    kcat -b "$BROKER" -P -t "$topic" -K: -X acks=all -X enable.idempotence=true
}
# check_exactly NAME FILE-OF-EXPECTED-VALUES: the run saw each expected value once and no other.
check_exactly() {
  local name=$1 want=$2
  sort "$work/$name.txt" >"$work/$name.sorted"
  local dups
  dups=$(uniq -d "$work/$name.sorted" | head -5 | tr '\n' ' ')
  [[ -z $dups ]] || fail "run '$name' saw values twice: $dups"
  if ! diff -q <(sort "$want") "$work/$name.sorted" >/dev/null; then
    echo "run '$name': $(wc -l <"$work/$name.txt") values, want $(wc -l <"$want");" \
      "missing: $(comm -23 <(sort "$want") "$work/$name.sorted" | head -5 | tr '\n' ' ')" \
      "unexpected: $(comm -13 <(sort "$want") "$work/$name.sorted" | head -5 | tr '\n' ' ')" >&2
    tail -40 "$work/$name.err" >&2
    fail "run '$name' did not resume exactly after the committed offsets"
  fi
}

# kcat cannot create topics; Gregor's own admin client makes the 3 partitions.
"$gregor" topics --bootstrap-server "$BROKER" create --topic "$topic" --partitions 3 >/dev/null
produce 1 300
for i in $(seq 1 300); do echo "m-$i"; done >"$work/first.want"

# 1. Part of the messages, committed on close.
group_read first-part -c 120
[[ $(wc -l <"$work/first-part.txt") -eq 120 ]] ||
  fail "run 1 read $(wc -l <"$work/first-part.txt") values, want 120"
[[ $(sort "$work/first-part.txt" | uniq -d | wc -l) -eq 0 ]] || fail "run 1 saw a value twice"
grep -q "OffsetCommit for .*: Success" "$work/first-part.err" || {
  grep -E "COMMIT|JOIN|SYNC|ASSIGN" "$work/first-part.err" | tail -40 >&2
  fail "run 1 had no successful OffsetCommit (librdkafka's cgrp log above)"
}

# 2. The rest of the first 300, exactly.
comm -23 <(sort "$work/first.want") <(sort "$work/first-part.txt") >"$work/rest.want"
group_read rest -e -X enable.partition.eof=true
check_exactly rest "$work/rest.want"

# 3. Only what was produced after the commit.
produce 301 400
for i in $(seq 301 400); do echo "m-$i"; done >"$work/new.want"
group_read new -e -X enable.partition.eof=true
check_exactly new "$work/new.want"
echo "kcat -G ok: 120 + 180 + 100 values over three runs of group $group, none repeated or lost"

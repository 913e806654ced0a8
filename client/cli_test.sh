#!/usr/bin/env bash
# Proves `gregor topics`, `gregor produce` and `gregor consume` end to end against a real
# `gregor serve` on loopback (run through tests/interop/with_broker.sh, which sets BROKER):
# create / list / describe / delete topics, produce lines with keys, every codec and idempotence,
# read them back by partition, offset and from the beginning, and the exit codes (2 for usage
# errors, 1 for failures such as an unreachable broker or an unknown topic), and that a real
# run's --history files pass `gregor check` (and a forged read in one does not); and
# `gregor groups list / describe` of a group kcat -G committed offsets in, empty and with a live
# member (state, members, decoded assignment, current and log end offsets, lag, text and --json),
# an unknown group and an unreachable broker.
# Usage: with_broker.sh GREGOR cli_test.sh GREGOR
set -euo pipefail
gregor=$1
: "${BROKER:?run me through with_broker.sh}"
work=$(mktemp -d "${TMPDIR:-/tmp}/gregor-cli.XXXXXX")
trap 'rm -rf "$work"' EXIT

fail() {
  echo "FAIL: $*" >&2
  exit 1
}
# expect_status CODE COMMAND...: runs the command, fails unless it exits with CODE.
expect_status() {
  local want=$1
  shift
  local got=0
  "$@" >"$work/out" 2>"$work/err" || got=$?
  [[ $got -eq $want ]] || fail "exit $got (want $want): $* -- $(cat "$work/err")"
}
g() { "$gregor" "$@"; }

# --- topics ---------------------------------------------------------------------------------
out=$(g topics --bootstrap-server "$BROKER" create --topic cli-t --partitions 3 \
  --config retention.ms=3600000)
[[ $out == "Created topic cli-t." ]] || fail "create said: $out"
expect_status 1 g topics --bootstrap-server "$BROKER" create --topic cli-t
grep -q TOPIC_ALREADY_EXISTS "$work/err" || fail "duplicate create: $(cat "$work/err")"
g topics --bootstrap-server "$BROKER" list | grep -qx cli-t || fail "list misses cli-t"
desc=$(g topics describe --bootstrap-server "$BROKER" --topic cli-t)
grep -q "PartitionCount: 3" <<<"$desc" || fail "describe: $desc"
grep -q "retention.ms=3600000" <<<"$desc" || fail "describe lacks the override: $desc"
[[ $(grep -c "Partition: " <<<"$desc") -eq 3 ]] || fail "describe partitions: $desc"
grep -q "Leader: 0" <<<"$desc" || fail "describe leader: $desc"

# --- produce and consume with keys ------------------------------------------------------------
printf 'a:1\nb:2\nc:3\n' | g produce --bootstrap-server "$BROKER" --topic cli-t \
  --key-separator : --idempotence
got=$(g consume --bootstrap-server "$BROKER" --topic cli-t --from-beginning --max-messages 3 \
  --timeout-ms 20000 --print-key 2>/dev/null | sort)
want=$(printf 'a\t1\nb\t2\nc\t3')
[[ $got == "$want" ]] || fail "consume with keys: got [$got] want [$want]"

# --- every codec, one partition, read by offset -------------------------------------------------
g topics --bootstrap-server "$BROKER" create --topic cli-c --partitions 1 >/dev/null
expected=""
for codec in none gzip snappy lz4 zstd; do
  seq 1 20 | sed "s/^/$codec-/" | g produce --bootstrap-server "$BROKER" --topic cli-c \
    --compression "$codec" --acks all --linger-ms 20
  expected+=$(seq 1 20 | sed "s/^/$codec-/")$'\n'
done
got=$(g consume --bootstrap-server "$BROKER" --topic cli-c --partition 0 --offset 0 \
  --max-messages 100 --timeout-ms 20000 2>/dev/null)
[[ "$got"$'\n' == "$expected" ]] || fail "codecs: got [$got]"
got=$(g consume --bootstrap-server "$BROKER" --topic cli-c --partition 0 --offset 95 \
  --timeout-ms 2000 --print-offset 2>/dev/null)
want=$(printf '0:95\tzstd-16\n0:96\tzstd-17\n0:97\tzstd-18\n0:98\tzstd-19\n0:99\tzstd-20')
[[ $got == "$want" ]] || fail "by offset: got [$got]"

# --- a file on stdin (epoll cannot watch regular files), acks 1 and 0 --------------------------
seq 1 2000 >"$work/lines"
g produce --bootstrap-server "$BROKER" --topic cli-big --acks 1 <"$work/lines"
g produce --bootstrap-server "$BROKER" --topic cli-big --acks 0 <"$work/lines"
g consume --bootstrap-server "$BROKER" --topic cli-big --from-beginning --max-messages 4000 \
  --timeout-ms 20000 2>/dev/null | sort -n >"$work/got"
sort -n "$work/lines" "$work/lines" | diff -q - "$work/got" >/dev/null || fail "cli-big differs"

# --- usage errors exit 2, failures exit 1 ------------------------------------------------------
expect_status 2 g produce --topic x
expect_status 2 g produce --bootstrap-server "$BROKER" --topic x --acks 1 --idempotence
expect_status 2 g consume --bootstrap-server "$BROKER" --topic x --offset 3
expect_status 2 g consume --bootstrap-server "$BROKER" --topic x --offset 3 --partition 0 \
  --from-beginning
expect_status 2 g topics --bootstrap-server "$BROKER" create --topic x --config noequals
expect_status 2 g topics --bootstrap-server "$BROKER"
expect_status 1 g topics --bootstrap-server 127.0.0.1:1 list
expect_status 1 g consume --bootstrap-server "$BROKER" --topic no-such-topic --timeout-ms 100
grep -q UNKNOWN_TOPIC_OR_PARTITION "$work/err" || fail "unknown topic: $(cat "$work/err")"
g --help | grep -q produce || fail "help lists no produce"
g produce --help | grep -q -- --key-separator || fail "produce help"

# --- a real run's history, checked like a simulated one ---------------------------------------
g topics --bootstrap-server "$BROKER" create --topic cli-h --partitions 2 >/dev/null
seq 1 300 | sed 's/^/h-/' | g produce --bootstrap-server "$BROKER" --topic cli-h --idempotence \
  --history "$work/history.jsonl"
g consume --bootstrap-server "$BROKER" --topic cli-h --from-beginning --max-messages 300 \
  --timeout-ms 20000 --history "$work/history.jsonl" >/dev/null 2>&1
[[ $(grep -c '"op.ok"' "$work/history.jsonl") -ge 301 ]] || fail "history: $(head -3 "$work/history.jsonl")"
expect_status 0 g check "$work/history.jsonl"
grep -q PASS "$work/out" || fail "check of a real run: $(cat "$work/out")"
# A reader that saw another value at an acknowledged offset is caught.
first_ok=$(grep -m1 '"op.ok","op":1,' "$work/history.jsonl")
part=$(sed 's/.*"partition":\([0-9]*\).*/\1/' <<<"$first_ok")
off=$(sed 's/.*"offset":\([0-9]*\).*/\1/' <<<"$first_ok")
echo '{"t":1,"n":"liar","k":"op.invoke","op":1,"f":"poll"}' >>"$work/history.jsonl"
echo "{\"t\":2,\"n\":\"liar\",\"k\":\"op.ok\",\"op\":1,\"f\":\"poll\",\"records\":[[\"cli-h\",$part,$off,\"forged\"]]}" \
  >>"$work/history.jsonl"
expect_status 1 g check "$work/history.jsonl"
grep -q inconsistent-offsets "$work/out" || fail "forged read not caught: $(cat "$work/out")"

# --- consumer groups (kcat -G makes the group and its commits) ------------------------------------
command -v kcat >/dev/null || fail "kcat is missing (scripts/setup installs it)"
g topics --bootstrap-server "$BROKER" create --topic cli-g --partitions 2 >/dev/null
seq 1 10 | g produce --bootstrap-server "$BROKER" --topic cli-g --partition 0
seq 11 14 | g produce --bootstrap-server "$BROKER" --topic cli-g --partition 1
kcat -b "$BROKER" -G cli-grp -q -e -X enable.partition.eof=true -X auto.offset.reset=earliest \
  -X session.timeout.ms=6000 cli-g >"$work/kcat.out" 2>"$work/kcat.err" ||
  fail "kcat -G: $(tail -5 "$work/kcat.err")"
[[ $(wc -l <"$work/kcat.out") -eq 14 ]] || fail "kcat -G read $(wc -l <"$work/kcat.out") records"
seq 15 19 | g produce --bootstrap-server "$BROKER" --topic cli-g --partition 0
g groups --bootstrap-server "$BROKER" list | grep -qx cli-grp || fail "groups list misses cli-grp"
g groups --bootstrap-server "$BROKER" --json list |
  grep -q '{"group":"cli-grp","protocol_type":"consumer"' ||
  fail "groups --json list: $(g groups --bootstrap-server "$BROKER" --json list)"
g groups --bootstrap-server "$BROKER" describe --all-groups | grep -q "^cli-grp  *cli-g  *1 " ||
  fail "describe --all-groups misses cli-grp"
desc=$(g groups --bootstrap-server "$BROKER" describe cli-grp)
grep -Eq '^cli-grp +127\.0\.0\.1:[0-9]+ \(0\) +consumer +- +Empty +0$' <<<"$desc" ||
  fail "describe of the empty group: $desc"
grep -q "Consumer group 'cli-grp' has no active members." <<<"$desc" ||
  fail "no-members note: $desc"
grep -Eq '^cli-grp +cli-g +0 +10 +15 +5 +- +- +-$' <<<"$desc" || fail "partition 0 row: $desc"
grep -Eq '^cli-grp +cli-g +1 +4 +4 +0 +- +- +-$' <<<"$desc" || fail "partition 1 row: $desc"
# A live member: kcat -G in the background until it owns both partitions.
kcat -b "$BROKER" -G cli-grp -q -X client.id=cli-kcat -X session.timeout.ms=6000 \
  -X heartbeat.interval.ms=500 cli-g >/dev/null 2>&1 &
kcat_pid=$!
stable=""
for _ in $(seq 1 100); do
  g groups --bootstrap-server "$BROKER" describe cli-grp --json >"$work/group.json"
  if grep -q '"state":"Stable"' "$work/group.json"; then stable=1; break; fi
  sleep 0.1
done
kill -TERM "$kcat_pid"
wait "$kcat_pid" || true
[[ -n $stable ]] || fail "the group never became Stable: $(cat "$work/group.json")"
# The live member as --json shows it.
check_live_group() {
  /usr/bin/python3 - "$1" <<'EOF'
import json, sys
g = json.load(open(sys.argv[1]))["groups"][0]
assert g["group"] == "cli-grp" and g["protocol_type"] == "consumer" and g["protocol"], g
[m] = g["members"]
assert m["client_id"] == "cli-kcat" and m["host"] and m["member_id"], m
owned = sorted((a["topic"], a["partition"]) for a in m["assignment"])
assert owned == [("cli-g", 0), ("cli-g", 1)], m
rows = {r["partition"]: r for r in g["offsets"]}
assert rows[0]["log_end_offset"] == 15 and rows[1]["log_end_offset"] == 4, rows
for r in rows.values():
    assert r["consumer_id"] == m["member_id"] and r["client_id"] == "cli-kcat", rows
EOF
}
check_live_group "$work/group.json" ||
  fail "describe --json of the live group: $(cat "$work/group.json")"
expect_status 1 g groups --bootstrap-server "$BROKER" describe cli-grp no-such-group
grep -q "Consumer group 'no-such-group' does not exist." "$work/err" ||
  fail "unknown group: $(cat "$work/err")"
grep -q "^cli-grp " "$work/out" || fail "the known group was not printed beside the unknown one"
expect_status 1 g groups --bootstrap-server 127.0.0.1:1 list
grep -q "gregor groups:" "$work/err" || fail "unreachable broker: $(cat "$work/err")"
expect_status 1 g groups --bootstrap-server 127.0.0.1:1 describe cli-grp
expect_status 2 g groups --bootstrap-server "$BROKER" describe
expect_status 2 g groups --bootstrap-server "$BROKER"

# --- delete -------------------------------------------------------------------------------------
out=$(g topics --bootstrap-server "$BROKER" delete --topic cli-t --topic cli-c --topic cli-h)
[[ $out == *"Deleted topic cli-t."* && $out == *"Deleted topic cli-c."* ]] || fail "delete: $out"
! g topics --bootstrap-server "$BROKER" list | grep -qx cli-t || fail "cli-t still listed"
expect_status 1 g topics --bootstrap-server "$BROKER" delete --topic cli-t
echo "client cli: ok"

#!/usr/bin/env bash
# Replication survives SIGKILL: three `gregor serve` processes (broker and controller each) host
# one partition with replication factor 3 and min.insync.replicas = 2, with no fsync per message
# (log.flush.interval.messages at its default: replication is the durability). kcat produces
# numbered messages with acks=all and idempotence in small batches while the partition's leader is
# killed with SIGKILL and restarted, then a follower, then the new leader. Once the ISR is back to
# three, the partition read from the beginning must hold every acknowledged message, in increasing
# order, none twice.
#
# kcat reports delivery per message but names no message in its report, so a whole batch (one
# kcat invocation) counts as acknowledged only if kcat exited 0 with no failure on stderr; the
# messages of any other batch may or may not be in the log.
# Usage: replication_kill.sh GREGOR_BINARY
set -euo pipefail
gregor=$1
work=$(mktemp -d "${TMPDIR:-/tmp}/gregor-replication.XXXXXX")
topic=numbers
batch_messages=25      # messages per kcat invocation
wait_s=30              # every bounded wait below
kcat_timeout_s=40      # one producing kcat, hard bound (its message.timeout.ms is 20 s)
declare -A pid broker starts
producer_pid=
cleanup() {
  [[ -n "$producer_pid" ]] && kill "$producer_pid" 2>/dev/null || true
  for n in 1 2 3; do [[ -n "${pid[$n]:-}" ]] && kill -9 "${pid[$n]}" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*"
  for f in "$work"/n*.log; do echo "--- $(basename "$f")"; tail -40 "$f" || true; done
  if [[ -s "$work/batches" ]]; then
    echo "--- batches (first last result), last 10:"
    tail -10 "$work/batches"
  fi
  exit 1
}

# Six free ports: three controllers (voters are fixed before the processes start) and three
# brokers, fixed too so that a restarted node is where the clients' bootstrap list says.
read -r p1 p2 p3 q1 q2 q3 < <(/usr/bin/python3 - <<'EOF'
import socket
socks = [socket.socket() for _ in range(6)]
for s in socks: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in socks])
EOF
)
voters="1@127.0.0.1:$p1,2@127.0.0.1:$p2,3@127.0.0.1:$p3"
broker=([1]="127.0.0.1:$q1" [2]="127.0.0.1:$q2" [3]="127.0.0.1:$q3")
all="${broker[1]},${broker[2]},${broker[3]}"
# Short timeouts keep the test fast: a killed broker is fenced (and its leadership moved) after
# the session timeout, a killed follower leaves the ISR after the lag time.
for n in 1 2 3; do
  cat >"$work/n$n.toml" <<EOF
node.id = $n
"controller.quorum.voters" = "$voters"
"process.roles" = "broker,controller"
"default.replication.factor" = 3
"min.insync.replicas" = 2
"replica.lag.time.max.ms" = 3000
"broker.heartbeat.interval.ms" = 500
"broker.session.timeout.ms" = 3000
EOF
done

# Each start of node N logs to its own file, n<N>.<start>.log.
start() {
  local n=$1
  starts[$n]=$((${starts[$n]:-0} + 1))
  local log="$work/n$n.${starts[$n]}.log"
  "$gregor" --log-level info serve --config "$work/n$n.toml" --log-dir "$work/data$n" \
    --listen "${broker[$n]}" >"$log" 2>&1 &
  pid[$n]=$!
  for _ in $(seq 1 200); do
    grep -q "broker listening on" "$log" 2>/dev/null && return 0
    sleep 0.05
  done
  fail "node $n did not start"
}
kill9() {
  kill -9 "${pid[$1]}"
  wait "${pid[$1]}" 2>/dev/null || true
  pid[$1]=
}

# The partition as broker $1's Metadata shows it: "LEADER REPLICAS ISR", ISR as sorted ids
# joined by commas; nothing if the broker does not answer.
partition_state() {
  timeout 10 kcat -b "${broker[$1]}" -L -J -t "$topic" -m 5 2>/dev/null | /usr/bin/python3 -c '
import json, sys
try:
    p = json.load(sys.stdin)["topics"][0]["partitions"][0]
except (ValueError, KeyError, IndexError):
    sys.exit(0)
print(p["leader"], len(p["replicas"]), ",".join(sorted(str(r["id"]) for r in p["isrs"])))
' || true
}
# Waits until every running broker shows 3 replicas and an ISR of all three.
wait_full_isr() {
  local seen=
  for _ in $(seq 1 $((wait_s * 4))); do
    local ok=1
    for n in 1 2 3; do
      [[ -n "${pid[$n]}" ]] || continue
      seen=$(partition_state "$n")
      [[ "$seen" =~ ^[123]\ 3\ 1,2,3$ ]] || { ok=0; break; }
    done
    [[ $ok -eq 1 ]] && return 0
    sleep 0.25
  done
  fail "ISR not back to 3 within ${wait_s}s (last seen: leader replicas isr = '$seen') $*"
}
# The leader as a running broker other than $1 reports it, once that is neither $1 nor none.
wait_leader_other_than() {
  local gone=$1 seen=
  for _ in $(seq 1 $((wait_s * 4))); do
    for n in 1 2 3; do
      [[ -n "${pid[$n]}" && "$n" != "$gone" ]] || continue
      seen=$(partition_state "$n")
      local leader=${seen%% *}
      if [[ "$leader" =~ ^[123]$ && "$leader" != "$gone" ]]; then
        echo "$leader"
        return 0
      fi
    done
    sleep 0.25
  done
  fail "no leader other than $gone within ${wait_s}s (last seen: '$seen')" >&2
}

# Produces batches 1..25, 26..50, ... until $work/stop exists, one kcat per batch, appending
# "FIRST LAST ok|failed" to $work/batches. A TERM kills the kcat in flight too.
produce_loop() {
  local first=1 kcat_pid=
  trap '[[ -n "$kcat_pid" ]] && kill "$kcat_pid" 2>/dev/null; exit 0' TERM
  while [[ ! -e "$work/stop" ]]; do
    local last=$((first + batch_messages - 1)) result=failed
    seq "$first" "$last" | timeout "$kcat_timeout_s" kcat -b "$all" -P -t "$topic" \
      -X acks=all -X enable.idempotence=true -X message.timeout.ms=20000 \
      2>"$work/kcat.err" &
    kcat_pid=$!
    if wait "$kcat_pid" && ! grep -Eq "Delivery failed|Fatal|ERROR: Failed" "$work/kcat.err"; then
      result=ok
    else
      { echo "batch $first..$last:"; cat "$work/kcat.err"; } >>"$work/kcat_failures"
    fi
    kcat_pid=
    echo "$first $last $result" >>"$work/batches"
    first=$((last + 1))
  done
}
acked_batches() { grep -c " ok$" "$work/batches" 2>/dev/null || true; }
# Waits until $1 more batches than now are acknowledged: the cluster makes progress.
wait_progress() {
  local want=$(($(acked_batches) + $1))
  for _ in $(seq 1 $((wait_s * 10))); do
    [[ $(acked_batches) -ge $want ]] && return 0
    sleep 0.1
  done
  fail "no $1 acknowledged batches within ${wait_s}s $2"
}

for n in 1 2 3; do start "$n"; done
for n in 1 2 3; do
  for _ in $(seq 1 200); do
    grep -q "broker $n: unfenced" "$work/n$n.1.log" && break
    sleep 0.05
  done
  grep -q "broker $n: unfenced" "$work/n$n.1.log" || fail "broker $n was never unfenced"
done
created=0
for _ in $(seq 1 60); do
  if "$gregor" topics --bootstrap-server "${broker[1]}" create --topic "$topic" --partitions 1 \
    --replication-factor 3 >"$work/create.out" 2>&1; then
    created=1
    break
  fi
  sleep 0.5
done
[[ $created -eq 1 ]] || { cat "$work/create.out"; fail "creating $topic"; }
wait_full_isr "after creating $topic"

produce_loop &
producer_pid=$!
wait_progress 5 "before any kill"

leader=$(partition_state 1)
leader=${leader%% *}
[[ "$leader" =~ ^[123]$ ]] || fail "no leader to kill"
kill9 "$leader"
new_leader=$(wait_leader_other_than "$leader")
wait_progress 3 "after killing leader $leader"
start "$leader"
wait_full_isr "after restarting leader $leader"
echo "leader $leader killed; $new_leader took over; $leader back in the ISR"

follower=$((new_leader % 3 + 1))
kill9 "$follower"
wait_progress 3 "after killing follower $follower"
start "$follower"
wait_full_isr "after restarting follower $follower"
echo "follower $follower killed; back in the ISR"

kill9 "$new_leader"
third_leader=$(wait_leader_other_than "$new_leader")
wait_progress 3 "after killing leader $new_leader"
start "$new_leader"
wait_full_isr "after restarting leader $new_leader"
echo "leader $new_leader killed; $third_leader took over; $new_leader back in the ISR"

wait_progress 2 "after the restarts"
touch "$work/stop"
wait "$producer_pid" || true
producer_pid=
wait_full_isr "at the end"

timeout 60 kcat -b "$all" -C -t "$topic" -o beginning -e -q >"$work/consumed" 2>"$work/consume.err" ||
  { cat "$work/consume.err"; fail "kcat could not consume $topic"; }
/usr/bin/python3 - "$work/batches" "$work/consumed" <<'EOF' || fail "acknowledged messages lost, duplicated or reordered"
import sys
acked, sent, failed_batches = set(), set(), 0
for line in open(sys.argv[1]):
    first, last, result = line.split()
    numbers = range(int(first), int(last) + 1)
    sent.update(numbers)
    if result == "ok":
        acked.update(numbers)
    else:
        failed_batches += 1
consumed = [int(v) for v in open(sys.argv[2]).read().split()]
seen, duplicates, reordered = set(), 0, 0
for i, v in enumerate(consumed):
    duplicates += v in seen
    seen.add(v)
    reordered += i > 0 and v < consumed[i - 1]
lost = sorted(acked - seen)
unknown = sorted(seen - sent)
print(f"acked {len(acked)}, consumed {len(consumed)}, lost {len(lost)}, "
      f"duplicates {duplicates}, reordered {reordered}, never sent {len(unknown)}, "
      f"failed batches {failed_batches}")
if lost:
    print("lost (first 20):", lost[:20])
sys.exit(1 if lost or duplicates or reordered or unknown or not acked else 0)
EOF

for n in 1 2 3; do
  kill -TERM "${pid[$n]}"
done
for n in 1 2 3; do
  for _ in $(seq 1 $((wait_s * 10))); do
    kill -0 "${pid[$n]}" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "${pid[$n]}" 2>/dev/null && fail "node $n did not stop within ${wait_s}s of SIGTERM"
  wait "${pid[$n]}" || fail "node $n exited with $?"
  pid[$n]=
  grep -q "stopped cleanly" "$work/n$n.${starts[$n]}.log" || fail "node $n did not stop cleanly"
done
echo "replication ok: leader killed twice and a follower once (SIGKILL), no acknowledged message lost"

#!/usr/bin/env bash
# Three `gregor serve` processes on loopback form a controller quorum (each node is broker and
# controller, voters 1..3). Topics are created through the quorum and kcat produces to and
# consumes from partitions led by all three brokers. Then the active controller is killed with
# SIGKILL: another node becomes active, topic creation keeps working, and the killed node comes
# back, catches up with the metadata it missed and serves again. Finally every node stops cleanly.
# Usage: quorum_failover.sh GREGOR_BINARY
set -euo pipefail
gregor=$1
work=$(mktemp -d "${TMPDIR:-/tmp}/gregor-quorum.XXXXXX")
declare -A pid broker
cleanup() {
  for n in 1 2 3; do [[ -n "${pid[$n]:-}" ]] && kill -9 "${pid[$n]}" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*"
  for f in "$work"/n*.log; do echo "--- $(basename "$f")"; tail -30 "$f" || true; done
  exit 1
}

# Three free ports for the controllers (voters must be fixed before the processes start).
read -r p1 p2 p3 < <(/usr/bin/python3 - <<'EOF'
import socket
socks = [socket.socket() for _ in range(3)]
for s in socks: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in socks])
EOF
)
voters="1@127.0.0.1:$p1,2@127.0.0.1:$p2,3@127.0.0.1:$p3"
for n in 1 2 3; do
  cat >"$work/n$n.toml" <<EOF
node.id = $n
"controller.quorum.voters" = "$voters"
"process.roles" = "broker,controller"
"num.partitions" = 3
EOF
done

# Each start of node N logs to its own file, n<N>.<start>.log (a restart must not see the
# previous process's "listening on").
declare -A starts
start() {
  local n=$1
  starts[$n]=$((${starts[$n]:-0} + 1))
  local log="$work/n$n.${starts[$n]}.log"
  "$gregor" --log-level info serve --config "$work/n$n.toml" --log-dir "$work/data$n" \
    --listen 127.0.0.1:0 >"$log" 2>&1 &
  pid[$n]=$!
  for _ in $(seq 1 200); do
    grep -q "broker listening on" "$log" 2>/dev/null && break
    sleep 0.05
  done
  broker[$n]=$(sed -n 's/.*broker listening on \([0-9.]*:[0-9]*\).*/\1/p' "$log" | tail -1)
  [[ -n "${broker[$n]}" ]] || fail "node $n did not start"
}

# The node whose controller became active last (the highest epoch in the logs).
active_controller() {
  grep -H "active in epoch" "$work"/n*.log | sed -n 's/.*n\([0-9]\)\.[0-9]*\.log:.*active in epoch \([0-9]*\).*/\2 \1/p' |
    sort -n | tail -1 | cut -d' ' -f2
}

# Creates a topic through node $2's broker, retrying while the quorum elects (up to 30 s).
create_topic() {
  local topic=$1 via=$2
  for _ in $(seq 1 60); do
    if "$gregor" topics --bootstrap-server "${broker[$via]}" create --topic "$topic" \
      --partitions 3 >"$work/create.out" 2>&1; then
      return 0
    fi
    sleep 0.5
  done
  cat "$work/create.out"
  fail "creating $topic through node $via"
}

for n in 1 2 3; do start "$n"; done
# Placement uses the unfenced brokers: wait until the controller has unfenced all three.
for n in 1 2 3; do
  for _ in $(seq 1 200); do
    grep -q "broker $n: unfenced" "$work/n$n.1.log" && break
    sleep 0.05
  done
  grep -q "broker $n: unfenced" "$work/n$n.1.log" || fail "broker $n was never unfenced"
done
create_topic before 1
all="${broker[1]},${broker[2]},${broker[3]}"
# Partitions are spread over the three brokers (replication factor 1): every one leads some.
"$gregor" topics --bootstrap-server "${broker[2]}" describe --topic before >"$work/describe.out"
for n in 1 2 3; do
  grep -Eq "Leader: $n\b" "$work/describe.out" || { cat "$work/describe.out"; fail "broker $n leads nothing"; }
done
# Bounded: a partition without a leader would make kcat retry for its default 5 minutes.
seq 1 300 | kcat -b "$all" -P -t before -X acks=all -X message.timeout.ms=30000 ||
  fail "kcat could not produce"
got=$(timeout 60 kcat -b "$all" -C -t before -o beginning -e -q | wc -l) || true
[[ "$got" -eq 300 ]] || fail "consumed $got of 300"

victim=$(active_controller)
[[ -n "$victim" ]] || fail "no active controller in the logs"
kill -9 "${pid[$victim]}"
wait "${pid[$victim]}" 2>/dev/null || true
pid[$victim]=
survivor=$((victim % 3 + 1))
create_topic after "$survivor"
new_active=$(active_controller)
[[ "$new_active" != "$victim" ]] || fail "node $victim is still the last active controller"
echo "active controller $victim killed; node $new_active took over"

start "$victim"
for _ in $(seq 1 100); do
  "$gregor" topics --bootstrap-server "${broker[$victim]}" list >"$work/list.out" 2>&1 || true
  grep -qx after "$work/list.out" && break
  sleep 0.2
done
grep -qx after "$work/list.out" || { cat "$work/list.out"; fail "node $victim did not catch up with the topic created without it"; }

for n in 1 2 3; do
  kill -TERM "${pid[$n]}"
  wait "${pid[$n]}" || fail "node $n exited with $?"
  pid[$n]=
  grep -q "stopped cleanly" "$work/n$n.${starts[$n]}.log" || fail "node $n did not stop cleanly"
done
echo "quorum ok: 3 processes, controller failover from node $victim to $new_active, topics created before and after"

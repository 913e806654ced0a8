"""python3-confluent-kafka (librdkafka 2.0.2) consumer group against Gregor: three consumers of one
group share a 6-partition topic, polled in turn from this one thread; once with the range assignor
(eager rebalancing), once with cooperative-sticky (incremental rebalancing, KIP-429).

  1. 300 messages; once the group is stable every partition has exactly one owner (2 each);
  2. one member leaves (close): the other two own 3 partitions each; 300 more messages;
  3. a new member joins: three owners again, 2 partitions each; 300 more messages;
  4. every message was consumed, and none twice: each consumer commits every message
     synchronously after processing it, and only a message whose commit succeeded counts (a
     commit refused during a rebalance leaves the message to be read again, which is allowed);
  5. the committed offsets are the log end offsets, and a new member of the group sees nothing.

Run through with_broker.sh (needs $BROKER)."""
import os
import sys
import time

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

BROKER = os.environ["BROKER"]
# Set for each run by the loop at the end.
STRATEGY = TOPIC = GROUP = None
PARTITIONS = 6
PER_PHASE = 300
STABLE_TIMEOUT_S = 30
BUDGET_S = 50  # per run; both under ctest's 120 s, so a hang fails with this script's message
DEADLINE = None


def fail(message):
    sys.exit(f"FAIL: {message}")


class Member:
    """One group member: what it was assigned, what it read and what it committed."""

    def __init__(self, name, counted, delivered, refused):
        self.name = name
        self.assigned = set()
        self.counted = counted  # value -> member whose commit of it succeeded
        self.delivered = delivered  # value -> times delivered to any member
        self.refused = refused  # value -> times its commit was refused
        self.consumer = Consumer({
            "bootstrap.servers": BROKER, "group.id": GROUP, "client.id": name,
            "enable.auto.commit": False, "auto.offset.reset": "earliest",
            "session.timeout.ms": 6000, "heartbeat.interval.ms": 500,
            "max.poll.interval.ms": 20000, "partition.assignment.strategy": STRATEGY,
        })
        self.consumer.subscribe([TOPIC], on_assign=self._on_assign, on_revoke=self._on_revoke,
                                on_lost=self._on_revoke)

    # Eager rebalancing revokes everything, then assigns; cooperative adds and removes some.
    def _on_assign(self, consumer, partitions):
        self.assigned |= {p.partition for p in partitions}

    def _on_revoke(self, consumer, partitions):
        self.assigned -= {p.partition for p in partitions}

    def poll(self):
        msg = self.consumer.poll(0.05)
        if msg is None:
            return
        if msg.error():
            fail(f"{self.name}: consume error {msg.error()}")
        value = msg.value().decode()
        self.delivered[value] = self.delivered.get(value, 0) + 1
        if msg.partition() not in self.assigned:
            fail(f"{self.name} got {value} from partition {msg.partition()}, "
                 f"not in its assignment {sorted(self.assigned)}")
        try:
            result = self.consumer.commit(message=msg, asynchronous=False)
            errors = [tp.error for tp in result if tp.error]
        except KafkaException as e:
            errors = [e.args[0]]
        if errors:
            # Refused mid-rebalance: whoever owns the partition next reads it again.
            self.refused[value] = self.refused.get(value, 0) + 1
            return
        if value in self.counted:
            fail(f"{value} consumed and committed twice: by {self.counted[value]}, then by "
                 f"{self.name} at partition {msg.partition()} offset {msg.offset()}")
        self.counted[value] = self.name

    def close(self):
        self.consumer.close()


def produce(first, count):
    producer = Producer({"bootstrap.servers": BROKER, "enable.idempotence": True, "acks": "all",
                         "linger.ms": 5})
    for i in range(first, first + count):
        producer.produce(TOPIC, key=b"k%d" % i, value=b"m-%d" % i, partition=i % PARTITIONS)
    if producer.flush(30):
        fail("messages not delivered")


def poll_until(members, pred, what, timeout_s=STABLE_TIMEOUT_S):
    deadline = min(time.monotonic() + timeout_s, DEADLINE)
    while time.monotonic() < deadline:
        for m in members:
            m.poll()
        if pred():
            return
    fail(f"timed out waiting for {what}; assignments: " +
         ", ".join(f"{m.name}={sorted(m.assigned)}" for m in members))


def owners_ok(members, per_member):
    """Every partition has exactly one owner, each member owns per_member partitions."""
    owned = [p for m in members for p in m.assigned]
    return sorted(owned) == list(range(PARTITIONS)) and all(
        len(m.assigned) == per_member for m in members)


def all_counted(counted, n):
    return len(counted) == n


def main():
    global DEADLINE
    DEADLINE = time.monotonic() + BUDGET_S
    admin = AdminClient({"bootstrap.servers": BROKER})
    for f in admin.create_topics([NewTopic(TOPIC, PARTITIONS, 1)]).values():
        f.result(30)
    counted, delivered, refused = {}, {}, {}
    started = time.monotonic()

    produce(0, PER_PHASE)
    members = [Member(f"c{i}", counted, delivered, refused) for i in (1, 2, 3)]
    poll_until(members, lambda: owners_ok(members, 2), "3 members owning 2 partitions each")
    print(f"{STRATEGY}: stable with 3 members: {[sorted(m.assigned) for m in members]}")
    poll_until(members, lambda: all_counted(counted, PER_PHASE), f"{PER_PHASE} messages")

    leaver = members.pop()
    leaver.close()
    poll_until(members, lambda: owners_ok(members, 3), "2 members owning 3 partitions each")
    print(f"stable after {leaver.name} left: {[sorted(m.assigned) for m in members]}")
    produce(PER_PHASE, PER_PHASE)
    poll_until(members, lambda: all_counted(counted, 2 * PER_PHASE), f"{2 * PER_PHASE} messages")

    members.append(Member("c4", counted, delivered, refused))
    poll_until(members, lambda: owners_ok(members, 2), "3 members (c4 joined) owning 2 each")
    print(f"stable after c4 joined: {[sorted(m.assigned) for m in members]}")
    produce(2 * PER_PHASE, PER_PHASE)
    total = 3 * PER_PHASE
    poll_until(members, lambda: all_counted(counted, total), f"{total} messages")
    # A little longer: nothing more may arrive.
    end = time.monotonic() + 1
    while time.monotonic() < end:
        for m in members:
            m.poll()
    for m in members:
        m.close()

    want = {f"m-{i}" for i in range(total)}
    if set(counted) != want:
        missing = sorted(want - set(counted))[:5]
        fail(f"{len(counted)} of {total} messages consumed; missing e.g. {missing}")
    # Each delivery was either the one counted or followed by a refused commit.
    extra = {v: (n, refused.get(v, 0)) for v, n in delivered.items() if n != 1 + refused.get(v, 0)}
    if extra:
        fail(f"{len(extra)} messages delivered more often than refused commits explain, as "
             f"value: (deliveries, refused commits): {sorted(extra.items())[:5]}")

    # The group's committed offsets are the log ends, and a new member reads nothing.
    last = Consumer({"bootstrap.servers": BROKER, "group.id": GROUP, "client.id": "c5",
                     "enable.auto.commit": False, "auto.offset.reset": "earliest",
                     "session.timeout.ms": 6000, "heartbeat.interval.ms": 500,
                     "partition.assignment.strategy": STRATEGY})
    tps = [TopicPartition(TOPIC, p) for p in range(PARTITIONS)]
    committed = last.committed(tps, timeout=30)
    for tp in committed:
        low, high = last.get_watermark_offsets(TopicPartition(TOPIC, tp.partition), timeout=30)
        if tp.error or tp.offset != high:
            fail(f"partition {tp.partition}: committed {tp.offset} (error {tp.error}), "
                 f"log end {high}")
    got = []
    assigned = []
    last.subscribe([TOPIC], on_assign=lambda c, ps: assigned.extend(ps))
    deadline = time.monotonic() + STABLE_TIMEOUT_S
    while time.monotonic() < deadline and not assigned:
        msg = last.poll(0.1)
        if msg is not None and not msg.error():
            got.append(msg.value())
    if len(assigned) != PARTITIONS:
        fail(f"the last member was assigned {len(assigned)} partitions, want {PARTITIONS}")
    end = time.monotonic() + 2
    while time.monotonic() < end:
        msg = last.poll(0.1)
        if msg is not None and not msg.error():
            got.append(msg.value())
    last.close()
    if got:
        fail(f"a new member after the final commit read {len(got)} messages, e.g. {got[:3]}")
    print(f"confluent-kafka group ({STRATEGY}) ok: {total} messages once each over 3 rebalances "
          f"({sum(refused.values())} commits refused mid-rebalance, re-read) in "
          f"{time.monotonic() - started:.1f}s")


# Eager rebalancing (range: revoke everything, rejoin, assign) and KIP-429's cooperative
# rebalancing (cooperative-sticky: two rounds, only moved partitions revoked) over the same
# JoinGroup / SyncGroup protocol.
for STRATEGY in ("range", "cooperative-sticky"):
    TOPIC = f"confluent-group-{STRATEGY}"
    GROUP = f"{TOPIC}-1"
    main()

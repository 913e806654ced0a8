"""python3-kafka (kafka-python 2.0.2) consumer group against Gregor: a subscribed consumer reads
375 of 500 messages on 2 partitions (so it reads from both, and stops inside at least one),
commits synchronously and closes (LeaveGroup); a second consumer of the same group resumes after
the commit and reads exactly the other 125 (none again, none lost); the group's committed offsets
are then the log end offsets. Run through with_broker.sh (needs $BROKER)."""
import os
import sys
import time

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic

BROKER = os.environ["BROKER"]
TOPIC = "kafka-python-group"
GROUP = "kafka-python-group-1"
N = 500
FIRST = 375  # more than one partition holds: both are read, at least one in part


def fail(message):
    sys.exit(f"FAIL: {message}")


def consumer(name):
    c = KafkaConsumer(bootstrap_servers=BROKER, group_id=GROUP, client_id=name,
                      enable_auto_commit=False, auto_offset_reset="earliest",
                      session_timeout_ms=6000, heartbeat_interval_ms=500)
    c.subscribe([TOPIC])
    return c


def read(c, count, timeout_s):
    """Polls until `count` records (exactly: max_records keeps the position at the last one
    returned) or the timeout; returns their values."""
    got = []
    deadline = time.monotonic() + timeout_s
    while len(got) < count and time.monotonic() < deadline:
        batch = c.poll(timeout_ms=200, max_records=count - len(got))
        for records in batch.values():
            got.extend(r.value.decode() for r in records)
    return got


started = time.monotonic()
admin = KafkaAdminClient(bootstrap_servers=BROKER)
admin.create_topics([NewTopic(TOPIC, num_partitions=2, replication_factor=1)])
admin.close()
producer = KafkaProducer(bootstrap_servers=BROKER, acks="all")
for i in range(N):
    producer.send(TOPIC, value=b"m-%d" % i, partition=i % 2)
producer.flush(30)
producer.close()

first = consumer("first")
got1 = read(first, FIRST, 30)
if len(got1) != FIRST:
    fail(f"first consumer read {len(got1)} records in 30s, want {FIRST}; "
         f"assignment {first.assignment()}")
first.commit()
tps = [TopicPartition(TOPIC, p) for p in (0, 1)]
committed1 = {tp.partition: first.committed(tp) for tp in tps}
positions = {tp.partition: first.position(tp) for tp in first.assignment()}
if committed1 != positions:
    fail(f"after commit() the committed offsets {committed1} are not the positions {positions}")
first.close()  # leaves the group

second = consumer("second")
got2 = read(second, N - FIRST, 30)
extra = read(second, 1, 2)  # anything past the end would be a repeat
ends = second.end_offsets(tps)
second.commit()
committed2 = {tp.partition: second.committed(tp) for tp in tps}
second.close()

if len(set(got1)) != len(got1):
    fail("the first consumer saw a value twice")
both = got1 + got2 + extra
repeats = sorted({v for v in both if both.count(v) > 1})
if repeats:
    fail(f"the second consumer re-read {len(repeats)} values the first had committed, "
         f"e.g. {repeats[:5]}; committed after the first: {committed1}")
missing = sorted({f"m-{i}" for i in range(N)} - set(both))
if missing:
    fail(f"{len(missing)} values never read, e.g. {missing[:5]}; committed after the first: "
         f"{committed1}")
if committed2 != {tp.partition: ends[tp] for tp in tps}:
    fail(f"committed offsets {committed2} at the end, log ends {ends}")
print(f"kafka-python group ok: {FIRST} + {N - FIRST} records in two consumers of {GROUP}, "
      f"resumed at {committed1}, in {time.monotonic() - started:.1f}s")

"""python3-confluent-kafka (librdkafka 2.0.2) against Gregor: for each compression codec (gzip,
snappy, lz4, zstd) an idempotent producer writes 2,000 keyed messages, and an assigned consumer
reads every one back, in order, with its key. Run through with_broker.sh (needs $BROKER)."""
import os
import sys

from confluent_kafka import Consumer, Producer, TopicPartition

BROKER = os.environ["BROKER"]
N = 2000


def roundtrip(codec):
    topic = "codec-" + codec
    producer = Producer({"bootstrap.servers": BROKER, "compression.codec": codec,
                         "enable.idempotence": True, "acks": "all", "linger.ms": 5})
    for i in range(N):
        producer.produce(topic, key=b"k%d" % (i % 13), value=b"%s-%d" % (codec.encode(), i))
    left = producer.flush(30)
    if left:
        sys.exit(f"{codec}: {left} messages not delivered")
    consumer = Consumer({"bootstrap.servers": BROKER, "group.id": "unused",
                         "enable.auto.commit": False})
    consumer.assign([TopicPartition(topic, 0, 0)])
    got = []
    while len(got) < N:
        msg = consumer.poll(10)
        if msg is None:
            break
        if msg.error():
            sys.exit(f"{codec}: consume error {msg.error()}")
        got.append((msg.offset(), msg.key(), msg.value()))
    consumer.close()
    want = [(i, b"k%d" % (i % 13), b"%s-%d" % (codec.encode(), i)) for i in range(N)]
    if got != want:
        bad = next((i for i, (a, b) in enumerate(zip(got, want)) if a != b), len(got))
        sys.exit(f"{codec}: got {len(got)} messages; first difference at {bad}")
    print(f"{codec}: {N} messages in order")


for codec in ["gzip", "snappy", "lz4", "zstd"]:
    roundtrip(codec)

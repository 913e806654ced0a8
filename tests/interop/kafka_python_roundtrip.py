"""python3-kafka (kafka-python 2.0.2) against Gregor: 1,000 keyed messages with acks=all get
offsets 0..999, and an assigned consumer reads them back in order. Run through with_broker.sh
(needs $BROKER)."""
import os
import sys

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

BROKER = os.environ["BROKER"]
TOPIC = "kafka-python-roundtrip"
N = 1000

producer = KafkaProducer(bootstrap_servers=BROKER, acks="all", linger_ms=2)
futures = [producer.send(TOPIC, key=b"k%d" % (i % 5), value=b"v%d" % i) for i in range(N)]
offsets = [f.get(timeout=30).offset for f in futures]
producer.close()
if offsets != list(range(N)):
    sys.exit(f"offsets {offsets[:5]}..., want 0..{N - 1}")

consumer = KafkaConsumer(bootstrap_servers=BROKER, consumer_timeout_ms=5000,
                         enable_auto_commit=False)
consumer.assign([TopicPartition(TOPIC, 0)])
consumer.seek_to_beginning()
got = [(m.offset, m.key, m.value) for m in consumer]
consumer.close()
want = [(i, b"k%d" % (i % 5), b"v%d" % i) for i in range(N)]
if got != want:
    sys.exit(f"got {len(got)} messages, first {got[:2]}")
print(f"kafka-python: {N} messages in order")

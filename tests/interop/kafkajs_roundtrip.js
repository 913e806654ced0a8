// kafkajs 2.2.4 against a Gregor broker: creates a topic with the admin client, produces 500
// keyed messages (acks=-1, idempotent) in batches of 50 and reads them back with kafkajs's Fetch,
// checking content and order. Exit 0 on success. Run through with_broker.sh (needs $BROKER).
const { Kafka, logLevel } = require('kafkajs');

async function main() {
  const broker = process.env.BROKER;
  const kafka = new Kafka({ clientId: 'gregor-interop', brokers: [broker], logLevel: logLevel.WARN });
  const topic = 'kafkajs-roundtrip';
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] });
  await admin.disconnect();

  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const n = 500;
  const sent = [];
  for (let i = 0; i < n; i += 50) {
    const messages = [];
    for (let j = i; j < i + 50; j++) messages.push({ key: `k${j % 7}`, value: `value-${j}` });
    const result = await producer.send({ topic, acks: -1, messages });
    sent.push(result[0].baseOffset);
  }
  await producer.disconnect();

  // Read back with kafkajs's own Fetch request and record decoding (the code its consumer runs);
  // its group consumer needs the consumer-group APIs of the next issue.
  const createCluster = Object.getOwnPropertySymbols(kafka).find((s) =>
    s.toString().includes('createCluster'));
  const cluster = kafka[createCluster]({});
  await cluster.connect();
  await cluster.addTargetTopic(topic);
  const leader = await cluster.findBroker({ nodeId: 0 });
  const got = [];
  let offset = 0;
  while (got.length < n) {
    const resp = await leader.fetch({
      maxWaitTime: 100,
      topics: [{ topic, partitions: [{ partition: 0, fetchOffset: String(offset), maxBytes: 4096 }] }],
    });
    const part = resp.responses[0].partitions[0];
    if (part.errorCode !== 0) throw new Error(`fetch error ${part.errorCode}`);
    for (const m of part.messages) {
      if (Number(m.offset) < offset) continue;
      got.push(`${m.key}=${m.value}`);
      offset = Number(m.offset) + 1;
    }
  }
  await cluster.disconnect();
  for (let i = 0; i < n; i++) {
    if (got[i] !== `k${i % 7}=value-${i}`) throw new Error(`message ${i} is ${got[i]}`);
  }
  console.log(`kafkajs ok: ${n} messages consumed in order; batches at ${sent.join(',')}`);
}

main().catch((e) => {
  console.error('kafkajs failed:', e);
  process.exit(1);
});

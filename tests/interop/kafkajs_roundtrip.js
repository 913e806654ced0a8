// kafkajs 2.2.4 against a Gregor broker: creates a topic with the admin client, produces 500
// keyed messages (acks=-1, idempotent) in batches of 50 and reads them back with kafkajs's group
// consumer (consumer.run), checking content and order. Exit 0 on success. Run through
// with_broker.sh (needs $BROKER).
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

  // Read back with kafkajs's group consumer (consumer.run), from the beginning.
  const consumer = kafka.consumer({
    groupId: 'kafkajs-roundtrip', sessionTimeout: 6000, heartbeatInterval: 500,
    maxWaitTimeInMs: 200,  // disconnect() waits for the fetch in flight (5 s by default)
  });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const got = [];
  let done;
  let crash;
  const all = new Promise((resolve) => { done = resolve; });
  consumer.on(consumer.events.CRASH, (e) => { crash = e.payload.error; done(); });
  await consumer.run({
    eachMessage: async ({ message }) => {
      got.push(`${message.key}=${message.value}`);
      if (got.length === n) done();
    },
  });
  const timeout = setTimeout(() => done(), 60000);
  await all;
  clearTimeout(timeout);
  await consumer.disconnect();
  if (crash) throw new Error(`the consumer crashed after ${got.length} messages: ${crash}`);
  if (got.length !== n) throw new Error(`consumed ${got.length} of ${n} messages in 60 s`);
  for (let i = 0; i < n; i++) {
    if (got[i] !== `k${i % 7}=value-${i}`) throw new Error(`message ${i} is ${got[i]}`);
  }
  console.log(`kafkajs ok: ${n} messages consumed in order; batches at ${sent.join(',')}`);
}

main().catch((e) => {
  console.error('kafkajs failed:', e);
  process.exit(1);
});

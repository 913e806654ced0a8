// kafkajs 2.2.4 consumer group against Gregor, with committed offsets:
//   1. 300 messages on 3 partitions; a group consumer (consumer.run, eachMessage, auto commit)
//      reads them all and disconnects; the group's committed offsets (admin.fetchOffsets) are
//      then the log end offsets, and ListGroups / DescribeGroups show the group, Empty;
//   2. 100 more messages; a second run of the same group reads exactly those 100 (none of the
//      first 300 again, none lost); while it runs, DescribeGroups shows it Stable with one
//      member that owns the 3 partitions.
// Exit 0 on success. Run through with_broker.sh (needs $BROKER).
const { AssignerProtocol, Kafka, logLevel } = require('kafkajs');

const topic = 'kafkajs-group';
const groupId = 'kafkajs-group-1';

function fail(message) {
  throw new Error(`FAIL: ${message}`);
}

async function produce(kafka, first, count) {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const messages = [];
  for (let i = first; i < first + count; i++) {
    messages.push({ key: `k${i}`, value: `m-${i}`, partition: i % 3 });
  }
  await producer.send({ topic, acks: -1, messages });
  await producer.disconnect();
}

// One run of the group until `want` messages came (then `linger` ms more, to catch extras) or
// 30 s passed; `during(consumer)` runs then, while the consumer is still a member. Returns the
// values read.
async function groupRun(kafka, want, linger, during) {
  // maxWaitTimeInMs: disconnect() waits for the fetch in flight (5 s by default).
  const consumer = kafka.consumer({
    groupId, sessionTimeout: 6000, heartbeatInterval: 500, maxWaitTimeInMs: 200,
  });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const got = [];
  let done;
  let crash;
  const enough = new Promise((resolve) => { done = resolve; });
  consumer.on(consumer.events.CRASH, (e) => { crash = e.payload.error; done(); });
  await consumer.run({
    eachMessage: async ({ message }) => {
      got.push(message.value.toString());
      if (got.length >= want) done();
    },
  });
  const timeout = setTimeout(done, 30000);
  await enough;
  clearTimeout(timeout);
  if (!crash) {
    await new Promise((resolve) => setTimeout(resolve, linger));
    if (during) await during(consumer);
  }
  await consumer.disconnect();  // commits what was read, then leaves the group
  if (crash) fail(`the group consumer crashed after ${got.length} messages: ${crash.stack}`);
  return got;
}

function checkExactly(what, got, first, count) {
  const want = new Set();
  for (let i = first; i < first + count; i++) want.add(`m-${i}`);
  const seen = new Set();
  for (const v of got) {
    if (seen.has(v)) fail(`${what}: ${v} read twice`);
    if (!want.has(v)) fail(`${what}: read ${v}, which an earlier run committed`);
    seen.add(v);
  }
  if (seen.size !== want.size) {
    const missing = [...want].filter((v) => !seen.has(v)).slice(0, 5);
    fail(`${what}: read ${seen.size} of ${want.size}; missing e.g. ${missing.join(',')}`);
  }
}

async function checkCommittedAtEnd(admin) {
  const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
  const ends = await admin.fetchTopicOffsets(topic);
  for (const e of ends) {
    const c = committed.partitions.find((p) => p.partition === e.partition);
    if (!c || c.offset !== e.high) {
      fail(`partition ${e.partition}: committed ${c && c.offset}, log end ${e.high}`);
    }
  }
}

async function describe(admin) {
  const { groups } = await admin.describeGroups([groupId]);
  if (groups.length !== 1 || groups[0].groupId !== groupId) {
    fail(`describeGroups: ${JSON.stringify(groups)}`);
  }
  return groups[0];
}

async function main() {
  const started = Date.now();
  const kafka = new Kafka({ clientId: 'gregor-interop', brokers: [process.env.BROKER],
    logLevel: logLevel.WARN });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 3 }] });

  await produce(kafka, 0, 300);
  const first = await groupRun(kafka, 300, 500);
  checkExactly('run 1', first, 0, 300);
  await checkCommittedAtEnd(admin);
  const { groups } = await admin.listGroups();
  if (!groups.some((g) => g.groupId === groupId && g.protocolType === 'consumer')) {
    fail(`listGroups misses ${groupId}: ${JSON.stringify(groups)}`);
  }
  const empty = await describe(admin);
  if (empty.state !== 'Empty' || empty.members.length !== 0) {
    fail(`after run 1 the group is ${empty.state} with ${empty.members.length} members`);
  }

  await produce(kafka, 300, 100);
  const second = await groupRun(kafka, 100, 1500, async () => {
    const live = await describe(admin);
    if (live.state !== 'Stable' || live.protocolType !== 'consumer' || live.members.length !== 1) {
      fail(`during run 2: ${live.state}, protocol type ${live.protocolType}, ` +
           `${live.members.length} members`);
    }
    const assignment = AssignerProtocol.MemberAssignment.decode(live.members[0].memberAssignment);
    const owned = (assignment.assignment[topic] || []).slice().sort();
    if (owned.join(',') !== '0,1,2') fail(`the member owns ${topic} partitions [${owned}]`);
  });
  checkExactly('run 2', second, 300, 100);
  await checkCommittedAtEnd(admin);
  await admin.disconnect();
  console.log(`kafkajs group ok: 300, then exactly the 100 new messages, in ${Date.now() - started}` +
              ' ms');
}

main().catch((e) => {
  console.error('kafkajs group failed:', e);
  process.exit(1);
});

// Every Kafka message Gregor knows: the request and response body of each API in api.h, as plain
// structs with Kafka's field names (snake_case) and defaults, each describing its wire fields per
// version in a `fields` table that protocol.h's engine encodes and decodes. Grouped by family:
// messages_data.h (Produce, Fetch, ListOffsets, Metadata), messages_group.h (consumer groups),
// messages_admin.h (ApiVersions, CreateTopics, DeleteTopics, InitProducerId, DescribeConfigs),
// messages_replication.h (OffsetForLeaderEpoch, which brokers send each other).
//
//   ProduceRequest req;
//   req.acks = -1;
//   req.topic_data.push_back({.name = "t", .partition_data = {{.index = 0, .records = batch}}});
//   Result<Bytes> body = encode_to_bytes(req, 7);
//   Result<ProduceRequest> back = decode<ProduceRequest>(*body, 7);
#pragma once

#include "node/kafka/messages_admin.h"
#include "node/kafka/messages_data.h"
#include "node/kafka/messages_group.h"
#include "node/kafka/messages_replication.h"

// `gregor groups`: consumer groups, like kafka-consumer-groups.sh, with Gregor's Admin client:
//
//   gregor groups --bootstrap-server HOST:PORT list [--json]
//       every group of every broker (ListGroups), one id per line.
//   gregor groups --bootstrap-server HOST:PORT describe (GROUP... | --all-groups) [--json]
//       per group: state, protocol, coordinator; its members (member id, client id, host, the
//       partitions assigned to it, decoded from the consumer protocol); and per partition that is
//       assigned or has a committed offset: TOPIC PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG
//       CONSUMER-ID HOST CLIENT-ID (log end from ListOffsets latest; "-" where there is none).
//
// Exit status: 0 success, 1 failure (an unknown group, a broker error, no broker reachable), 2
// usage.
#pragma once

#include <CLI/CLI.hpp>

namespace gregor::cli {

void add_groups_command(CLI::App& app, int* exit_code);

}  // namespace gregor::cli

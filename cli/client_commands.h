// The client commands, built on Gregor's own Kafka client (client/) over real TCP:
//
//   gregor produce --bootstrap-server HOST:PORT --topic T [--key-separator SEP] [--acks all|1|0]
//                  [--idempotence] [--compression none|gzip|snappy|lz4|zstd] [--linger-ms N]
//                  [--partition P]
//       one record per stdin line (key and value split at the first SEP when given).
//   gregor consume --bootstrap-server HOST:PORT --topic T [--partition P]
//                  [--from-beginning | --offset N] [--max-messages N] [--timeout-ms N]
//                  [--print-key] [--print-offset]
//       one line per record: [partition:offset TAB] [key TAB] value.
//   gregor topics --bootstrap-server HOST:PORT create --topic T [--partitions N]
//                 [--replication-factor R] [--config k=v]... | list | describe [--topic T]... |
//                 delete --topic T...
//
// Exit status: 0 success, 1 failure (a record not delivered, a broker error, no broker), 2 usage.
#pragma once

#include <CLI/CLI.hpp>

namespace gregor::cli {

void add_client_commands(CLI::App& app, int* exit_code);

}  // namespace gregor::cli

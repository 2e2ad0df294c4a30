// DialBench: the etcd connection of a benchmark tool, from its --endpoints
// flag, so that each tool does not repeat the parse-and-dial preamble.
//
// On failure it prints "TOOL: problem" on stderr and returns nullptr with
// *exit_code set as the tools document it: 64 for bad endpoints, 69 when
// etcd cannot be reached. Thread-compatible; call from main().
//
// Example:
//   int code = 0;
//   std::unique_ptr<conch::etcd::Connection> conn =
//       DialBench("bench_cron_load", endpoints, &code);
//   if (conn == nullptr) return code;
#ifndef CONCH_TOOLS_BENCH_DIAL_H_
#define CONCH_TOOLS_BENCH_DIAL_H_

#include <memory>
#include <string>

#include "core/etcd/connection.h"

namespace conch::tools {

std::unique_ptr<etcd::Connection> DialBench(const std::string& tool,
                                            const std::string& endpoints,
                                            int* exit_code);

}  // namespace conch::tools

#endif  // CONCH_TOOLS_BENCH_DIAL_H_

// tcp_proxy_main: a TcpProxy (see tcp_proxy.h) driven from stdin, for manual
// experiments and benchmarks.
//
// Usage: tcp_proxy_main [--listen-port P] --target PORT  (or --flag=value)
//   --listen-port  port to listen on, on 127.0.0.1 (default 0: a free one)
//   --target       PORT, 127.0.0.1:PORT or localhost:PORT (loopback only)
// Prints "port=N" once listening, then reads one command per line from
// stdin and answers "ok" (or "error: ...") per line:
//   pass | blackhole | reset | delay MS | pass-new
// Exits on EOF.
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "testing/tcp_proxy.h"

namespace {

using conch::test::TcpProxy;

int Usage(absl::string_view error) {
  std::cerr << "tcp_proxy_main: " << error
            << "\nusage: tcp_proxy_main [--listen-port P] --target PORT\n";
  return 2;
}

// Runs one command line; an empty string if it worked, else the error.
std::string RunCommand(TcpProxy& proxy, absl::string_view line) {
  const std::vector<absl::string_view> words =
      absl::StrSplit(line, ' ', absl::SkipWhitespace());
  if (words.size() == 1 && words[0] == "pass") {
    proxy.SetMode(TcpProxy::Mode::kPass);
  } else if (words.size() == 1 && words[0] == "blackhole") {
    proxy.SetMode(TcpProxy::Mode::kBlackhole);
  } else if (words.size() == 1 && words[0] == "reset") {
    proxy.SetMode(TcpProxy::Mode::kReset);
  } else if (words.size() == 1 && words[0] == "pass-new") {
    proxy.SetMode(TcpProxy::Mode::kPassNew);
  } else if (words.size() == 2 && words[0] == "delay") {
    int64_t ms = 0;
    if (!absl::SimpleAtoi(words[1], &ms) || ms < 0) {
      return "delay wants a number of milliseconds >= 0";
    }
    proxy.SetMode(TcpProxy::Mode::kDelay, absl::Milliseconds(ms));
  } else {
    return "unknown command (pass, blackhole, reset, delay MS, pass-new)";
  }
  return "";
}

}  // namespace

int main(int argc, char** argv) {
  int listen_port = 0;
  int target_port = 0;
  for (int i = 1; i < argc; ++i) {
    // "--flag value" or "--flag=value".
    absl::string_view arg = argv[i];
    absl::string_view value;
    if (const size_t eq = arg.find('='); eq != absl::string_view::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      return Usage(std::string(arg) + " wants a value");
    }
    if (arg == "--listen-port") {
      if (!absl::SimpleAtoi(value, &listen_port) || listen_port < 0 ||
          listen_port > 65535) {
        return Usage("bad --listen-port");
      }
    } else if (arg == "--target") {
      absl::StatusOr<int> port = conch::test::ParseLoopbackTarget(value);
      if (!port.ok()) return Usage(port.status().message());
      target_port = *port;
    } else {
      return Usage(std::string("unknown flag ") + std::string(arg));
    }
  }
  if (target_port == 0) return Usage("--target is required");

  absl::StatusOr<std::unique_ptr<TcpProxy>> proxy =
      TcpProxy::Start(target_port, listen_port);
  if (!proxy.ok()) {
    std::cerr << "tcp_proxy_main: " << proxy.status() << "\n";
    return 1;
  }
  std::cout << "port=" << (*proxy)->port() << std::endl;  // flushes
  std::string line;
  while (std::getline(std::cin, line)) {
    const std::string error = RunCommand(**proxy, line);
    if (error.empty()) {
      std::cout << "ok" << std::endl;
    } else {
      std::cout << "error: " << error << std::endl;
    }
  }
  return 0;
}

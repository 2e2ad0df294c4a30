#include "conch/who_cmd.h"

#include <iostream>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "conch/exit_codes.h"
#include "conch/output.h"
#include "conch/wrapper.h"
#include "core/base/mono_time.h"
#include "core/base/notifier.h"
#include "core/etcd/connection.h"
#include "core/etcd/watch.h"
#include "core/process/signals.h"
#include "core/records/names.h"

namespace conch {
namespace {

std::string Render(const Contenders& c, const CommonOptions& o) {
  if (o.json) return ContendersJson(c) + "\n";
  return ContendersTable(c, Wide(o.output)).Render(Aligned(o.output));
}

// What a change is judged by: everything but the revision.
std::string Content(Contenders c) {
  c.revision = 0;
  return ContendersJson(c);
}

bool Empty(const Contenders& c) {
  return c.holders.empty() && c.waiters.empty();
}

}  // namespace

int RunWho(const WhoRequest& r, const CommonOptions& o) {
  std::unique_ptr<SignalSet> signals;
  if (r.watch) {  // before gRPC starts its threads
    absl::StatusOr<std::unique_ptr<SignalSet>> s =
        SignalSet::Install(SignalSet::WrapperSignals());
    if (!s.ok()) return ReportFailure(s.status());
    signals = *std::move(s);
  }
  absl::StatusOr<std::unique_ptr<etcd::Connection>> conn =
      etcd::Connection::Dial(o.connection);
  if (!conn.ok()) return ReportFailure(conn.status());
  auto read = [&] {
    return ReadContenders(conn->get(), o.prefix, r.kind, r.encoded_name, r.max,
                          o.CallDeadline());
  };
  if (!r.watch) {
    absl::StatusOr<Contenders> c = read();
    if (!c.ok()) return ReportFailure(c.status());
    if (Empty(*c) && !o.json) {
      std::cerr << "conch: " << KindName(r.kind) << " \"" << OneLine(c->name)
                << "\" is vacant\n";
    } else {
      std::cout << Render(*c, o) << std::flush;
    }
    return c->holders.empty() ? kExitVacant : kExitOk;
  }
  // --watch: open the watch first, then read; print on every change.
  Notifier wake;
  etcd::WatchStream watches(conn->get());
  etcd::WatchOptions wo;
  wo.prefix = true;
  wo.on_ready = [&wake] { wake.Notify(); };
  const char* kind = r.kind == Contenders::Kind::kOffice ? "elect" : "sema";
  absl::StatusOr<std::unique_ptr<etcd::Watcher>> watcher = watches.Watch(
      NameKeyPrefix(o.prefix, kind, r.encoded_name), wo, o.CallDeadline());
  if (!watcher.ok()) return ReportFailure(watcher.status());
  std::string last = "\x01";
  while (true) {
    absl::StatusOr<Contenders> c = read();
    if (!c.ok()) return ReportFailure(c.status());
    if (std::string now = Content(*c); now != last) {
      last = std::move(now);
      if (o.json) {
        std::cout << Render(*c, o);
      } else {
        std::cout << Timestamp(absl::Now()) << " " << KindName(r.kind) << " "
                  << OneLine(c->name) << " (rev " << c->revision
                  << "):" << (Empty(*c) ? " vacant\n" : "\n");
        if (!Empty(*c)) std::cout << Render(*c, o);
      }
      std::cout.flush();
    }
    // Wait for a change (a batch or an error).
    while (true) {
      WaitResult w = WaitForEvent(*signals, wake, MonoTime::Infinite());
      if (w.what == WaitResult::What::kStop) return kExitOk;
      bool changed = false;
      while (true) {
        absl::StatusOr<std::optional<etcd::WatchBatch>> b =
            (*watcher)->TryNext();
        if (!b.ok()) return ReportFailure(b.status());
        if (!b->has_value()) break;
        changed = true;
      }
      if (changed) break;
    }
  }
}

}  // namespace conch

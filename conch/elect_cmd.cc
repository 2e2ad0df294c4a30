#include "conch/elect_cmd.h"

#include <signal.h>

#include <iostream>
#include <memory>
#include <optional>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "conch/campaign.h"
#include "conch/exit_codes.h"
#include "conch/json_writer.h"
#include "conch/wrapper.h"
#include "core/base/notifier.h"
#include "core/etcd/connection.h"
#include "core/etcd/kv.h"
#include "core/etcd/watch.h"
#include "core/process/signals.h"
#include "core/recipes/election.h"
#include "core/recipes/session.h"
#include "core/records/names.h"
#include "core/records/records.h"

namespace conch {
namespace {

int Fail(const absl::Status& status) { return ReportFailure(status); }

// One line for --who: host, pid, since, rev (or the record as JSON).
std::string DescribeLeader(const etcd::KeyValue& kv, bool json) {
  records::Holder h;
  const absl::Status parsed = records::FromJson(kv.value, &h);
  if (json) {
    // The stored record, plus where it lives.
    JsonWriter w;
    w.BeginObject().Members(parsed.ok() ? kv.value : "");
    w.Field("rev", kv.create_revision).Field("key", kv.key).EndObject();
    return w.Finish();
  }
  if (!parsed.ok()) {
    return absl::StrCat("(unreadable holder record: ", parsed.message(),
                        ") rev ", kv.create_revision);
  }
  return OneLine(absl::StrCat(h.host(), " pid ", h.pid(), " since ", h.since(),
                              " rev ", kv.create_revision, " lease ",
                              h.lease()));
}

int RunWho(const ElectArgs& args, const CommonOptions& o,
           const std::string& office) {
  std::unique_ptr<SignalSet> signals;
  if (args.watch) {
    absl::StatusOr<std::unique_ptr<SignalSet>> s =
        SignalSet::Install(SignalSet::WrapperSignals());
    if (!s.ok()) return Fail(s.status());
    signals = *std::move(s);
  }
  absl::StatusOr<std::unique_ptr<etcd::Connection>> conn =
      etcd::Connection::Dial(o.connection);
  if (!conn.ok()) return Fail(conn.status());
  etcd::Kv kv(conn->get());
  absl::StatusOr<std::optional<etcd::KeyValue>> leader =
      etcd::Election::Leader(kv, office, o.CallDeadline());
  if (!leader.ok()) return Fail(leader.status());
  if (!args.watch) {
    if (!leader->has_value()) return kExitVacant;
    std::cout << DescribeLeader(**leader, o.json) << std::endl;
    return kExitOk;
  }
  // --watch: print the leader now and whenever it changes.
  Notifier wake;
  etcd::WatchStream watches(conn->get());
  etcd::WatchOptions wo;
  wo.prefix = true;
  wo.on_ready = [&wake] { wake.Notify(); };
  absl::StatusOr<std::unique_ptr<etcd::Watcher>> watcher =
      watches.Watch(office, wo, o.CallDeadline());
  if (!watcher.ok()) return Fail(watcher.status());
  std::string last = "\x01";
  while (true) {
    std::string now = leader->has_value() ? DescribeLeader(**leader, o.json)
                                          : (o.json ? "null" : "vacant");
    if (now != last) {
      std::cout << now << std::endl;
      last = now;
    }
    WaitResult w = WaitForEvent(*signals, wake, MonoTime::Infinite());
    if (w.what == WaitResult::What::kStop) return kExitOk;
    bool changed = false;
    while (true) {
      absl::StatusOr<std::optional<etcd::WatchBatch>> b = (*watcher)->TryNext();
      if (!b.ok()) return Fail(b.status());
      if (!b->has_value()) break;
      changed = true;
    }
    if (!changed) continue;
    leader = etcd::Election::Leader(kv, office, o.CallDeadline());
    if (!leader.ok()) return Fail(leader.status());
  }
}

// Election behind the Acquirer interface.
class ElectAcquirer : public Acquirer {
 public:
  ElectAcquirer(etcd::Session& session, const std::string& office,
                const ElectArgs& args)
      : election_(&session, office), session_(session), args_(args) {}

  absl::StatusOr<bool> Enter(absl::Time deadline) override {
    absl::StatusOr<std::string> record =
        records::ToJson(MakeHolder(session_.lease(), args_.run.command));
    if (!record.ok()) return record.status();
    return election_.Enter(*record, deadline);
  }
  absl::StatusOr<bool> Check(const std::function<void()>& on_change,
                             absl::Time deadline) override {
    return election_.Check(on_change, deadline);
  }
  absl::Status Leave(absl::Time deadline) override {
    return election_.Leave(deadline);
  }
  void Invalidate() override { election_.Invalidate(); }
  std::vector<std::pair<std::string, std::string>> Env() const override {
    return {{"CONCH_REV", absl::StrCat(election_.revision())},
            {"CONCH_NAME", args_.name}};
  }
  std::string Describe() const override {
    return absl::StrCat("office ", args_.name, " (rev ", election_.revision(),
                        ")");
  }

 private:
  etcd::Election election_;
  etcd::Session& session_;
  const ElectArgs& args_;
};

}  // namespace

CLI::App* SetupElect(CLI::App& root, ElectArgs* a) {
  CLI::App* sub = root.add_subcommand(
      "elect", "run a command only on the elected leader of office NAME");
  AddNameArgument(*sub, &a->name, "office", /*new_name=*/true);
  CLI::Option* who = sub->add_flag(
      "--who", a->who, "print who holds the office (exit 1: vacant)");
  sub->add_flag("--watch", a->watch,
                "with --who: keep printing each new leader until interrupted")
      ->needs(who);
  AddCampaignFlags(*sub, &a->run, "the office");
  CheckCampaignFlags(*sub, who);
  sub->footer(
      "Examples:\n"
      "  conch elect backup -- /usr/local/bin/backup --full\n"
      "  conch elect web --restart --ttl 30s -- ./server --port 8080\n"
      "  conch elect backup --who --json\n"
      "\n"
      "The command goes after --: conch elect NAME [flags] -- COMMAND "
      "[ARG...]; nothing after -- is read as a flag of conch's.");
  return sub;
}

int RunElect(const ElectArgs& args, const CommonFlags& common) {
  absl::StatusOr<CommonOptions> o = Resolve(common);
  if (!o.ok()) return Fail(o.status());
  absl::StatusOr<std::string> encoded = EncodeName(args.name);
  if (absl::Status fresh = CheckNewName(args.name); !fresh.ok()) {
    encoded = fresh;
  }
  if (!encoded.ok()) {
    return Fail(absl::InvalidArgumentError(
        absl::StrCat("invalid office name: ", encoded.status().message())));
  }
  const std::string office = NameKeyPrefix(o->prefix, "elect", *encoded);
  if (args.watch && !args.who) {
    return Fail(absl::InvalidArgumentError("--watch goes with --who"));
  }
  if (args.who) {
    if (absl::Status alone = CheckLookOnly(args.run); !alone.ok()) {
      return Fail(alone);
    }
    return RunWho(args, *o, office);
  }
  return RunCampaignCommand(args.run, *o, [&](etcd::Session& session) {
    return std::make_unique<ElectAcquirer>(session, office, args);
  });
}

}  // namespace conch

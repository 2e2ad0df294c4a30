#include "conch/elect_cmd.h"

#include <signal.h>

#include <iostream>
#include <memory>
#include <optional>
#include <utility>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "conch/campaign.h"
#include "conch/contenders.h"
#include "conch/exit_codes.h"
#include "conch/json_writer.h"
#include "conch/who_cmd.h"
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

// Election behind the Acquirer interface.
class ElectAcquirer : public Acquirer {
 public:
  ElectAcquirer(etcd::Session& session, const std::string& office,
                std::string encoded, const ElectArgs& args)
      : election_(&session, office),
        session_(session),
        office_(office),
        encoded_(std::move(encoded)),
        args_(args) {}

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
  Line line() const override {
    return {Contenders::Kind::kOffice, args_.name, encoded_, 0,
            election_.key(),           office_};
  }

 private:
  etcd::Election election_;
  etcd::Session& session_;
  const std::string office_;
  const std::string encoded_;
  const ElectArgs& args_;
};

}  // namespace

CLI::App* SetupElect(CLI::App& root, ElectArgs* a) {
  CLI::App* sub = root.add_subcommand(
      "elect", "run a command only on the elected leader of office NAME");
  AddNameArgument(*sub, &a->name, "office", /*new_name=*/true);
  CLI::Option* who = sub->add_flag(
      "--who", a->who,
      "list the leader and the standbys in line (exit 1: vacant)");
  sub->add_flag("--watch", a->watch,
                "with --who: print the list again on every change, until "
                "interrupted")
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
    return RunWho({Contenders::Kind::kOffice, *encoded, 0, args.watch}, *o);
  }
  return RunCampaignCommand(args.run, *o, [&](etcd::Session& session) {
    return std::make_unique<ElectAcquirer>(session, office, *encoded, args);
  });
}

}  // namespace conch

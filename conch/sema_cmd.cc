#include "conch/sema_cmd.h"

#include <iostream>
#include <memory>
#include <string>
#include <utility>

#include "CLI/CLI.hpp"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "conch/contenders.h"
#include "conch/exit_codes.h"
#include "conch/json_writer.h"
#include "conch/who_cmd.h"
#include "conch/wrapper.h"
#include "core/etcd/connection.h"
#include "core/etcd/kv.h"
#include "core/etcd/watch.h"
#include "core/recipes/semaphore.h"
#include "core/recipes/session.h"
#include "core/records/names.h"
#include "core/records/records.h"

namespace conch {
namespace {

constexpr int64_t kMaxMax = 1000000;

// Semaphore behind the Acquirer interface.
class SemaAcquirer : public Acquirer {
 public:
  SemaAcquirer(etcd::Session& session, const std::string& group, int64_t max,
               std::string encoded, const SemaArgs& args)
      : sem_(&session, group, max),
        session_(session),
        group_(group),
        max_(max),
        encoded_(std::move(encoded)),
        args_(args) {}

  absl::StatusOr<bool> Enter(absl::Time deadline) override {
    const records::Holder holder =
        MakeHolder(session_.lease(), args_.run.command);
    return sem_.Enter(
        [holder](absl::string_view state, int slot) {
          records::Holder h = holder;
          h.set_state(std::string(state));
          if (slot >= 0) h.set_slot(slot);
          absl::StatusOr<std::string> json = records::ToJson(h);
          return json.ok() ? *json : std::string("{}");
        },
        deadline);
  }
  absl::StatusOr<bool> Check(const std::function<void()>& on_change,
                             absl::Time deadline) override {
    return sem_.Check(on_change, deadline);
  }
  absl::Status Leave(absl::Time deadline) override {
    return sem_.Leave(deadline);
  }
  void Invalidate() override { sem_.Invalidate(); }
  std::vector<std::pair<std::string, std::string>> Env() const override {
    return {{"CONCH_REV", absl::StrCat(sem_.revision())},
            {"CONCH_NAME", args_.name},
            {"CONCH_SLOT", absl::StrCat(sem_.slot())},
            {"CONCH_MAX", absl::StrCat(max_)}};
  }
  std::string Describe() const override {
    if (sem_.slot() < 0) {
      return absl::StrCat("semaphore ", args_.name, " (max ", max_, ")");
    }
    return absl::StrCat("semaphore ", args_.name, " (max ", max_, ", slot ",
                        sem_.slot(), ", rev ", sem_.revision(), ")");
  }
  Line line() const override {
    return {Contenders::Kind::kSemaphore,
            args_.name,
            encoded_,
            max_,
            sem_.queue_key(),
            group_};
  }

 private:
  etcd::Semaphore sem_;
  etcd::Session& session_;
  const std::string group_;
  const int64_t max_;
  const std::string encoded_;
  const SemaArgs& args_;
};

}  // namespace

absl::StatusOr<int64_t> ParseMax(const std::string& text) {
  int64_t n = 0;
  const std::string trimmed(absl::StripAsciiWhitespace(text));
  if (!absl::SimpleAtoi(trimmed, &n) || n < 1 || n > kMaxMax) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid --max \"", text,
                     "\": must be a whole number from 1 to ", kMaxMax));
  }
  return n;
}

CLI::App* SetupSema(CLI::App& root, SemaArgs* a) {
  CLI::App* sub = root.add_subcommand(
      "sema", "run a command while fewer than N holders of NAME run");
  AddNameArgument(*sub, &a->name, "semaphore", /*new_name=*/true);
  CheckValues(sub->add_option("--max", a->max,
                              "at most N holders at once, 1 to 1000000 "
                              "(required, except with --who)")
                  ->type_name("N"),
              [](const std::string& v) {
                return ParseMax(v).ok()
                           ? ""
                           : WhyNotWholeNumber(absl::StripAsciiWhitespace(v), 1,
                                               kMaxMax);
              });
  CLI::Option* who = sub->add_flag(
      "--who", a->who,
      "list the holders and the waiters in line, of every N or of --max N "
      "(exit 1: nobody holds)");
  sub->add_flag("--watch", a->watch,
                "with --who: print the list again on every change, until "
                "interrupted")
      ->needs(who);
  AddCampaignFlags(*sub, &a->run, "a slot");
  CheckCampaignFlags(*sub, who);
  sub->footer(
      "Examples:\n"
      "  conch sema db-dump --max 2 -- pg_dump -f /backup/db.sql mydb\n"
      "  conch sema deploy --max 1 --timeout 5m -- ./deploy.sh\n"
      "  conch sema db-dump --who --json\n"
      "\n"
      "The command goes after --: conch sema NAME --max N [flags] -- COMMAND "
      "[ARG...]; nothing after -- is read as a flag of conch's.");
  return sub;
}

int RunSema(const SemaArgs& args, const CommonFlags& common) {
  absl::StatusOr<CommonOptions> o = Resolve(common);
  if (!o.ok()) return ReportFailure(o.status());
  absl::StatusOr<std::string> encoded = EncodeName(args.name);
  if (absl::Status fresh = CheckNewName(args.name); !fresh.ok()) {
    encoded = fresh;
  }
  if (!encoded.ok()) {
    return ReportFailure(absl::InvalidArgumentError(
        absl::StrCat("invalid semaphore name: ", encoded.status().message())));
  }
  const std::string name_prefix = NameKeyPrefix(o->prefix, "sema", *encoded);
  int64_t max = 0;
  if (!args.max.empty() || !args.who) {
    if (args.max.empty()) {
      return ReportFailure(absl::InvalidArgumentError("--max N is required"));
    }
    absl::StatusOr<int64_t> parsed = ParseMax(args.max);
    if (!parsed.ok()) return ReportFailure(parsed.status());
    max = *parsed;
  }
  if (args.watch && !args.who) {
    return ReportFailure(absl::InvalidArgumentError("--watch goes with --who"));
  }
  if (args.who) {
    if (absl::Status alone = CheckLookOnly(args.run); !alone.ok()) {
      return ReportFailure(alone);
    }
    return RunWho({Contenders::Kind::kSemaphore, *encoded, max, args.watch},
                  *o);
  }
  const std::string group = absl::StrCat(name_prefix, max, "/");
  return RunCampaignCommand(args.run, *o, [&](etcd::Session& session) {
    return std::make_unique<SemaAcquirer>(session, group, max, *encoded, args);
  });
}

}  // namespace conch

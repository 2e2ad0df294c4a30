#include "conch/sema_cmd.h"

#include <iostream>
#include <memory>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "conch/exit_codes.h"
#include "conch/json_writer.h"
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
               const SemaArgs& args)
      : sem_(&session, group, max), session_(session), max_(max), args_(args) {}

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

 private:
  etcd::Semaphore sem_;
  etcd::Session& session_;
  const int64_t max_;
  const SemaArgs& args_;
};

// The stored record with the key's revision and the key added.
void WriteRecord(JsonWriter& w, const std::string& value, int64_t rev,
                 const std::string& key) {
  records::Holder h;
  w.BeginObject().Members(records::FromJson(value, &h).ok() ? value : "");
  w.Field("rev", rev).Field("key", key).EndObject();
}

int RunWho(const SemaArgs& args, const CommonOptions& o,
           const std::string& name_prefix, int64_t max) {
  absl::StatusOr<std::unique_ptr<etcd::Connection>> conn =
      etcd::Connection::Dial(o.connection);
  if (!conn.ok()) return ReportFailure(conn.status());
  absl::StatusOr<std::vector<etcd::SemaGroup>> groups =
      etcd::Semaphore::Inspect(etcd::Kv(conn->get()), name_prefix, max,
                               absl::Now() + o.connection.dial_timeout);
  if (!groups.ok()) return ReportFailure(groups.status());
  bool held = false;
  if (o.json) {
    JsonWriter w;
    w.BeginObject().Field("name", args.name).Key("groups").BeginArray();
    for (const etcd::SemaGroup& g : *groups) {
      w.BeginObject().Field("max", g.max).Key("holders").BeginArray();
      for (const etcd::SemaGroup::Holder& h : g.holders) {
        WriteRecord(w, h.value, h.revision, h.key);
      }
      w.EndArray().Key("waiters").BeginArray();
      for (const etcd::KeyValue& kv : g.waiters) {
        WriteRecord(w, kv.value, kv.create_revision, kv.key);
      }
      w.EndArray().EndObject();
      held = held || !g.holders.empty();
    }
    w.EndArray().EndObject();
    std::cout << w.Finish() << std::endl;
    return held ? kExitOk : kExitVacant;
  }
  for (const etcd::SemaGroup& g : *groups) {
    for (const etcd::SemaGroup::Holder& h : g.holders) {
      records::Holder r;
      const absl::Status parsed = records::FromJson(h.value, &r);
      std::cout << "max " << g.max << " slot " << h.slot << ": ";
      if (parsed.ok()) {
        std::cout << OneLine(r.host()) << " pid " << r.pid() << " since "
                  << OneLine(r.since()) << " rev " << h.revision << " lease "
                  << OneLine(r.lease()) << "\n";
      } else {
        std::cout << "(unreadable holder record: " << parsed.message()
                  << ") rev " << h.revision << "\n";
      }
      held = true;
    }
    if (!g.holders.empty() || !g.waiters.empty()) {
      std::cout << "max " << g.max << " waiting: " << g.waiters.size() << "\n";
    }
  }
  std::cout.flush();
  return held ? kExitOk : kExitVacant;
}

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
      "--who", a->who, "list holders and waiters (exit 1: nobody holds)");
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
  if (args.who) {
    if (absl::Status alone = CheckLookOnly(args.run); !alone.ok()) {
      return ReportFailure(alone);
    }
    return RunWho(args, *o, name_prefix, max);
  }
  const std::string group = absl::StrCat(name_prefix, max, "/");
  return RunCampaignCommand(args.run, *o, [&](etcd::Session& session) {
    return std::make_unique<SemaAcquirer>(session, group, max, args);
  });
}

}  // namespace conch

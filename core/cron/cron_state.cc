#include "core/cron/cron_state.h"

#include "absl/strings/str_cat.h"

namespace conch::etcd {

TickState StateOfTick(const CronTick& tick,
                      const std::map<std::string, std::string>& live) {
  TickState s;
  if (tick.claim.has_value()) s.runner = tick.claim->daemon();
  if (!tick.error.empty() || !tick.claim.has_value()) {
    s.kind = TickState::Kind::kUnreadable;
    s.detail = tick.error.empty() ? "no claim record" : tick.error;
    return s;
  }
  if (tick.result.has_value()) {
    const records::Result& r = *tick.result;
    switch (r.outcome_case()) {
      case records::Result::kExitCode:
        s.exit_code = r.exit_code();
        s.kind = r.exit_code() == 0 ? TickState::Kind::kOk
                                    : TickState::Kind::kFailed;
        return s;
      case records::Result::kSignal:
        s.signal = r.signal();
        s.kind = TickState::Kind::kFailed;
        return s;
      case records::Result::kSkipped:
        s.kind = TickState::Kind::kSkipped;
        s.detail = r.skipped();
        return s;
      case records::Result::OUTCOME_NOT_SET:
        s.kind = TickState::Kind::kUnreadable;
        s.detail = "result without an outcome";
        return s;
    }
  }
  auto it = live.find(tick.claim->daemon());
  const bool alive = it != live.end() && it->second == tick.claim->lease();
  s.kind = alive ? TickState::Kind::kRunning : TickState::Kind::kZombie;
  return s;
}

std::string FormatTickState(const TickState& s) {
  switch (s.kind) {
    case TickState::Kind::kOk:
      return "ok";
    case TickState::Kind::kFailed:
      if (s.signal != 0) return absl::StrCat("failed (signal ", s.signal, ")");
      return absl::StrCat("failed (code ", s.exit_code, ")");
    case TickState::Kind::kSkipped:
      return absl::StrCat("skipped (", s.detail, ")");
    case TickState::Kind::kRunning:
      return absl::StrCat("running on ", s.runner);
    case TickState::Kind::kZombie:
      return "zombie";
    case TickState::Kind::kUnreadable:
      return absl::StrCat("unreadable (", s.detail, ")");
  }
  return "unknown";
}

const char* TickStateName(TickState::Kind kind) {
  switch (kind) {
    case TickState::Kind::kOk:
      return "ok";
    case TickState::Kind::kFailed:
      return "failed";
    case TickState::Kind::kSkipped:
      return "skipped";
    case TickState::Kind::kRunning:
      return "running";
    case TickState::Kind::kZombie:
      return "zombie";
    case TickState::Kind::kUnreadable:
      return "unreadable";
  }
  return "unknown";
}

}  // namespace conch::etcd

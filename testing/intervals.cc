#include "testing/intervals.h"

#include <algorithm>
#include <tuple>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace conch::test {

std::vector<Interval> ParseIntervals(
    absl::string_view log, int64_t run_end_ns,
    const std::map<pid_t, int64_t>& observed_end) {
  std::map<pid_t, Interval> open;
  std::vector<Interval> done;
  for (absl::string_view line : absl::StrSplit(log, '\n', absl::SkipEmpty())) {
    std::vector<absl::string_view> f = absl::StrSplit(line, ' ');
    if (f.size() != 6 || (f[0] != "S" && f[0] != "E")) continue;
    Interval iv;
    iv.group = std::string(f[1]);
    int pid = 0, slot = 0;
    int64_t ns = 0;
    if (!absl::SimpleAtoi(f[2], &pid) || !absl::SimpleAtoi(f[3], &iv.token) ||
        !absl::SimpleAtoi(f[4], &slot) || !absl::SimpleAtoi(f[5], &ns)) {
      continue;
    }
    iv.pid = pid;
    iv.slot = slot;
    if (f[0] == "S") {
      iv.start_ns = ns;
      open[iv.pid] = iv;
    } else if (auto it = open.find(iv.pid); it != open.end()) {
      it->second.end_ns = ns;
      it->second.end_written = true;
      done.push_back(it->second);
      open.erase(it);
    }
  }
  for (auto& [pid, iv] : open) {
    auto seen = observed_end.find(pid);
    iv.end_ns = seen != observed_end.end() ? seen->second : run_end_ns;
    done.push_back(iv);
  }
  std::sort(done.begin(), done.end(), [](const Interval& a, const Interval& b) {
    return a.start_ns < b.start_ns;
  });
  return done;
}

OverlapReport CheckOverlap(const std::vector<Interval>& intervals, int max,
                           const std::vector<Fault>& faults,
                           absl::Duration window) {
  OverlapReport report;
  // Sweep: +1 at a start, -1 at an end (ends first at equal times: a
  // handover at the same nanosecond is not an overlap).
  std::vector<std::pair<int64_t, int>> edges;
  for (const Interval& iv : intervals) {
    edges.emplace_back(iv.start_ns, +1);
    edges.emplace_back(iv.end_ns, -1);
  }
  std::sort(edges.begin(), edges.end());
  int count = 0;
  OverlapReport::Stretch cur;
  bool in_over = false;
  for (const auto& [t, d] : edges) {
    count += d;
    report.max_holders = std::max(report.max_holders, count);
    if (count > max && !in_over) {
      in_over = true;
      cur = {t, t, count, ""};
    } else if (count > max && in_over) {
      cur.holders = std::max(cur.holders, count);
    } else if (count <= max && in_over) {
      in_over = false;
      cur.to_ns = t;
      report.over.push_back(cur);
    }
  }
  const int64_t window_ns = absl::ToInt64Nanoseconds(window);
  for (OverlapReport::Stretch& s : report.over) {
    // The latest loss event at or before the stretch began.
    const Fault* blame = nullptr;
    for (const Fault& f : faults) {
      if (f.loss && f.at_ns <= s.from_ns &&
          (blame == nullptr || f.at_ns > blame->at_ns)) {
        blame = &f;
      }
    }
    if (blame != nullptr && s.to_ns <= blame->at_ns + window_ns) {
      s.blamed_kind = blame->kind;
      absl::Duration& w = report.max_window_by_kind[blame->kind];
      w = std::max(w, absl::Nanoseconds(s.to_ns - s.from_ns));
    } else {
      report.violations.push_back(s);
    }
  }
  return report;
}

std::string OverlapReport::Describe(
    const std::vector<Interval>& intervals) const {
  std::string out;
  for (const Stretch& s : violations) {
    absl::StrAppend(
        &out, "  ", s.holders, " holders for ",
        absl::FormatDuration(absl::Nanoseconds(s.to_ns - s.from_ns)),
        " from t=", s.from_ns,
        " with no loss event within the "
        "window before it; intervals then:\n");
    for (const Interval& iv : intervals) {
      if (iv.start_ns < s.to_ns && iv.end_ns > s.from_ns) {
        absl::StrAppend(&out, "    pid ", iv.pid, " slot ", iv.slot, " token ",
                        iv.token, " [", iv.start_ns, ", ", iv.end_ns, ")",
                        iv.end_written ? "" : " (killed)", "\n");
      }
    }
  }
  return out;
}

std::vector<std::string> CheckTokens(const std::vector<Interval>& intervals) {
  std::map<int, std::vector<const Interval*>> by_slot;
  for (const Interval& iv : intervals) by_slot[iv.slot].push_back(&iv);
  std::vector<std::string> bad;
  for (auto& [slot, list] : by_slot) {
    std::sort(list.begin(), list.end(),
              [](const Interval* a, const Interval* b) {
                return std::tie(a->start_ns, a->token) <
                       std::tie(b->start_ns, b->token);
              });
    for (size_t i = 1; i < list.size(); ++i) {
      if (list[i]->token <= list[i - 1]->token) {
        bad.push_back(absl::StrCat("slot ", slot, ": token ",
                                   list[i - 1]->token, " (pid ",
                                   list[i - 1]->pid, ") then ", list[i]->token,
                                   " (pid ", list[i]->pid, ")"));
      }
    }
  }
  return bad;
}

}  // namespace conch::test

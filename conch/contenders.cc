#include "conch/contenders.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "conch/exit_codes.h"
#include "conch/json_writer.h"
#include "core/records/names.h"

namespace conch {
namespace {

Contender From(const observe::HolderView& h) {
  Contender c;
  c.holder = h;
  return c;
}

void WriteContender(JsonWriter& w, const Contender& c) {
  const records::Holder& r = c.holder.record;
  w.BeginObject();
  if (c.position > 0) w.Field("position", int64_t{c.position});
  if (c.slot >= 0) w.Field("slot", int64_t{c.slot});
  if (c.max > 0) w.Field("max", c.max);
  if (!c.holder.error.empty()) {
    w.Field("error", c.holder.error);
  } else {
    if (!r.host().empty()) w.Field("host", r.host());
    if (r.pid() != 0) w.Field("pid", int64_t{r.pid()});
    if (!r.user().empty()) w.Field("user", r.user());
    if (!r.since().empty()) w.Field("since", StoredTimestamp(r.since()));
    if (!r.lease().empty()) w.Field("lease", r.lease());
    if (r.argv_size() > 0) {
      w.Key("argv").BeginArray();
      for (const std::string& a : r.argv()) w.String(a);
      w.EndArray();
    }
  }
  w.Field("rev", c.holder.revision).Field("key", c.holder.key).EndObject();
}

std::string Who(const Contender& c) {
  if (!c.holder.error.empty()) return "(unreadable record)";
  const records::Holder& r = c.holder.record;
  return OneLine(absl::StrCat(r.host(), " pid ", r.pid(), " since ",
                              StoredTimestamp(r.since())));
}

}  // namespace

const char* KindName(Contenders::Kind kind) {
  return kind == Contenders::Kind::kOffice ? "office" : "semaphore";
}

absl::StatusOr<Contenders> ReadContenders(etcd::Connection* conn,
                                          const std::string& prefix,
                                          Contenders::Kind kind,
                                          const std::string& encoded_name,
                                          int64_t max, absl::Time deadline) {
  Contenders out;
  out.kind = kind;
  if (kind == Contenders::Kind::kOffice) {
    absl::StatusOr<observe::OfficeView> office = observe::ReadOffice(
        conn, prefix, encoded_name, deadline, &out.revision);
    if (!office.ok()) return office.status();
    out.name = office->name;
    for (size_t i = 0; i < office->candidates.size(); ++i) {
      Contender c = From(office->candidates[i]);
      if (i == 0) {
        out.holders.push_back(std::move(c));
      } else {
        c.position = static_cast<int>(i);
        out.waiters.push_back(std::move(c));
      }
    }
    return out;
  }
  absl::StatusOr<std::vector<observe::SemaphoreView>> groups =
      observe::ReadSemaphore(conn, prefix, encoded_name, deadline,
                             &out.revision);
  if (!groups.ok()) return groups.status();
  absl::StatusOr<std::string> decoded = DecodeName(encoded_name);
  out.name = decoded.ok() ? *decoded : encoded_name;
  for (const observe::SemaphoreView& g : *groups) {
    if (max > 0 && g.max != max) continue;
    for (const observe::SemaphoreView::Slot& s : g.holders) {
      Contender c = From(s.holder);
      c.slot = s.slot;
      c.max = g.max;
      out.holders.push_back(std::move(c));
    }
    int position = 0;
    for (const observe::HolderView& h : g.waiters) {
      Contender c = From(h);
      c.position = ++position;
      c.max = g.max;
      out.waiters.push_back(std::move(c));
    }
  }
  return out;
}

std::string ContendersJson(const Contenders& c) {
  JsonWriter w;
  w.BeginObject()
      .Field("kind", KindName(c.kind))
      .Field("name", c.name)
      .Field("revision", c.revision);
  w.Key("holders").BeginArray();
  for (const Contender& h : c.holders) WriteContender(w, h);
  w.EndArray().Key("waiters").BeginArray();
  for (const Contender& h : c.waiters) WriteContender(w, h);
  w.EndArray().EndObject();
  return w.Finish();
}

Table ContendersTable(const Contenders& c, bool wide) {
  const bool sema = c.kind == Contenders::Kind::kSemaphore;
  std::vector<std::string> header = {"ROLE", "POSITION"};
  if (sema) header.insert(header.end(), {"MAX", "SLOT"});
  header.insert(header.end(), {"HOST", "PID", "SINCE", "REV"});
  if (wide) header.insert(header.end(), {"USER", "LEASE", "COMMAND"});
  Table t(header);
  auto row = [&](const Contender& x, const char* role) {
    const records::Holder& r = x.holder.record;
    const bool readable = x.holder.error.empty();
    std::vector<std::string> cells = {
        role, x.position > 0 ? absl::StrCat(x.position) : ""};
    if (sema) {
      cells.push_back(absl::StrCat(x.max));
      cells.push_back(x.slot >= 0 ? absl::StrCat(x.slot) : "");
    }
    cells.push_back(readable
                        ? r.host()
                        : absl::StrCat("(unreadable: ", x.holder.error, ")"));
    cells.push_back(readable && r.pid() != 0 ? absl::StrCat(r.pid()) : "");
    cells.push_back(readable ? StoredTimestamp(r.since()) : "");
    cells.push_back(absl::StrCat(x.holder.revision));
    if (wide) {
      cells.push_back(r.user());
      cells.push_back(r.lease());
      cells.push_back(absl::StrJoin(r.argv(), " "));
    }
    t.AddRow(std::move(cells));
  };
  for (const Contender& h : c.holders) row(h, sema ? "holder" : "leader");
  for (const Contender& w : c.waiters) row(w, sema ? "waiter" : "standby");
  return t;
}

std::optional<Place> FindPlace(const Contenders& c, const std::string& key) {
  const auto me =
      std::find_if(c.waiters.begin(), c.waiters.end(),
                   [&key](const Contender& w) { return w.holder.key == key; });
  if (me == c.waiters.end()) return std::nullopt;
  Place p;
  p.position = me->position;
  for (const Contender& w : c.waiters) p.of += w.max == me->max ? 1 : 0;
  for (const Contender& h : c.holders) {
    if (h.max == me->max) p.holders.push_back(&h);
  }
  return p;
}

std::string PlaceLine(const Contenders& c, const std::string& key) {
  std::optional<Place> p = FindPlace(c, key);
  if (!p.has_value()) return "";
  std::string held = "nobody holds it yet";
  if (!p->holders.empty()) {
    held = absl::StrCat("held by ", Who(*p->holders[0]));
    if (p->holders.size() > 1) {
      absl::StrAppend(&held, " and ", p->holders.size() - 1, " more");
    }
  }
  return absl::StrCat("waiting for ", OneLine(c.name), ": position ",
                      p->position, " of ", p->of, " (", held, ")");
}

}  // namespace conch

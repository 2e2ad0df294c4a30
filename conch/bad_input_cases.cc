#include "conch/bad_input_cases.h"

#include <sys/resource.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "conch/test_util.h"

namespace conch {
namespace {

using Case = BadInputCase;

// A valid command line of one subcommand, which a case spoils.
struct Base {
  std::string id;
  std::vector<std::string> words;    // after the binary, before "--"
  std::vector<std::string> command;  // "--" and the command, or nothing
  bool conchd = false;
  bool runs = false;  // holds a lease while a child runs (stop budget)
};

const std::vector<Base>& Bases() {
  static const auto* bases = new std::vector<Base>{
      {"status", {"status"}, {}},
      {"elect", {"elect", "e"}, {"--", "true"}, false, true},
      {"elect --who", {"elect", "e", "--who"}, {}},
      {"sema", {"sema", "s", "--max", "2"}, {"--", "true"}, false, true},
      {"sema --who", {"sema", "s", "--who"}, {}},
      {"cron add",
       {"cron", "add", "j", "--schedule", "@daily"},
       {"--", "true"}},
      {"cron rm", {"cron", "rm", "j"}, {}},
      {"cron ls", {"cron", "ls"}, {}},
      {"cron run", {"cron", "run", "j", "--timeout", "1s"}, {}},
      {"cron next", {"cron", "next", "--schedule", "@daily"}, {}},
      {"conchd", {"--id", "fuzz"}, {}, true, true},
  };
  return *bases;
}

// A spoiling of a valid command line.
struct Mutation {
  std::string what;
  std::vector<std::string> words;  // added to the words
  std::map<std::string, std::string> env;
  bool omit_endpoints = false;  // the case sets them (flag or variable)
  bool omit_prefix = false;
  std::string names;
};

class CaseMaker {
 public:
  CaseMaker(uint64_t seed, std::string endpoint, std::string prefix,
            std::string files)
      : rng_(seed),
        endpoint_(std::move(endpoint)),
        prefix_(std::move(prefix)),
        files_(std::move(files)) {}

  std::vector<Case> Make() {
    CommonFlagCases();
    ElectAndSemaCases();
    CronCases();
    ConchdCases();
    OtherCases();
    return std::move(cases_);
  }

 private:
  // ---- Random values ----

  int Int(int lo, int hi) {
    return std::uniform_int_distribution<int>(lo, hi)(rng_);
  }
  template <typename T>
  const T& Pick(const std::vector<T>& v) {
    return v[static_cast<size_t>(Int(0, static_cast<int>(v.size()) - 1))];
  }
  std::string Letters(int n) {
    std::string s;
    for (int i = 0; i < n; ++i)
      s.push_back(static_cast<char>('a' + Int(0, 25)));
    return s;
  }
  std::string Digits(int n) {
    std::string s(1, static_cast<char>('1' + Int(0, 8)));
    for (int i = 1; i < n; ++i) s.push_back(static_cast<char>('0' + Int(0, 9)));
    return s;
  }
  // A control character (never NUL: argv cannot hold it), but no white
  // space, which a duration or a number may be trimmed of.
  char Control() {
    static const std::string controls =
        "\x01\x02\x03\x04\x05\x06\x07\x08\x0e\x0f\x10\x11\x12\x13\x14\x15"
        "\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f\x7f";
    return controls[static_cast<size_t>(
        Int(0, static_cast<int>(controls.size()) - 1))];
  }
  // `text` with a control character somewhere.
  std::string WithControl(std::string text) {
    text.insert(static_cast<size_t>(Int(0, static_cast<int>(text.size()))), 1,
                Control());
    return text;
  }
  // A name too long: 257 to 3000 bytes.
  std::string LongName() { return "n" + Letters(Int(256, 2999)); }

  std::vector<std::string> BadDurations(int n) {
    static const std::vector<std::string> units = {"x",   "d",    "w",   "y",
                                                   "sec", "secs", "hrs", "S"};
    std::vector<std::string> out;
    for (int i = 0; i < n; ++i) {
      switch (Int(0, 3)) {
        case 0:
          out.push_back(Digits(Int(1, 6)));  // no unit
          break;
        case 1:
          out.push_back(Digits(Int(1, 4)) + Pick(units));
          break;
        case 2:
          out.push_back(WithControl(Digits(Int(1, 3)) + "s"));
          break;
        default:
          out.push_back(Letters(Int(1, 8)));
      }
    }
    return out;
  }

  // ---- Building cases ----

  void Add(const Base& b, const Mutation& m, bool before) {
    Case c;
    c.what = absl::StrCat(b.id, ": ", m.what);
    c.conchd = b.conchd;
    c.env = m.env;
    c.names = m.names;
    c.argv = {b.conchd ? kConchdBinary : kConchBinary};
    if (before && !b.conchd) {
      c.argv.insert(c.argv.end(), m.words.begin(), m.words.end());
    }
    c.argv.insert(c.argv.end(), b.words.begin(), b.words.end());
    if (!before || b.conchd) {
      c.argv.insert(c.argv.end(), m.words.begin(), m.words.end());
    }
    if (!m.omit_endpoints) {
      c.argv.insert(c.argv.end(), {"--endpoints", endpoint_});
    }
    if (!m.omit_prefix) {
      c.argv.insert(
          c.argv.end(),
          {"--prefix", absl::StrCat(prefix_, "c", cases_.size(), "/")});
    }
    c.argv.insert(c.argv.end(), b.command.begin(), b.command.end());
    cases_.push_back(std::move(c));
  }

  // Puts `m` into `copies` valid command lines drawn at random among those
  // `fits` accepts, before or after the subcommand.
  void Spread(const Mutation& m, int copies,
              const std::function<bool(const Base&)>& fits) {
    std::vector<const Base*> pool;
    for (const Base& b : Bases()) {
      if (fits(b)) pool.push_back(&b);
    }
    std::shuffle(pool.begin(), pool.end(), rng_);
    for (int i = 0; i < copies && i < static_cast<int>(pool.size()); ++i) {
      Add(*pool[static_cast<size_t>(i)], m, Int(0, 1) == 0);
    }
  }

  // Every value of `values` for `flag`, in `copies` command lines each; and
  // a few as the flag's variable.
  void FlagValues(const std::string& flag, const std::string& variable,
                  const std::vector<std::string>& values, int copies,
                  const std::function<bool(const Base&)>& fits) {
    for (const std::string& v : values) {
      Mutation m{absl::StrCat(flag, " \"", absl::CHexEscape(v), "\""),
                 {flag, v}};
      m.omit_endpoints = flag == "--endpoints";
      m.omit_prefix = flag == "--prefix";
      Spread(m, copies, fits);
      if (!variable.empty() && !v.empty() && Int(0, 2) == 0) {
        // An empty variable is an unset one.
        Mutation e{absl::StrCat(variable, "=\"", absl::CHexEscape(v), "\"")};
        e.env = {{variable, v}};
        e.names = variable;
        e.omit_endpoints = m.omit_endpoints;
        e.omit_prefix = m.omit_prefix;
        Spread(e, 1, fits);
      }
    }
  }

  std::string File(const std::string& name) const {
    return absl::StrCat(files_, "/", name);
  }

  void CommonFlagCases() {
    auto all = [](const Base&) { return true; };
    auto runs = [](const Base& b) { return b.runs; };
    std::vector<std::string> ttl = {"",
                                    "0",
                                    "0s",
                                    "900ms",
                                    "1",
                                    "-1s",
                                    "10x",
                                    "1e400s",
                                    "inf",
                                    "soon",
                                    "8761h",
                                    "10 s",
                                    "9223372036854775807s",
                                    "1s\x01",
                                    "\x1b[31m10s"};
    for (const std::string& d : BadDurations(6)) ttl.push_back(d);
    FlagValues("--ttl", "CONCH_TTL", ttl, 3, all);
    // Fine alone, but SIGTERM would come before the first keepalive
    // (with the default --kill-after 2s).
    FlagValues("--ttl", "CONCH_TTL", {"1s", "2s", "3s"}, 2, runs);

    std::vector<std::string> kill = {"",       "5",   "-1s",    "x",
                                     "1e400s", "inf", "2s\x1b", "-0.5s"};
    for (const std::string& d : BadDurations(4)) kill.push_back(d);
    FlagValues("--kill-after", "CONCH_KILL_AFTER", kill, 3, all);
    // Does not fit the default --ttl 10s.
    FlagValues("--kill-after", "CONCH_KILL_AFTER",
               {"7s", "20s", "1h", "9223372036854775807s"}, 2, runs);

    std::vector<std::string> dial = {"",       "0",    "0s",
                                     "-5s",    "soon", "8761h",
                                     "1e400s", "5",    "9223372036854775807s"};
    for (const std::string& d : BadDurations(4)) dial.push_back(d);
    FlagValues("--dial-timeout", "CONCH_DIAL_TIMEOUT", dial, 3, all);

    std::vector<std::string> endpoints = {
        "",         " ",       "x",         "localhost", "http://",
        "https://", "unix://", "ftp://h:1", "h:0",       "h:65536",
        "h:-1",     "h:+1",    "[::1",      "[::1]",     "::1:2379",
        "h:1/path", "u@h:1",   "h\x01:1",   "h\nx:1",    "http://u:secret@h:1",
        "h:1,",     ",h:1",    "h:1,,h:2",  "h :1",      "h:99999999999",
        "h:2379x"};
    endpoints.push_back(Letters(Int(3, 12)));  // no port
    endpoints.push_back(absl::StrCat(Letters(5), ":", Int(65536, 999999)));
    FlagValues("--endpoints", "CONCH_ENDPOINTS", endpoints, 2, all);

    FlagValues("--prefix", "CONCH_PREFIX",
               {"", "conch", "/conch", "/a/b", WithControl("/x"),
                "/" + Letters(Int(1, 10))},
               2, all);

    // Files: missing, not regular, not PEM, the wrong kind of PEM.
    const std::vector<std::string> not_a_pem = {
        "",
        "/nonexistent/ca.pem",
        "/dev/null",
        "/dev/zero",
        files_,
        File("fifo"),
        File("notpem.txt"),
        File("broken.pem"),
        File("empty.pem"),
        File(Letters(8) + ".pem")};  // missing
    std::vector<std::string> cacert = not_a_pem;
    cacert.push_back(File("key.pem"));
    FlagValues("--cacert", "CONCH_CACERT", cacert, 2, all);
    std::vector<std::string> cert = not_a_pem;
    cert.push_back(File("key.pem"));
    FlagValues("--cert", "CONCH_CERT", cert, 1, all);
    std::vector<std::string> key = not_a_pem;
    key.push_back(File("cert.pem"));
    FlagValues("--key", "CONCH_KEY", key, 1, all);
    // Good files, but a certificate without its key and the other way.
    for (const auto& [flag, var, file] :
         std::vector<std::tuple<std::string, std::string, std::string>>{
             {"--cert", "CONCH_CERT", "cert.pem"},
             {"--key", "CONCH_KEY", "key.pem"}}) {
      Spread(Mutation{flag + " alone", {flag, File(file)}}, 3, all);
      Mutation e{var + " alone"};
      e.env = {{var, File(file)}};
      e.names = var;
      Spread(e, 2, all);
    }

    std::vector<std::string> user = {"", ":pw", ":"};
    if (std::getenv("CONCH_PASSWORD") == nullptr) user.push_back("bob");
    FlagValues("--user", "CONCH_USER", user, 3, all);
    FlagValues(
        "--log-level", "CONCH_LOG",
        {"", "loud", "verbose", "0", "WARN\x01", "debugx", Letters(Int(6, 12))},
        2, all);
    for (const std::string v : {"maybe", "2x", "yes\n"}) {
      Spread(Mutation{"--json=" + absl::CHexEscape(v), {"--json=" + v}}, 2,
             all);
    }
    // Output formats (-o, and -w as etcdctl spells it).
    for (const std::string flag : {"-o", "--output", "-w", "--write-out"}) {
      FlagValues(flag, "", {"", "yaml", "JSON", "json ", Letters(Int(2, 6))}, 1,
                 all);
    }
    Spread(Mutation{"--json with -o wide", {"--json", "-o", "wide"}}, 2, all);
    Spread(Mutation{"-o twice", {"-o", "json", "-o", "tsv"}}, 1, all);
    Spread(Mutation{"-o with -w", {"-o", "json", "-w", "json"}}, 1, all);
    // Unknown flags.
    for (const std::string& flag :
         {std::string("--nope"), std::string("-x"), std::string("--ttlx"),
          std::string("--TTL"), std::string("-Z"), std::string("--nope=1"),
          "--x" + Letters(Int(3, 9))}) {
      Spread(Mutation{"unknown " + flag, {flag}}, 3, all);
    }
    // Given twice.
    Spread(Mutation{"--ttl twice", {"--ttl", "5s", "--ttl", "6s"}}, 3, all);
    Spread(Mutation{"--prefix twice", {"--prefix", "/other/"}}, 3, all);
    Spread(Mutation{"--endpoints twice", {"--endpoints", endpoint_}}, 3, all);
    Spread(Mutation{"--log-level twice",
                    {"--log-level", "warn", "--log-level", "info"}},
           2, all);
    // A value missing.
    for (const std::string flag :
         {"--ttl", "--kill-after", "--dial-timeout", "--endpoints", "--prefix",
          "--cacert", "--cert", "--key", "--user", "--log-level"}) {
      // Last before "--" (or the end), or followed by another flag.
      Spread(Mutation{flag + " without a value", {"--json", flag}}, 1, all);
    }
  }

  // The words of a valid elect or sema run, with `extra` in the flags.
  void Run(const std::string& what, std::vector<std::string> words,
           std::vector<std::string> command = {"--", "true"}) {
    Base b{"", std::move(words), std::move(command)};
    b.id = b.words.empty() ? "conch" : b.words[0];
    Add(b, Mutation{what}, false);
  }

  std::vector<std::string> BadNewNames() {
    std::vector<std::string> names = {"",
                                      std::string(257, 'n'),
                                      std::string(1000, 'x'),
                                      "a\nb",
                                      "\x1b[31mred",
                                      "tab\tname",
                                      "\x7f",
                                      "bell\a",
                                      "cr\r"};
    for (int i = 0; i < 4; ++i)
      names.push_back(WithControl(Letters(Int(1, 20))));
    names.push_back(LongName());
    return names;
  }
  std::vector<std::string> BadLookupNames() {
    return {"", std::string(257, 'n'), LongName()};
  }

  void ElectAndSemaCases() {
    for (const std::string& name : BadNewNames()) {
      Run("office name " + absl::CHexEscape(name), {"elect", name});
      Run("semaphore name " + absl::CHexEscape(name),
          {"sema", name, "--max", "1"});
      if (Int(0, 1) == 0) {
        Run("office name --who " + absl::CHexEscape(name),
            {"elect", name, "--who"}, {});
      } else {
        Run("semaphore name --who " + absl::CHexEscape(name),
            {"sema", name, "--who"}, {});
      }
    }
    std::vector<std::string> timeouts = {"",       "soon", "-1s",  "10",
                                         "1e400s", "inf",  "1s\n2"};
    for (const std::string& d : BadDurations(3)) timeouts.push_back(d);
    std::vector<std::string> resets = {"", "0s", "0", "-1s", "x"};
    for (const std::string& d : BadDurations(3)) resets.push_back(d);
    for (const std::string sub : {"elect", "sema"}) {
      std::vector<std::string> base = {sub, "n"};
      if (sub == std::string("sema")) base.insert(base.end(), {"--max", "1"});
      auto with = [&](std::vector<std::string> extra) {
        std::vector<std::string> w = base;
        w.insert(w.end(), extra.begin(), extra.end());
        return w;
      };
      for (const std::string& t : timeouts) {
        Run(absl::StrCat(sub, " --timeout ", absl::CHexEscape(t)),
            with({"--timeout", t}));
      }
      for (const std::string& r : resets) {
        Run(absl::StrCat(sub, " --restart-reset ", absl::CHexEscape(r)),
            with({"--restart", "--restart-reset", r}));
      }
      // Flags that do not go together; --who only looks.
      Run(sub + " --who --nonblock", with({"--who", "--nonblock"}), {});
      Run(sub + " --who --timeout", with({"--who", "--timeout", "1s"}), {});
      Run(sub + " --who --restart", with({"--who", "--restart"}), {});
      Run(sub + " --who -- true", with({"--who"}));
      Run(sub + " --who --", with({"--who"}), {"--"});
      Run(sub + " --nonblock --timeout",
          with({"--nonblock", "--timeout", "1s"}));
      Run(sub + " --timeout twice",
          with({"--timeout", "1s", "--timeout", "2s"}));
      Run(sub + " --nonblock=maybe", with({"--nonblock=maybe"}));
      Run(sub + " --who=maybe", with({"--who=maybe"}), {});
      // The command: missing, empty, or without "--".
      Run(sub + " without a command", with({}), {});
      Run(sub + " with an empty command", with({}), {"--"});
      Run(sub + " command without --", with({"printf", "x"}), {});
      Run(sub + " without a name", {sub, "--nonblock"});
      Run(sub + " unknown flag", with({"--x" + Letters(Int(3, 8))}));
    }
    Run("elect --watch without --who", {"elect", "n", "--watch"}, {});
    Run("elect --watch -- true", {"elect", "n", "--watch"});
    Run("sema --watch without --who", {"sema", "n", "--max", "1", "--watch"},
        {});
    Run("sema --watch -- true", {"sema", "n", "--max", "1", "--watch"});
    std::vector<std::string> maxes = {
        "",        "0",   "-1",   "abc", "1.5",
        "1000001", "1e3", "0x10", "2 2", "99999999999999999999"};
    maxes.push_back(absl::StrCat(Int(1000001, 999999999)));
    maxes.push_back(absl::StrCat("-", Digits(Int(1, 9))));
    maxes.push_back(Letters(Int(1, 6)));
    for (const std::string& m : maxes) {
      Run("sema --max " + absl::CHexEscape(m), {"sema", "n", "--max", m});
      if (Int(0, 2) == 0) {
        Run("sema --who --max " + absl::CHexEscape(m),
            {"sema", "n", "--who", "--max", m}, {});
      }
    }
    Run("sema without --max", {"sema", "n"});
    Run("sema --max twice", {"sema", "n", "--max", "1", "--max", "2"});
    Run("sema --max without a value", {"sema", "n", "--max"});
  }

  std::vector<std::string> BadSchedules() {
    std::vector<std::string> s = {"",
                                  "61 * * * *",
                                  "0 0 30 2 *",
                                  "0 0 31 4 *",
                                  "@every 500ms",
                                  "@every",
                                  "@every 1",
                                  "@every -1s",
                                  "@weekday",
                                  "* * * *",
                                  "* * * * * *",
                                  "5-1 * * * *",
                                  "*/0 * * * *",
                                  "0 0 * * *\nX",
                                  "mon * * * *",
                                  "0 25 * * *",
                                  "0 0 0 * *",
                                  "0 0 * 13 *",
                                  "0 0 * * 8",
                                  "@every 1e400s",
                                  "mon-sun * * * *"};
    // One field out of its range.
    const int field = Int(0, 4);
    const int lo[] = {60, 24, 32, 13, 8};
    std::vector<std::string> fields(5, "*");
    fields[static_cast<size_t>(field)] =
        absl::StrCat(Int(lo[field], lo[field] + 1000));
    s.push_back(absl::StrJoin(fields, " "));
    s.push_back("@x" + Letters(Int(2, 8)));
    s.push_back(WithControl("0 0 * * *"));
    return s;
  }
  std::vector<std::string> BadZones() {
    return {"",
            "Mars/Olympus",
            "localtime",
            "/etc/localtime",
            "../../etc/passwd",
            "Europe/\nBerlin",
            "UTC\x01",
            "Nowhere/" + Letters(Int(3, 10))};
  }

  void CronCases() {
    auto add = [](std::vector<std::string> extra) {
      std::vector<std::string> w = {"cron", "add", "j"};
      w.insert(w.end(), extra.begin(), extra.end());
      return w;
    };
    for (const std::string& name : BadNewNames()) {
      Run("cron add name " + absl::CHexEscape(name),
          {"cron", "add", name, "--schedule", "@daily"});
    }
    for (const std::string& s : BadSchedules()) {
      Run("cron add --schedule " + absl::CHexEscape(s), add({"--schedule", s}));
      Run("cron next --schedule " + absl::CHexEscape(s),
          {"cron", "next", "--schedule", s}, {});
    }
    for (const std::string& z : BadZones()) {
      Run("cron add --tz " + absl::CHexEscape(z),
          add({"--schedule", "@daily", "--tz", z}));
      Run("cron next --tz " + absl::CHexEscape(z),
          {"cron", "next", "--schedule", "@daily", "--tz", z}, {});
    }
    for (const std::string& o :
         {std::string(""), std::string("maybe"), std::string("ALLOW"),
          std::string("skip "), "x" + Letters(Int(1, 7))}) {
      Run("cron add --overlap " + absl::CHexEscape(o),
          add({"--schedule", "@daily", "--overlap", o}));
    }
    Run("cron add without --schedule", add({}));
    Run("cron add without a name", {"cron", "add", "--schedule", "@daily"});
    Run("cron add without a command", add({"--schedule", "@daily"}), {});
    Run("cron add with an empty command", add({"--schedule", "@daily"}),
        {"--"});
    Run("cron add command without --",
        add({"--schedule", "@daily", "printf", "x"}), {});
    Run("cron add --replace=maybe",
        add({"--schedule", "@daily", "--replace=maybe"}));
    Run("cron add --schedule twice",
        add({"--schedule", "@daily", "--schedule", "@hourly"}));

    for (const std::string sub : {"rm", "run", "ls"}) {
      for (const std::string& name : BadLookupNames()) {
        Run(absl::StrCat("cron ", sub, " name ", absl::CHexEscape(name)),
            {"cron", sub, name}, {});
      }
      Run(absl::StrCat("cron ", sub, " -- true"), {"cron", sub, "j"});
      Run(absl::StrCat("cron ", sub, " two names"), {"cron", sub, "j", "k"},
          {});
      Run(absl::StrCat("cron ", sub, " unknown flag"),
          {"cron", sub, "j", "--x" + Letters(Int(3, 8))}, {});
    }
    Run("cron rm without a name", {"cron", "rm"}, {});
    Run("cron run without a name", {"cron", "run"}, {});
    Run("cron rm --purge=maybe", {"cron", "rm", "j", "--purge=maybe"}, {});
    std::vector<std::string> history = {
        "", "0101", "abc", "-1", "101", "1.5", "1e2", "99999999999", "0x10"};
    history.push_back(absl::StrCat(Int(101, 100000)));
    history.push_back(Letters(Int(1, 5)));
    for (const std::string& h : history) {
      Run("cron ls --history " + absl::CHexEscape(h),
          {"cron", "ls", "--history", h}, {});
    }
    std::vector<std::string> timeouts = {"", "10", "0s", "0", "-1s", "x"};
    for (const std::string& d : BadDurations(3)) timeouts.push_back(d);
    for (const std::string& t : timeouts) {
      Run("cron run --timeout " + absl::CHexEscape(t),
          {"cron", "run", "j", "--timeout", t}, {});
    }
    std::vector<std::string> from = {"",           "yesterday",
                                     "now",        "2026-13-01T00:00:00Z",
                                     "2026-03-07", "2026-03-07T25:00:00Z"};
    from.push_back(Letters(Int(3, 12)));
    for (const std::string& f : from) {
      Run("cron next --from " + absl::CHexEscape(f),
          {"cron", "next", "--schedule", "@daily", "--from", f}, {});
    }
    std::vector<std::string> counts = {"", "0", "1001", "-5", "x", "1.5"};
    counts.push_back(absl::StrCat(Int(1001, 1000000)));
    for (const std::string& n : counts) {
      Run("cron next --count " + absl::CHexEscape(n),
          {"cron", "next", "--schedule", "@daily", "--count", n}, {});
    }
    Run("cron next without --schedule", {"cron", "next"}, {});
    Run("cron next -- true", {"cron", "next", "--schedule", "@daily"});
    Run("cron next argument", {"cron", "next", "x", "--schedule", "@daily"},
        {});
    Run("cron without a subcommand", {"cron"}, {});
    Run("cron unknown subcommand", {"cron", "lock"}, {});
    Run("cron unknown subcommand", {"cron", "x" + Letters(Int(2, 7)), "x"}, {});
  }

  void ConchdCases() {
    const Base& conchd = Bases().back();
    auto is_conchd = [](const Base& b) { return b.conchd; };
    auto value = [&](const std::string& flag, const std::string& v) {
      Add(conchd,
          Mutation{absl::StrCat(flag, " \"", absl::CHexEscape(v), "\""),
                   {flag, v}},
          false);
    };
    for (const std::string& id :
         {std::string(""), std::string("bad id"), std::string("a/b"),
          std::string(65, 'a'), std::string("id\n"), std::string("\xc3\xbc"),
          WithControl(Letters(Int(1, 10))), Letters(Int(2, 5)) + ":x"}) {
      value("--id", id);
    }
    for (const std::string& id : {std::string("bad id"), std::string("a/b")}) {
      Mutation e{"CONCHD_ID=" + id};
      e.env = {{"CONCHD_ID", id}};
      e.names = "CONCHD_ID";
      // Without --id, so that the variable is read.
      Base b = conchd;
      b.words.clear();
      Add(b, e, false);
    }
    std::vector<std::string> late = {"", "10", "0s", "0", "-1s", "x"};
    for (const std::string& d : BadDurations(3)) late.push_back(d);
    for (const std::string& v : late) value("--max-late", v);
    std::vector<std::string> workers = {"",  "0",   "65",         "-1",
                                        "x", "1.5", "99999999999"};
    workers.push_back(absl::StrCat(Int(65, 100000)));
    for (const std::string& v : workers) value("--workers", v);
    errno = 0;
    const int own = getpriority(PRIO_PROCESS, 0);
    std::vector<std::string> nice = {"",    "-21", "20",
                                     "low", "1.5", absl::StrCat(Int(20, 1000))};
    if (own > -20) nice.push_back(absl::StrCat(own - 1));  // below conchd's
    for (const std::string& v : nice) value("--job-nice", v);
    for (const char* v :
         {"", "9187", ":9187", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:x",
          "127.0.0.1:-1", "conch.example:80", "0.0.0.0:9187", "10.0.0.1:80",
          "[::]:9187", "[::1:80", "[zz]:80"}) {
      value("--listen", v);
    }
    Spread(Mutation{"--listen-public alone", {"--listen-public"}}, 1,
           is_conchd);
    Spread(Mutation{"argument", {"x"}}, 1, is_conchd);
    Spread(Mutation{"--workers twice", {"--workers", "2", "--workers", "3"}}, 1,
           is_conchd);
    Spread(Mutation{"--workers without a value", {"--workers"}}, 1, is_conchd);
    for (const std::string flag : {"--nope", "-q", "--schedule"}) {
      Spread(Mutation{"unknown " + flag, {flag}}, 1, is_conchd);
    }
    Base with_command = conchd;
    with_command.command = {"--", "true"};
    Add(with_command, Mutation{"-- true"}, false);
  }

  void OtherCases() {
    Run("no subcommand", {}, {});
    Run("unknown subcommand", {"lock", "x"}, {});
    Run("unknown subcommand", {"x" + Letters(Int(2, 8))}, {});
    Run("unknown flag alone", {"--nope"}, {});
    Run("status argument", {"status", "x"}, {});
    Run("status -- true", {"status"});
    Run("status --json=maybe", {"status", "--json=maybe"}, {});
  }

  std::mt19937_64 rng_;
  const std::string endpoint_;
  const std::string prefix_;
  const std::string files_;
  std::vector<Case> cases_;
};

}  // namespace

std::vector<BadInputCase> MakeBadInputCases(uint64_t seed,
                                            const std::string& endpoint,
                                            const std::string& prefix,
                                            const std::string& files) {
  return CaseMaker(seed, endpoint, prefix, files).Make();
}

}  // namespace conch

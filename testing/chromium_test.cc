#include "testing/chromium.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/files.h"

namespace conch::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr absl::Duration kWait = absl::Seconds(60);

// The page builds its list with a script, so the items exist only in a DOM
// a browser made, never in the file.
constexpr char kListPage[] = R"(<!DOCTYPE html>
<html><head><title>conch test page</title></head>
<body style="background: #fff">
<h1 style="color: #a00">conch status</h1>
<ul id="jobs"></ul>
<script>
  const jobs = document.getElementById('jobs');
  for (let i = 1; i <= 3; ++i) {
    const item = document.createElement('li');
    item.id = 'job-' + i;
    item.textContent = 'job number ' + (i * 10);
    jobs.appendChild(item);
  }
</script>
</body></html>
)";

// Adds an element two seconds after loading.
constexpr char kLatePage[] = R"(<!DOCTYPE html>
<html><body><p>early</p>
<script>
  setTimeout(() => {
    const late = document.createElement('p');
    late.id = 'late';
    late.textContent = 'arrived late';
    document.body.appendChild(late);
  }, 2000);
</script>
</body></html>
)";

class ChromiumTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::string> dir = MakeTempDir("chromium-test-");
    ASSERT_TRUE(dir.ok()) << dir.status();
    dir_ = *dir;
    absl::StatusOr<HeadlessChromium> chromium = HeadlessChromium::Create();
    ASSERT_TRUE(chromium.ok()) << chromium.status();
    chromium_ = std::make_unique<HeadlessChromium>(*std::move(chromium));
  }
  void TearDown() override { RemoveTree(dir_).IgnoreError(); }

  // Writes `html` into the test's directory; returns its file:// URL.
  std::string Page(const std::string& name, const std::string& html) {
    const std::string path = absl::StrCat(dir_, "/", name);
    EXPECT_TRUE(WriteFile(path, html).ok());
    return absl::StrCat("file://", path);
  }

  std::string dir_;
  std::unique_ptr<HeadlessChromium> chromium_;
};

// Live processes whose command line mentions `needle`.
int ProcessesMentioning(const std::string& needle) {
  int count = 0;
  std::unique_ptr<DIR, int (*)(DIR*)> proc(opendir("/proc"), closedir);
  if (proc == nullptr) return 0;
  while (dirent* entry = readdir(proc.get())) {
    int pid = 0;
    if (!absl::SimpleAtoi(entry->d_name, &pid) || pid == getpid()) continue;
    absl::StatusOr<std::string> cmdline =
        ReadFile(absl::StrCat("/proc/", pid, "/cmdline"));
    if (cmdline.ok() && absl::StrContains(*cmdline, needle)) ++count;
  }
  return count;
}

uint32_t BigEndian32(const std::string& bytes, size_t at) {
  uint32_t v = 0;
  for (size_t i = 0; i < 4; ++i) {
    v = (v << 8) | static_cast<unsigned char>(bytes[at + i]);
  }
  return v;
}

TEST_F(ChromiumTest, DumpDomHoldsWhatScriptsBuilt) {
  const std::string url = Page("list.html", kListPage);
  absl::StatusOr<std::string> dom =
      chromium_->DumpDom(url, absl::Now() + kWait);
  ASSERT_TRUE(dom.ok()) << dom.status();
  EXPECT_THAT(*dom, HasSubstr("<title>conch test page</title>"));
  EXPECT_THAT(*dom, HasSubstr(R"(<li id="job-1">job number 10</li>)"));
  EXPECT_THAT(*dom, HasSubstr(R"(<li id="job-3">job number 30</li>)"));
  EXPECT_THAT(*dom, Not(HasSubstr("job-4")));
}

TEST_F(ChromiumTest, VirtualTimeLetsTimersRun) {
  const std::string url = Page("late.html", kLatePage);
  absl::StatusOr<std::string> at_load =
      chromium_->DumpDom(url, absl::Now() + kWait);
  ASSERT_TRUE(at_load.ok()) << at_load.status();
  EXPECT_THAT(*at_load, HasSubstr("<p>early</p>"));
  EXPECT_THAT(*at_load, Not(HasSubstr(R"(<p id="late">)")));

  HeadlessChromiumOptions options;
  options.virtual_time_budget = absl::Seconds(5);
  absl::StatusOr<HeadlessChromium> patient = HeadlessChromium::Create(options);
  ASSERT_TRUE(patient.ok()) << patient.status();
  absl::StatusOr<std::string> later =
      patient->DumpDom(url, absl::Now() + kWait);
  ASSERT_TRUE(later.ok()) << later.status();
  EXPECT_THAT(*later, HasSubstr(R"(<p id="late">arrived late</p>)"));
}

TEST_F(ChromiumTest, ScreenshotIsAPngOfTheRequestedSize) {
  const std::string url = Page("list.html", kListPage);
  const std::string png_path = absl::StrCat(dir_, "/shot.png");
  absl::Status s =
      chromium_->Screenshot(url, png_path, 640, 360, absl::Now() + kWait);
  ASSERT_TRUE(s.ok()) << s;
  absl::StatusOr<std::string> png = ReadFile(png_path);
  ASSERT_TRUE(png.ok()) << png.status();
  ASSERT_GT(png->size(), 24u);
  EXPECT_EQ(png->substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  // The first chunk is IHDR: width and height, big-endian, at 16 and 20.
  EXPECT_EQ(png->substr(12, 4), "IHDR");
  EXPECT_EQ(BigEndian32(*png, 16), 640u);
  EXPECT_EQ(BigEndian32(*png, 20), 360u);
  // Text and colour make a PNG far larger than a blank page's few hundred
  // bytes.
  EXPECT_GT(png->size(), 2000u);

  // Keep it for people reading the test's outputs.
  const char* outputs = std::getenv("TEST_UNDECLARED_OUTPUTS_DIR");
  if (outputs != nullptr && outputs[0] != '\0') {
    WriteFile(absl::StrCat(outputs, "/chromium_test_list.png"), *png)
        .IgnoreError();
  }
}

TEST_F(ChromiumTest, UnloadablePageIsUnavailable) {
  absl::StatusOr<std::string> dom = chromium_->DumpDom(
      absl::StrCat("file://", dir_, "/missing.html"), absl::Now() + kWait);
  EXPECT_TRUE(absl::IsUnavailable(dom.status())) << dom.status();
  EXPECT_THAT(dom.status().message(), HasSubstr("ERR_FILE_NOT_FOUND"));

  const std::string png_path = absl::StrCat(dir_, "/never.png");
  absl::Status s =
      chromium_->Screenshot(absl::StrCat("file://", dir_, "/missing.html"),
                            png_path, 100, 100, absl::Now() + kWait);
  EXPECT_TRUE(absl::IsUnavailable(s)) << s;
  EXPECT_FALSE(ReadFile(png_path).ok()) << "a PNG was written anyway";
}

TEST_F(ChromiumTest, DeadlineKillsEverything) {
  // A server that accepts connections (the kernel does, from the backlog)
  // but never answers: the page never finishes loading.
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(fd, 16), 0);
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const std::string url =
      absl::StrCat("http://127.0.0.1:", ntohs(addr.sin_port), "/");

  const absl::Time start = absl::Now();
  absl::StatusOr<std::string> dom =
      chromium_->DumpDom(url, start + absl::Seconds(3));
  const absl::Duration took = absl::Now() - start;
  close(fd);
  EXPECT_TRUE(absl::IsDeadlineExceeded(dom.status())) << dom.status();
  EXPECT_GE(took, absl::Seconds(3));
  EXPECT_LT(took, absl::Seconds(20));
  // Every process of the run is gone, the crash handlers (which leave the
  // process group) included; their command lines name the scratch
  // directory.
  const char* tmp = std::getenv("TEST_TMPDIR");
  EXPECT_EQ(
      ProcessesMentioning(absl::StrCat(
          tmp != nullptr && tmp[0] != '\0' ? tmp : "/tmp", "/conch-chromium-")),
      0);
}

TEST_F(ChromiumTest, WorksWithoutHome) {
  const char* home = std::getenv("HOME");
  const std::string saved = home != nullptr ? home : "";
  unsetenv("HOME");
  absl::StatusOr<std::string> dom =
      chromium_->DumpDom(Page("list.html", kListPage), absl::Now() + kWait);
  if (home != nullptr) setenv("HOME", saved.c_str(), 1);
  ASSERT_TRUE(dom.ok()) << dom.status();
  EXPECT_THAT(*dom, HasSubstr(R"(<li id="job-2">job number 20</li>)"));
}

TEST_F(ChromiumTest, CallsMayRunConcurrently) {
  const std::string url = Page("list.html", kListPage);
  const absl::Time deadline = absl::Now() + kWait;
  absl::StatusOr<std::string> doms[2];
  std::vector<std::thread> threads;
  for (auto& dom : doms) {
    threads.emplace_back([&] { dom = chromium_->DumpDom(url, deadline); });
  }
  for (std::thread& t : threads) t.join();
  for (const auto& dom : doms) {
    ASSERT_TRUE(dom.ok()) << dom.status();
    EXPECT_THAT(*dom, HasSubstr(R"(<li id="job-3">job number 30</li>)"));
  }
}

TEST(HeadlessChromiumTest, MissingBinaryIsNotFound) {
  HeadlessChromiumOptions options;
  options.binary = "conch-no-such-browser";
  EXPECT_TRUE(absl::IsNotFound(HeadlessChromium::Create(options).status()));
}

}  // namespace
}  // namespace conch::test

// Headless Chromium for tests of web pages (conchd's status page): the DOM a
// real browser builds from a URL, and a PNG of how it looks.
//
// What it does: each DumpDom or Screenshot call runs one `chromium
// --headless` (Debian's /usr/bin/chromium wrapper from PATH) in its own
// process group, with a fresh profile, HOME (when unset) and XDG config and
// cache directories in a new temporary directory (under $TEST_TMPDIR, else
// /tmp), which is deleted afterwards. Flags: --no-sandbox (root, and
// containers without user namespaces, cannot run Chromium's sandbox),
// --disable-gpu, --disable-dev-shm-usage (the test sandbox's /dev/shm may be
// tiny or missing), --hide-scrollbars, and no first-run, sync, component
// updates or background networking (the machines are offline).
//
// Contract:
//   * DumpDom returns the serialized DOM (document.documentElement.outerHTML
//     plus the doctype) once the page's load event fired, after scripts that
//     ran by then. Pages that change later (timers, fetches) need
//     `virtual_time_budget`: Chromium then runs the page's timers on virtual
//     time, up to that much, before capturing, without waiting that long in
//     real time.
//   * Screenshot writes a PNG of the viewport, `width` x `height` CSS
//     pixels, to `png_path` (replacing it), after the same point as DumpDom.
//   * A URL Chromium cannot load (connection refused, missing file, ...) is
//     Unavailable naming the net:: error: Chromium itself exits 0 then. A
//     non-zero exit is Internal; not finishing by `deadline` is
//     DeadlineExceeded (the whole process group is SIGKILLed). Error
//     messages end with the last lines Chromium wrote to stderr, without its
//     D-Bus complaints (there is no D-Bus in tests).
//   * Chromium's crash handler (chrome_crashpad_handler) starts in a session
//     of its own, out of reach of the process group; the call waits up to
//     5 s for it to exit (it does once the browser is gone) and SIGKILLs it
//     otherwise, so nothing outlives a call.
//   * The child is killed by the kernel if the calling thread exits (see
//     subprocess.h).
//
// Ownership and thread-safety: a HeadlessChromium is a small copyable value
// (the options and the resolved binary). Its methods are const and may run
// concurrently from several threads: each call has its own process and
// directory. Calls take a second or more; tests using them are tagged
// "integration".
//
// Example:
//   absl::StatusOr<conch::test::HeadlessChromium> chromium =
//       conch::test::HeadlessChromium::Create();
//   ASSERT_TRUE(chromium.ok()) << chromium.status();
//   const absl::Time deadline = absl::Now() + absl::Seconds(60);
//   absl::StatusOr<std::string> dom =
//       chromium->DumpDom("http://127.0.0.1:8080/", deadline);
//   ASSERT_TRUE(dom.ok()) << dom.status();
//   EXPECT_THAT(*dom, HasSubstr("<table id=\"jobs\">"));
//   ASSERT_TRUE(chromium->Screenshot("http://127.0.0.1:8080/", png_path,
//                                    1280, 800, deadline).ok());
#ifndef CONCH_TESTING_CHROMIUM_H_
#define CONCH_TESTING_CHROMIUM_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace conch::test {

struct HeadlessChromiumOptions {
  // The browser: a name looked up in PATH, or a path.
  std::string binary = "chromium";
  // Virtual time the page may use after loading before the capture
  // (--virtual-time-budget); zero captures right after the load event.
  absl::Duration virtual_time_budget = absl::ZeroDuration();
  // Extra Chromium flags, placed after the generated ones.
  std::vector<std::string> extra_flags;
};

class HeadlessChromium {
 public:
  // Resolves the binary: NotFound if there is no Chromium.
  static absl::StatusOr<HeadlessChromium> Create(
      HeadlessChromiumOptions options = {});

  // The DOM of `url` after loading (see the header comment).
  absl::StatusOr<std::string> DumpDom(const std::string& url,
                                      absl::Time deadline) const;

  // Writes a `width` x `height` PNG of `url` to `png_path`.
  absl::Status Screenshot(const std::string& url, const std::string& png_path,
                          int width, int height, absl::Time deadline) const;

  // The resolved browser binary.
  const std::string& binary_path() const { return binary_path_; }
  const HeadlessChromiumOptions& options() const { return options_; }

 private:
  HeadlessChromium(HeadlessChromiumOptions options, std::string binary_path)
      : options_(std::move(options)), binary_path_(std::move(binary_path)) {}

  // What one Chromium run left behind.
  struct RunResult {
    std::string out;
    std::string err;
  };

  // Runs Chromium on `url` with `mode_flags` in the scratch directory
  // `dir`; an error unless the page loaded and Chromium exited 0.
  absl::StatusOr<RunResult> Run(const std::string& dir, const std::string& url,
                                const std::vector<std::string>& mode_flags,
                                absl::Time deadline) const;

  HeadlessChromiumOptions options_;
  std::string binary_path_;
};

}  // namespace conch::test

#endif  // CONCH_TESTING_CHROMIUM_H_

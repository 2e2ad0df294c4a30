// PtyShell: an interactive bash (or zsh) on a real pseudo-terminal, for
// tests of terminal behaviour as a person at a keyboard would meet it: job
// control (Ctrl-Z, `fg`, `bg`), Ctrl-C, TAB completion, and what is drawn
// on the screen.
//
// Contract:
//   * Start() opens a pseudo-terminal pair and runs `bash --norc
//     --noprofile --noediting -i` in a new session with the terminal's slave
//     side as its controlling terminal and stdin/stdout/stderr, so bash
//     turns job control on, puts each job in its own process group and
//     gives it the terminal. The prompt is PtyShell::kPrompt; Start()
//     returns once the first prompt was drawn.
//   * Options::line_editing drops --noediting: readline reads the line, so
//     TAB completes (completion is off without it). Readline then reads
//     $INPUTRC, /dev/null unless Options::env sets it, so that the host's
//     /etc/inputrc changes nothing. The screen also shows what readline
//     draws: a bell (\a) for an ambiguous completion, the list of
//     candidates after a second TAB, bracketed-paste switches (ESC [?2004h).
//   * Options::shell = kZsh runs `zsh -f +o promptsp -i` instead (no rc
//     files; zle, zsh's line editor, only with line_editing), with the same
//     prompt.
//   * Type() writes keys to the terminal as typed (the line discipline
//     echoes them and turns ^C, ^Z, ^\ into signals for the foreground
//     job): Type("fg\n"), Type(PtyShell::kCtrlZ).
//   * Everything the terminal shows accumulates in screen(). WaitFor()
//     reads until `text` appears after the current mark, or the deadline
//     (DeadlineExceeded, with what was seen). Mark() moves the mark to the
//     end of what was read so far, so that a prompt seen before is not
//     mistaken for the next one.
//   * The destructor SIGKILLs the shell's whole session (every job it
//     started) and reaps the shell.
//
// Ownership and thread-safety: owns the master side and the shell. Not
// thread-safe; one test thread drives it.
//
// Example:
//   absl::StatusOr<std::unique_ptr<PtyShell>> sh = PtyShell::Start({});
//   ASSERT_TRUE(sh.ok()) << sh.status();
//   (*sh)->Mark();
//   (*sh)->Type("sleep 100\n");
//   (*sh)->Type(PtyShell::kCtrlZ);
//   ASSERT_TRUE((*sh)->WaitFor("Stopped", deadline).ok());
#ifndef CONCH_TESTING_PTY_SHELL_H_
#define CONCH_TESTING_PTY_SHELL_H_

#include <sys/types.h>

#include <map>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace conch::test {

class PtyShell {
 public:
  static constexpr char kPrompt[] = "pty-shell$ ";
  static constexpr char kCtrlC[] = "\x03";
  static constexpr char kCtrlZ[] = "\x1a";
  static constexpr char kCtrlBackslash[] = "\x1c";

  enum class Shell { kBash, kZsh };

  struct Options {
    // Added to the test's environment (overriding equal names).
    std::map<std::string, std::string> env;
    // The shell's working directory; empty: the test's.
    std::string cwd;
    // Which shell runs.
    Shell shell = Shell::kBash;
    // Line editing on (bash's readline, zsh's zle), as a person has it: TAB
    // completes. Off by default: the screen shows plain echoed lines.
    bool line_editing = false;
  };

  static absl::StatusOr<std::unique_ptr<PtyShell>> Start(
      const Options& options);

  PtyShell(const PtyShell&) = delete;
  PtyShell& operator=(const PtyShell&) = delete;
  ~PtyShell();

  // Writes `keys` to the terminal.
  absl::Status Type(absl::string_view keys);
  // Reads until `text` appears after the mark.
  absl::Status WaitFor(absl::string_view text, absl::Time deadline);
  // Reads until the prompt appears after the mark, then marks past it.
  absl::Status WaitForPrompt(absl::Time deadline);
  // Runs `command_line` in the shell and returns what it printed (the
  // echoed line and the next prompt excluded).
  absl::StatusOr<std::string> Run(absl::string_view command_line,
                                  absl::Time deadline);
  // The screen after the mark.
  std::string SinceMark() const { return screen_.substr(mark_); }
  void Mark() { mark_ = screen_.size(); }
  // Moves the mark past the first `text` after it (if it is there).
  void MarkPast(absl::string_view text);

  const std::string& screen() const { return screen_; }
  // Every byte the terminal showed, carriage returns and escape sequences
  // included (screen() drops the "\r"s): for output drawn in place.
  const std::string& raw() const { return raw_; }
  pid_t pid() const { return pid_; }

 private:
  PtyShell(int master, pid_t pid) : master_(master), pid_(pid) {}
  // Appends what the terminal has now, waiting at most until `deadline`
  // for something. False once the shell side is gone.
  bool ReadSome(absl::Time deadline);

  const int master_;
  const pid_t pid_;
  std::string screen_;
  std::string raw_;
  size_t mark_ = 0;
};

}  // namespace conch::test

#endif  // CONCH_TESTING_PTY_SHELL_H_

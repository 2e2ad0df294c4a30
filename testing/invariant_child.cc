// invariant_child: the child the invariant tests run under conch. It
// appends one line when it starts and one when it ends to a shared log
// (O_APPEND, one write(2) per line, so lines from many processes never
// interleave), with CLOCK_MONOTONIC nanoseconds:
//   S <group> <pid> <token> <slot> <ns>
//   E <group> <pid> <token> <slot> <ns>
// <token> is CONCH_REV, <slot> CONCH_SLOT (-1 for elect). It runs for a
// random time in [min_ms, max_ms] and exits 0; on SIGTERM it writes its E
// line and exits at once (a cooperative child). A SIGKILLed child writes no
// E line: the harness observes its death instead.
//
//   invariant_child LOG GROUP MIN_MS MAX_MS
#include <fcntl.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>

namespace {

int g_fd = -1;
char g_prefix[256];  // "<group> <pid> <token> <slot>"

long long MonoNs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<long long>(ts.tv_sec) * 1000000000LL + ts.tv_nsec;
}

// Async-signal-safe: snprintf is not, so format by hand.
void WriteLine(char kind) {
  char line[320];
  size_t n = 0;
  line[n++] = kind;
  line[n++] = ' ';
  for (const char* p = g_prefix; *p != '\0' && n < 280; ++p) line[n++] = *p;
  line[n++] = ' ';
  char digits[24];
  int d = 0;
  long long v = MonoNs();
  do {
    digits[d++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v > 0);
  while (d > 0) line[n++] = digits[--d];
  line[n++] = '\n';
  ssize_t ignored = write(g_fd, line, n);
  (void)ignored;
}

void OnTerm(int) {
  WriteLine('E');
  _exit(0);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5 && argc != 6) {
    fprintf(stderr,
            "usage: invariant_child LOG GROUP MIN_MS MAX_MS [stubborn]\n");
    return 64;
  }
  g_fd = open(argv[1], O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (g_fd < 0) return 70;
  const char* token = getenv("CONCH_REV");
  const char* slot = getenv("CONCH_SLOT");
  snprintf(g_prefix, sizeof(g_prefix), "%s %d %s %s", argv[2], getpid(),
           token != nullptr ? token : "0", slot != nullptr ? slot : "-1");
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  const bool stubborn = argc == 6 && strcmp(argv[5], "stubborn") == 0;
  sa.sa_handler = stubborn ? SIG_IGN : OnTerm;
  sigaction(SIGTERM, &sa, nullptr);
  WriteLine('S');
  const int min_ms = atoi(argv[3]);
  const int max_ms = atoi(argv[4]);
  std::mt19937 rng(static_cast<unsigned>(getpid() ^ MonoNs()));
  const int ms = min_ms + static_cast<int>(rng() % (max_ms - min_ms + 1));
  struct timespec left = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&left, &left) != 0) {
  }
  // Block SIGTERM so that the E line is written once.
  sigset_t term;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  sigprocmask(SIG_BLOCK, &term, nullptr);
  WriteLine('E');
  return 0;
}

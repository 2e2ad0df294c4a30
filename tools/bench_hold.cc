// bench_hold: the child that tools/bench_handover.sh runs under
// `conch elect` and `etcdctl lock`, to time handovers between holders.
//
//   bench_hold LOG MS
//
// Appends "S <CLOCK_REALTIME ns> <pid>" to LOG, sleeps MS milliseconds,
// appends "E <CLOCK_REALTIME ns> <pid>", and exits 0. Each line is one
// write(2) on an O_APPEND descriptor, so lines of concurrent writers never
// interleave. Only libc, and statically linked, so that starting it costs
// as little as possible of what is measured. Exits 2 on bad usage, 1 when
// LOG cannot be written. SIGTERM keeps its default action (no "E" line).
#include <errno.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

namespace {

// Appends "<tag> <now ns> <pid>\n" to fd in one write; false on failure.
bool Stamp(int fd, char tag) {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  const long long ns = static_cast<long long>(ts.tv_sec) * 1000000000LL +
                       static_cast<long long>(ts.tv_nsec);
  char line[64];
  const int n = std::snprintf(line, sizeof(line), "%c %lld %ld\n", tag, ns,
                              static_cast<long>(getpid()));
  if (n <= 0 || n >= static_cast<int>(sizeof(line))) return false;
  ssize_t w;
  do {
    w = write(fd, line, static_cast<size_t>(n));
  } while (w < 0 && errno == EINTR);
  return w == n;
}

// Sleeps ms milliseconds, resuming after signals that do not end us.
void SleepMs(long ms) {
  timespec left{ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&left, &left) != 0 && errno == EINTR) {
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: bench_hold LOG MS\n");
    return 2;
  }
  char* end = nullptr;
  const long ms = std::strtol(argv[2], &end, 10);
  if (end == argv[2] || *end != '\0' || ms < 0) {
    std::fprintf(stderr, "bench_hold: bad MS: %s\n", argv[2]);
    return 2;
  }
  const int fd = open(argv[1], O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    std::perror("bench_hold: open");
    return 1;
  }
  if (!Stamp(fd, 'S')) {
    std::perror("bench_hold: write");
    return 1;
  }
  SleepMs(ms);
  if (!Stamp(fd, 'E')) {
    std::perror("bench_hold: write");
    return 1;
  }
  close(fd);
  return 0;
}

#include "core/base/notifier.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>

namespace conch {

Notifier::Notifier() : fd_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  if (fd_ < 0) abort();  // out of file descriptors at start-up
}

Notifier::~Notifier() { close(fd_); }

void Notifier::Notify() const {
  const uint64_t one = 1;
  ssize_t ignored = write(fd_, &one, sizeof(one));  // EAGAIN: already set
  (void)ignored;
}

void Notifier::Drain() const {
  uint64_t value;
  ssize_t ignored = read(fd_, &value, sizeof(value));  // EAGAIN: was clear
  (void)ignored;
}

}  // namespace conch

// Notifier: wakes a poll(2)-based loop from any thread.
//
// An eventfd that other threads (gRPC callbacks, keepalive listeners) poke
// with Notify(); the loop polls fd() for POLLIN and calls Drain() before it
// re-checks what changed. Notify() is async-signal-safe and never blocks;
// notifications coalesce.
//
// Ownership: owns the eventfd. Thread-safe.
//
// Example:
//   Notifier wake;
//   SessionOptions opts{.on_event = [&] { wake.Notify(); }};
//   struct pollfd p{wake.fd(), POLLIN, 0};
//   poll(&p, 1, timeout_ms);
//   wake.Drain();
#ifndef CONCH_CORE_BASE_NOTIFIER_H_
#define CONCH_CORE_BASE_NOTIFIER_H_

namespace conch {

class Notifier {
 public:
  Notifier();
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;
  ~Notifier();

  int fd() const { return fd_; }
  void Notify() const;
  void Drain() const;

 private:
  const int fd_;
};

}  // namespace conch

#endif  // CONCH_CORE_BASE_NOTIFIER_H_

#include "testing/etcd_fixture_util.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gtest/gtest.h"
#include "testing/files.h"
#include "testing/subprocess.h"

namespace conch::test::internal {
namespace {

struct DirCloser {
  void operator()(DIR* dir) const { closedir(dir); }
};
using DirPtr = std::unique_ptr<DIR, DirCloser>;

}  // namespace

absl::StatusOr<std::vector<int>> PickFreePorts(int count) {
  std::vector<int> fds;
  std::vector<int> ports;
  absl::Status status;
  for (int i = 0; i < count && status.ok(); ++i) {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      status = absl::InternalError(absl::StrCat("socket: ", strerror(errno)));
      break;
    }
    fds.push_back(fd);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
        getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      status = absl::UnavailableError(
          absl::StrCat("cannot pick a free port: ", strerror(errno)));
      break;
    }
    ports.push_back(ntohs(addr.sin_port));
  }
  for (int fd : fds) close(fd);
  if (!status.ok()) return status;
  return ports;
}

bool AllThreadsStopped(pid_t pid) {
  const std::string task_dir = absl::StrCat("/proc/", pid, "/task");
  DirPtr dir(opendir(task_dir.c_str()));
  if (dir == nullptr) return false;
  bool all_stopped = true;
  int threads = 0;
  while (dirent* entry = readdir(dir.get())) {
    if (entry->d_name[0] == '.') continue;
    ++threads;
    absl::StatusOr<std::string> stat =
        ReadFile(absl::StrCat(task_dir, "/", entry->d_name, "/stat"));
    if (!stat.ok()) continue;  // The thread just exited.
    const size_t paren = stat->rfind(')');
    const char state = paren != std::string::npos && paren + 2 < stat->size()
                           ? (*stat)[paren + 2]
                           : '?';
    if (state != 'T' && state != 't') {
      all_stopped = false;
      break;
    }
  }
  return all_stopped && threads > 0;
}

absl::StatusOr<int> LockRoot(const std::string& root) {
  const std::string path = absl::StrCat(root, "/", kLockName);
  const int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return absl::InternalError(
        absl::StrCat("open ", path, ": ", strerror(errno)));
  }
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    close(fd);
    return absl::InternalError(
        absl::StrCat("flock ", path, ": ", strerror(error)));
  }
  return fd;
}

bool CurrentTestFailed() {
  const ::testing::UnitTest* unit_test = ::testing::UnitTest::GetInstance();
  const ::testing::TestInfo* info = unit_test->current_test_info();
  if (info != nullptr) return info->result()->Failed();
  return unit_test->Failed();
}

std::string LogCopyName(absl::string_view label, absl::string_view suffix) {
  static std::atomic<int> copies{0};
  std::string test = "no-test";
  const ::testing::TestInfo* info =
      ::testing::UnitTest::GetInstance()->current_test_info();
  if (info != nullptr) {
    test = absl::StrCat(info->test_suite_name(), ".", info->name());
  }
  test = absl::StrReplaceAll(test, {{"/", "_"}});
  return absl::StrCat(label, "-", test, "-", getpid(), "-", copies++,
                      suffix.empty() ? "" : "-", suffix, ".log");
}

void PreserveServerLog(absl::string_view label, const std::string& log_path,
                       int tail_lines) {
  absl::StatusOr<std::string> log = ReadFile(log_path);
  if (!log.ok()) return;
  std::string copied_to;
  const char* outputs = std::getenv("TEST_UNDECLARED_OUTPUTS_DIR");
  if (outputs != nullptr && outputs[0] != '\0') {
    const std::string copy = absl::StrCat(outputs, "/", LogCopyName(label, ""));
    if (WriteFile(copy, *log).ok()) copied_to = copy;
  }
  std::cerr << "==== last " << tail_lines << " lines of " << label << " log "
            << log_path
            << (copied_to.empty() ? ""
                                  : absl::StrCat(" (saved to ", copied_to, ")"))
            << " ====\n"
            << LastLines(*log, tail_lines) << "==== end of " << label
            << " log ====" << std::endl;
}

void AppendToFile(const std::string& path, absl::string_view text) {
  const int fd =
      open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return;
  ssize_t ignored = write(fd, text.data(), text.size());
  (void)ignored;
  close(fd);
}

absl::StatusOr<EtcdBinaries> FindEtcdBinaries() {
  absl::StatusOr<std::string> etcd = FindProgram("etcd");
  if (!etcd.ok()) etcd = FindProgram("/usr/bin/etcd");
  if (!etcd.ok()) return etcd.status();
  absl::StatusOr<std::string> etcdctl = FindProgram("etcdctl");
  if (!etcdctl.ok()) etcdctl = FindProgram("/usr/bin/etcdctl");
  if (!etcdctl.ok()) return etcdctl.status();
  return EtcdBinaries{*etcd, *etcdctl};
}

absl::StatusOr<LockedRoot> MakeLockedRoot() {
  absl::StatusOr<std::string> root =
      MakeTempDir(kRootPrefix, /*prefer_shm=*/true);
  if (!root.ok()) return root.status();
  absl::StatusOr<int> lock = LockRoot(*root);
  if (!lock.ok()) return lock.status();
  return LockedRoot{*root, *lock};
}

}  // namespace conch::test::internal

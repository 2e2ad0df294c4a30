// ReadPemFile: reads a TLS file given by --cacert, --cert or --key, and
// checks it before anything is dialled.
//
// gRPC takes PEM text and finds out that it is not PEM only while dialling:
// a CA bundle of /dev/zero grew to 1.5 GB, and a non-PEM or swapped file
// ended after the whole dial timeout as "etcd unreachable". Here, at once:
//   - the path must be a regular file (not a directory, a device or a fifo)
//     of at most kMaxPemBytes;
//   - it must hold at least one PEM block of the kind the flag wants
//     (CERTIFICATE for --cacert and --cert, a PRIVATE KEY for --key), each
//     block framed by matching BEGIN/END lines around valid base64.
// The check is structural: whether the certificate verifies or the key
// matches is still for the TLS handshake to say.
//
// Errors are InvalidArgument, one line naming the flag, the file and the
// problem ("--key file \"c.pem\" holds no PRIVATE KEY block (it holds a
// CERTIFICATE: swapped with --cert?)"). Thread-safe (no state).
//
// Example:
//   absl::StatusOr<std::string> ca =
//       ReadPemFile("--cacert", path, PemKind::kCertificates);
#ifndef CONCH_CORE_ETCD_PEM_FILE_H_
#define CONCH_CORE_ETCD_PEM_FILE_H_

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace conch::etcd {

enum class PemKind { kCertificates, kPrivateKey };

// Larger than any real CA bundle (Debian's holds ~220 KB).
inline constexpr size_t kMaxPemBytes = 4 * 1024 * 1024;

absl::StatusOr<std::string> ReadPemFile(absl::string_view flag,
                                        const std::string& path, PemKind kind);

// The structural check alone, on text already read.
absl::Status CheckPem(absl::string_view flag, const std::string& path,
                      absl::string_view text, PemKind kind);

}  // namespace conch::etcd

#endif  // CONCH_CORE_ETCD_PEM_FILE_H_

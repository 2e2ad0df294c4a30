// Throw-away TLS material for tests that run etcd with client-certificate
// authentication.
//
// Contract: MakeTestCerts(dir) runs /usr/bin/openssl (or `openssl` from PATH)
// to write PEM files into the existing directory `dir`:
//   * a CA (EC P-256, self-signed, CN=conch-test-ca);
//   * a server certificate signed by it, valid for IP:127.0.0.1 and
//     DNS:localhost, usable for both serverAuth and clientAuth (etcd's gRPC
//     gateway dials the server with the server certificate);
//   * a client certificate signed by the CA (CN=conch-test-client);
//   * an "untrusted" client certificate signed by a second, unrelated CA,
//     which a server trusting only the first CA must reject.
// Every certificate is valid for one day from now. The files stay in `dir`;
// the caller owns and removes them (normally with the directory).
//
// Ownership and thread-safety: TestCerts is a plain value holding paths.
// MakeTestCerts keeps no state; concurrent calls must use different dirs.
//
// Example:
//   absl::StatusOr<conch::test::TestCerts> certs =
//       conch::test::MakeTestCerts(dir);
//   ASSERT_TRUE(certs.ok()) << certs.status();
//   // etcd --trusted-ca-file=certs->ca_file
//   //      --cert-file=certs->server_cert_file ...
//   // etcdctl --cacert=certs->ca_file --cert=certs->client_cert_file ...
#ifndef CONCH_TESTING_TEST_CERTS_H_
#define CONCH_TESTING_TEST_CERTS_H_

#include <string>

#include "absl/status/statusor.h"

namespace conch::test {

struct TestCerts {
  // The directory holding every file below.
  std::string dir;
  // The CA certificate that the server and the clients trust.
  std::string ca_file;
  // Server certificate and key (SAN IP:127.0.0.1, DNS:localhost).
  std::string server_cert_file;
  std::string server_key_file;
  // A client certificate and key signed by the CA.
  std::string client_cert_file;
  std::string client_key_file;
  // A client certificate and key signed by a CA nobody trusts.
  std::string untrusted_client_cert_file;
  std::string untrusted_client_key_file;
};

// Generates the certificates into `dir`, which must exist.
absl::StatusOr<TestCerts> MakeTestCerts(const std::string& dir);

}  // namespace conch::test

#endif  // CONCH_TESTING_TEST_CERTS_H_

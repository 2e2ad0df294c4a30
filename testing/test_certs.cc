#include "testing/test_certs.h"

#include <unistd.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "testing/files.h"
#include "testing/subprocess.h"

namespace conch::test {
namespace {

constexpr absl::Duration kOpensslTimeout = absl::Seconds(30);

// Extension sections used with -extensions; `req` also needs a
// distinguished_name section even though -subj supplies the name.
constexpr char kOpensslConfig[] = R"([req]
distinguished_name = dn
prompt = no

[dn]
CN = unused

[ca_ext]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash

[server_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth,clientAuth
subjectAltName = IP:127.0.0.1,DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

[client_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
)";

std::string OpensslPath() {
  return access("/usr/bin/openssl", X_OK) == 0 ? "/usr/bin/openssl" : "openssl";
}

class CertMaker {
 public:
  explicit CertMaker(std::string dir)
      : dir_(std::move(dir)),
        openssl_(OpensslPath()),
        config_(Path("openssl.cnf")) {}

  std::string Path(absl::string_view name) const {
    return absl::StrCat(dir_, "/", name);
  }

  absl::Status WriteConfig() { return WriteFile(config_, kOpensslConfig); }

  absl::Status Run(std::vector<std::string> args) {
    args.insert(args.begin(), openssl_);
    absl::StatusOr<CommandResult> r =
        RunCommand(args, kOpensslTimeout, {{"OPENSSL_CONF", config_}});
    if (!r.ok()) return r.status();
    if (!r->Succeeded()) {
      return absl::InternalError(absl::StrCat("`", absl::StrJoin(args, " "),
                                              "` failed: ", r->DebugString()));
    }
    return absl::OkStatus();
  }

  absl::Status MakeKey(const std::string& key) {
    return Run({"genpkey", "-algorithm", "EC", "-pkeyopt",
                "ec_paramgen_curve:P-256", "-out", key});
  }

  absl::Status MakeCa(const std::string& name, const std::string& cert,
                      const std::string& key, int serial) {
    if (absl::Status s = MakeKey(key); !s.ok()) return s;
    return Run({"req", "-x509", "-new", "-config", config_, "-extensions",
                "ca_ext", "-key", key, "-subj", absl::StrCat("/CN=", name),
                "-days", "1", "-set_serial", absl::StrCat(serial), "-out",
                cert});
  }

  absl::Status MakeLeaf(const std::string& common_name,
                        const std::string& extensions, const std::string& cert,
                        const std::string& key, const std::string& ca_cert,
                        const std::string& ca_key, int serial) {
    if (absl::Status s = MakeKey(key); !s.ok()) return s;
    const std::string csr = cert + ".csr";
    if (absl::Status s =
            Run({"req", "-new", "-config", config_, "-key", key, "-subj",
                 absl::StrCat("/CN=", common_name), "-out", csr});
        !s.ok()) {
      return s;
    }
    absl::Status s =
        Run({"x509", "-req", "-in", csr, "-CA", ca_cert, "-CAkey", ca_key,
             "-set_serial", absl::StrCat(serial), "-days", "1", "-extfile",
             config_, "-extensions", extensions, "-out", cert});
    unlink(csr.c_str());
    return s;
  }

 private:
  const std::string dir_;
  const std::string openssl_;
  const std::string config_;
};

}  // namespace

absl::StatusOr<TestCerts> MakeTestCerts(const std::string& dir) {
  CertMaker maker(dir);
  TestCerts certs;
  certs.dir = dir;
  certs.ca_file = maker.Path("ca.crt");
  certs.server_cert_file = maker.Path("server.crt");
  certs.server_key_file = maker.Path("server.key");
  certs.client_cert_file = maker.Path("client.crt");
  certs.client_key_file = maker.Path("client.key");
  certs.untrusted_client_cert_file = maker.Path("untrusted-client.crt");
  certs.untrusted_client_key_file = maker.Path("untrusted-client.key");
  const std::string ca_key = maker.Path("ca.key");
  const std::string rogue_ca = maker.Path("untrusted-ca.crt");
  const std::string rogue_ca_key = maker.Path("untrusted-ca.key");

  absl::Status s = maker.WriteConfig();
  if (s.ok()) s = maker.MakeCa("conch-test-ca", certs.ca_file, ca_key, 1);
  if (s.ok()) {
    s = maker.MakeLeaf("localhost", "server_ext", certs.server_cert_file,
                       certs.server_key_file, certs.ca_file, ca_key, 2);
  }
  if (s.ok()) {
    s = maker.MakeLeaf("conch-test-client", "client_ext",
                       certs.client_cert_file, certs.client_key_file,
                       certs.ca_file, ca_key, 3);
  }
  if (s.ok()) {
    s = maker.MakeCa("conch-untrusted-ca", rogue_ca, rogue_ca_key, 4);
  }
  if (s.ok()) {
    s = maker.MakeLeaf(
        "conch-test-client", "client_ext", certs.untrusted_client_cert_file,
        certs.untrusted_client_key_file, rogue_ca, rogue_ca_key, 5);
  }
  if (!s.ok()) return s;
  return certs;
}

}  // namespace conch::test

#include "tls.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <cstdio>
#include <memory>

namespace wardsync::node {

namespace {

template <auto Free>
struct Deleter {
  template <typename T>
  void operator()(T* p) const { Free(p); }
};
using KeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>>;
using CertPtr = std::unique_ptr<X509, Deleter<X509_free>>;
using ExtPtr = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION_free>>;
using FilePtr = std::unique_ptr<FILE, Deleter<std::fclose>>;

Status openssl_error(const std::string& what) {
  return Status{Code::kIo, "office certificate: " + what + " failed"};
}

// Opens `path` for writing with `mode`, refusing an existing file.
FilePtr create_file(const std::filesystem::path& path, mode_t mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return nullptr;
  FILE* f = ::fdopen(fd, "w");
  if (f == nullptr) ::close(fd);
  return FilePtr(f);
}

bool add_extension(X509* cert, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  ExtPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
  return ext && X509_add_ext(cert, ext.get(), -1) == 1;
}

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "";
  std::string name(buf);
  // Only plain DNS labels go into the certificate.
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.'))
      return "";
  return name;
}

}  // namespace

Status create_office_certificate(const Config& config, const std::filesystem::path& cert_file,
                                 const std::filesystem::path& key_file) {
  std::error_code ec;
  if (std::filesystem::exists(cert_file, ec) || std::filesystem::exists(key_file, ec))
    return Status{Code::kConflict, "office certificate: " + cert_file.string() + " or its key already exists"};
  std::filesystem::create_directories(cert_file.parent_path(), ec);
  std::filesystem::create_directories(key_file.parent_path(), ec);

  KeyPtr key(EVP_EC_gen("P-256"));
  if (!key) return openssl_error("key generation");
  CertPtr cert(X509_new());
  if (!cert) return openssl_error("X509_new");
  unsigned char serial[16];
  if (RAND_bytes(serial, sizeof serial) != 1) return openssl_error("serial");
  serial[0] &= 0x7f;  // a positive integer
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  const bool serial_ok = bn != nullptr && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get())) != nullptr;
  BN_free(bn);
  if (!serial_ok) return openssl_error("serial");
  constexpr long kTenYears = 10L * 366 * 24 * 3600;
  if (X509_set_version(cert.get(), 2) != 1 || X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600) == nullptr ||
      X509_gmtime_adj(X509_getm_notAfter(cert.get()), kTenYears) == nullptr ||
      X509_set_pubkey(cert.get(), key.get()) != 1)
    return openssl_error("certificate fields");
  X509_NAME* name = X509_get_subject_name(cert.get());
  const std::string organization = "wardsync " + config.office_code;
  auto utf8 = [](const std::string& s) { return reinterpret_cast<const unsigned char*>(s.c_str()); };
  if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, utf8(config.office_name), -1, -1, 0) != 1 ||
      X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, utf8(organization), -1, -1, 0) != 1 ||
      X509_set_issuer_name(cert.get(), name) != 1)
    return openssl_error("certificate name");
  std::string alt = "DNS:localhost,DNS:wardnode.local,IP:127.0.0.1,IP:::1";
  if (std::string host = host_name(); !host.empty() && host != "localhost") alt += ",DNS:" + host;
  if (!add_extension(cert.get(), NID_subject_alt_name, alt) ||
      !add_extension(cert.get(), NID_basic_constraints, "critical,CA:FALSE") ||
      !add_extension(cert.get(), NID_key_usage, "critical,digitalSignature") ||
      !add_extension(cert.get(), NID_ext_key_usage, "serverAuth"))
    return openssl_error("certificate extensions");
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) return openssl_error("signing");

  FilePtr kf = create_file(key_file, 0600);
  if (!kf || PEM_write_PrivateKey(kf.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1)
    return Status{Code::kIo, "cannot write " + key_file.string()};
  FilePtr cf = create_file(cert_file, 0644);
  if (!cf || PEM_write_X509(cf.get(), cert.get()) != 1) return Status{Code::kIo, "cannot write " + cert_file.string()};
  if (std::fflush(kf.get()) != 0 || ::fsync(::fileno(kf.get())) != 0 || std::fflush(cf.get()) != 0 ||
      ::fsync(::fileno(cf.get())) != 0)
    return Status{Code::kIo, "cannot sync the office certificate files"};
  return Status::ok();
}

Result<std::string> certificate_fingerprint(const std::filesystem::path& cert_file) {
  FilePtr f(std::fopen(cert_file.c_str(), "r"));
  if (!f) return Status{Code::kNotFound, "cannot open " + cert_file.string()};
  CertPtr cert(PEM_read_X509(f.get(), nullptr, nullptr, nullptr));
  if (!cert) return Status{Code::kInvalidArgument, cert_file.string() + ": not a PEM certificate"};
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (X509_digest(cert.get(), EVP_sha256(), md, &n) != 1) return openssl_error("digest");
  static const char* kHex = "0123456789ABCDEF";
  std::string out = "SHA256 ";
  for (unsigned int i = 0; i < n; ++i) {
    if (i != 0) out += ':';
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 15];
  }
  return out;
}

bool is_loopback_listen(const std::string& listen) {
  const std::size_t colon = listen.rfind(':');
  std::string host = colon == std::string::npos ? listen : listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

bool tls_enabled(const Config& config) {
  return config.tls == "on" || (config.tls == "auto" && !is_loopback_listen(config.listen));
}

}  // namespace wardsync::node

// The office certificate: HTTPS for the clerks' browsers and the kiosk on the
// office LAN (DESIGN.md, "HTTP and UI").
//
// `wardnode init` makes a self-signed ECDSA P-256 certificate for the office,
// valid ten years, naming the office and the names a LAN client may use
// (localhost, wardnode.local, this host's name, 127.0.0.1). There is no
// public CA on an offline LAN: the IT officer pins the certificate's SHA-256
// fingerprint, which init prints and the node logs at start, on the kiosk and
// in the clerks' browsers. Plain HTTP is allowed only on a loopback address.
//
// Thread safety: plain functions.
#pragma once

#include <filesystem>
#include <string>

#include "config.hpp"
#include "wardsync/sync/status.hpp"

namespace wardsync::node {

// Writes a new key (mode 0600) and certificate (PEM). Refuses to overwrite.
[[nodiscard]] Status create_office_certificate(const Config& config, const std::filesystem::path& cert_file,
                                               const std::filesystem::path& key_file);
// "SHA256 AB:CD:…" of a PEM certificate file.
[[nodiscard]] Result<std::string> certificate_fingerprint(const std::filesystem::path& cert_file);
// Whether `listen` ("host:port") names a loopback address.
bool is_loopback_listen(const std::string& listen);
// Whether the node serves HTTPS: tls = on, or auto on a non-loopback address.
bool tls_enabled(const Config& config);

}  // namespace wardsync::node

// The web apps (ui-web/dist: the clerks' app at /, the kiosk at /kiosk/, the hall
// display at /display/) served as static files from the configured `ui_dir`.
//
// Rules: GET and HEAD only; a path is decoded once, split into segments, and any
// segment that is empty-with-dots, hidden (starts with '.'), or carries '\' or a
// control byte is refused before the file system is touched; the resolved file
// must then canonicalize inside ui_dir (no symlink escapes) and be a regular file.
// Hashed build assets (/assets/...) are cached for a year (immutable); everything
// else, HTML first, is `no-cache` with an ETag so a new build shows at once.
// A precompressed sibling `<file>.gz` (written by the UI build) is sent instead
// when the client accepts gzip. Every answer carries a Content-Security-Policy
// that allows only 'self', X-Content-Type-Options and frame-ancestors 'none'.
//
// Thread safety: stateless; called from Poco's worker threads.
#pragma once

#include <string>

#include "http/api_internal.hpp"

namespace wardsync::node::http {

// The security headers of every static answer (exposed for the tests' sake).
inline constexpr const char* kContentSecurityPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

// True when `ui_dir` is configured (not "none") and holds an index.html.
bool ui_available(const Config& config);

// Answers the request for `path` (decoded, outside /api/v1) from ui_dir.
void serve_static(Exchange& ex, const std::string& path);

}  // namespace wardsync::node::http

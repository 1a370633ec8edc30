#include "http/static_files.hpp"

#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include <Poco/Net/HTTPResponse.h>
#include <Poco/String.h>

namespace wardsync::node::http {

namespace fs = std::filesystem;

namespace {

// Our own build output; anything larger is not one of our files.
constexpr std::uintmax_t kStaticFileBytesMax = 64ull * 1024 * 1024;

struct TypeOf {
  const char* ext;
  const char* type;
};
constexpr TypeOf kTypes[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".json", "application/json; charset=utf-8"},
    {".webmanifest", "application/manifest+json"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".jpg", "image/jpeg"},
    {".jpeg", "image/jpeg"},
    {".ico", "image/x-icon"},
    {".webp", "image/webp"},
    {".woff2", "font/woff2"},
    {".woff", "font/woff"},
    {".ttf", "font/ttf"},
    {".txt", "text/plain; charset=utf-8"},
    {".map", "application/json; charset=utf-8"},
};

const char* content_type(const std::string& name) {
  auto dot = name.rfind('.');
  if (dot == std::string::npos) return "application/octet-stream";
  std::string ext = Poco::toLower(name.substr(dot));
  for (const auto& t : kTypes)
    if (ext == t.ext) return t.type;
  return "application/octet-stream";
}

bool compressible(const std::string& type) {
  return type.rfind("text/", 0) == 0 || type.rfind("application/json", 0) == 0 || type == "image/svg+xml" ||
         type.rfind("application/manifest", 0) == 0;
}

void security_headers(Poco::Net::HTTPServerResponse& resp) {
  resp.set("Content-Security-Policy", kContentSecurityPolicy);
  resp.set("X-Content-Type-Options", "nosniff");
  resp.set("X-Frame-Options", "DENY");
  resp.set("Referrer-Policy", "no-referrer");
  resp.set("Cross-Origin-Opener-Policy", "same-origin");
}

void plain(Exchange& ex, int status, const std::string& text) {
  ex.answered = true;
  security_headers(ex.resp);
  ex.resp.setStatusAndReason(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(status));
  ex.resp.setContentType("text/plain; charset=utf-8");
  ex.resp.set("Cache-Control", "no-store");
  ex.resp.setContentLength64(static_cast<Poco::Int64>(text.size()));
  ex.resp.send().write(text.data(), static_cast<std::streamsize>(text.size()));
}

void not_found_text(Exchange& ex) {
  plain(ex, 404, "Không có trang này. / Not found.\n");
}

// "gzip" listed and not refused with q=0.
bool accepts_gzip(const std::string& header) {
  std::string h = Poco::toLower(header);
  std::size_t pos = 0;
  while (pos <= h.size()) {
    std::size_t end = h.find(',', pos);
    if (end == std::string::npos) end = h.size();
    std::string item = Poco::trim(h.substr(pos, end - pos));
    std::string coding = Poco::trim(item.substr(0, item.find(';')));
    if (coding == "gzip" || coding == "x-gzip") {
      auto q = item.find("q=");
      if (q == std::string::npos) return true;
      std::string qv = Poco::trim(item.substr(q + 2));
      return !(qv == "0" || qv == "0.0" || qv == "0.00" || qv == "0.000");
    }
    pos = end + 1;
  }
  return false;
}

// Within `root` (both canonical): a prefix match on whole path components.
bool inside(const fs::path& root, const fs::path& p) {
  auto r = root.begin(), q = p.begin();
  for (; r != root.end(); ++r, ++q)
    if (q == p.end() || *r != *q) return false;
  return q != p.end();
}

struct Found {
  fs::path file;
  struct stat st {};
};

// Resolves `rel` under root to a regular file inside root, or nothing.
std::optional<Found> resolve(const fs::path& root, const fs::path& rel) {
  std::error_code ec;
  fs::path canon = fs::canonical(root / rel, ec);
  if (ec || !inside(root, canon)) return std::nullopt;
  Found f;
  f.file = canon;
  if (::stat(canon.c_str(), &f.st) != 0 || !S_ISREG(f.st.st_mode)) return std::nullopt;
  if (static_cast<std::uintmax_t>(f.st.st_size) > kStaticFileBytesMax) return std::nullopt;
  return f;
}

std::string etag_of(const struct stat& st, bool gzipped) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "W/\"%llx-%llx%s\"", static_cast<unsigned long long>(st.st_size),
                static_cast<unsigned long long>(st.st_mtim.tv_sec) * 1000000000ull +
                    static_cast<unsigned long long>(st.st_mtim.tv_nsec),
                gzipped ? "-gz" : "");
  return buf;
}

}  // namespace

bool ui_available(const Config& config) {
  if (config.ui_dir.empty() || config.ui_dir == "none") return false;
  std::error_code ec;
  return fs::is_regular_file(config.path_of(config.ui_dir) / "index.html", ec);
}

void serve_static(Exchange& ex, const std::string& path) {
  if (ex.method != "GET" && ex.method != "HEAD") {
    ex.resp.set("Allow", "GET, HEAD");
    if (ex.req.getContentLength64() > 0 || ex.req.getChunkedTransferEncoding()) ex.resp.setKeepAlive(false);
    return plain(ex, 405, "Phương thức không được hỗ trợ. / Method not allowed.\n");
  }
  // A GET carries no body; one that does is not ours to read: close after answering.
  if (ex.req.getContentLength64() > 0 || ex.req.getChunkedTransferEncoding()) ex.resp.setKeepAlive(false);
  if (path.empty() || path[0] != '/' || path.size() > 1024) return not_found_text(ex);
  // Segment checks on the decoded path, before any file system call.
  fs::path rel;
  std::size_t pos = 1;
  bool dir_request = path.back() == '/';
  while (pos < path.size()) {
    std::size_t end = path.find('/', pos);
    if (end == std::string::npos) end = path.size();
    std::string seg = path.substr(pos, end - pos);
    pos = end + 1;
    if (seg.empty()) continue;
    if (seg[0] == '.') return not_found_text(ex);  // "..", ".", hidden files
    for (unsigned char c : seg)
      if (c < 0x20 || c == 0x7f || c == '\\') return not_found_text(ex);
    rel /= seg;
  }
  std::error_code ec;
  fs::path root = fs::canonical(ex.ctx.config.path_of(ex.ctx.config.ui_dir), ec);
  if (ec) return not_found_text(ex);
  if (!rel.empty() && !dir_request && fs::is_directory(root / rel, ec)) {
    // /kiosk → /kiosk/ so the app's relative asset URLs resolve.
    ex.answered = true;
    security_headers(ex.resp);
    std::string query = ex.req.getURI().find('?') == std::string::npos
                            ? ""
                            : ex.req.getURI().substr(ex.req.getURI().find('?'));
    // From the checked segments, never the raw path: "//kiosk" would become
    // "//kiosk/", which a browser takes for another host.
    ex.resp.set("Location", "/" + rel.generic_string() + "/" + query);
    ex.resp.set("Cache-Control", "no-cache");
    ex.resp.setStatusAndReason(Poco::Net::HTTPResponse::HTTP_MOVED_PERMANENTLY);
    ex.resp.setContentLength64(0);
    ex.resp.send();
    return;
  }
  if (rel.empty() || dir_request) rel /= "index.html";
  auto found = resolve(root, rel);
  if (!found) return not_found_text(ex);
  std::string name = rel.filename().string();
  std::string type = content_type(name);
  bool gz = false;
  if (compressible(type)) {
    ex.resp.set("Vary", "Accept-Encoding");
    if (accepts_gzip(ex.req.get("Accept-Encoding", ""))) {
      fs::path gz_rel = rel;
      gz_rel += ".gz";
      if (auto z = resolve(root, gz_rel)) {
        found = z;
        gz = true;
      }
    }
  }
  ex.answered = true;
  security_headers(ex.resp);
  ex.resp.setContentType(type);
  bool hashed = rel.begin() != rel.end() && *rel.begin() == "assets";
  ex.resp.set("Cache-Control", hashed ? "public, max-age=31536000, immutable" : "no-cache");
  std::string etag = etag_of(found->st, gz);
  ex.resp.set("ETag", etag);
  if (gz) ex.resp.set("Content-Encoding", "gzip");
  if (ex.req.get("If-None-Match", "") == etag) {
    ex.resp.setStatusAndReason(Poco::Net::HTTPResponse::HTTP_NOT_MODIFIED);
    ex.resp.setContentLength64(0);
    ex.resp.send();
    return;
  }
  std::ifstream in(found->file, std::ios::binary);
  if (!in) return not_found_text(ex);
  ex.resp.setStatusAndReason(Poco::Net::HTTPResponse::HTTP_OK);
  ex.resp.setContentLength64(static_cast<Poco::Int64>(found->st.st_size));
  std::ostream& out = ex.resp.send();
  if (ex.method == "HEAD") return;
  char buf[16384];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) out.write(buf, in.gcount());
}

}  // namespace wardsync::node::http

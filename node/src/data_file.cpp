#include "data_file.hpp"

#include <Poco/Dynamic/Var.h>
#include <Poco/Exception.h>
#include <Poco/JSON/Parser.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <system_error>

namespace wardsync::node {

namespace {
Status invalid(std::string message) { return {Code::kInvalidArgument, std::move(message)}; }
}  // namespace

Result<std::string> read_small_file(const std::filesystem::path& path, std::uintmax_t max_bytes) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) {
    const Code code = ec == std::errc::no_such_file_or_directory ? Code::kNotFound : Code::kIo;
    return Status(code, path.string() + ": " + ec.message());
  }
  if (size > max_bytes) {
    return invalid(path.string() + ": file is " + std::to_string(size) + " bytes, more than the " +
                   std::to_string(max_bytes) + " allowed");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status(Code::kIo, path.string() + ": cannot open for reading");
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (!in.good() && !in.eof()) return Status(Code::kIo, path.string() + ": read failed");
  return buffer.str();
}

Result<Poco::JSON::Object::Ptr> parse_versioned_json(std::string_view json_text, const std::string& source,
                                                      const std::string& what, std::size_t max_bytes,
                                                      std::size_t max_depth, int version) {
  if (json_text.size() > max_bytes) return invalid(source + ": " + what + " too large");
  // Poco reports bad JSON by throwing; this is the loader's edge, so turn it into a value.
  // Its message names no position: an IT officer editing 18 KB needs the line.
  auto parse = [&](std::string_view text, Poco::Dynamic::Var* out) -> std::string {
    try {
      Poco::JSON::Parser parser;
      parser.setDepth(max_depth);
      Poco::Dynamic::Var v = parser.parse(std::string(text));
      if (out != nullptr) *out = std::move(v);
      return "";
    } catch (const Poco::Exception& e) {
      return e.displayText();
    } catch (const std::exception& e) {
      return e.what();
    }
  };
  Poco::Dynamic::Var root;
  if (std::string error = parse(json_text, &root); !error.empty()) {
    // The shortest prefix that fails the same way ends where the text breaks
    // (a shorter one fails for ending early): found by bisection, a dozen parses.
    std::size_t lo = 0, hi = json_text.size();
    while (lo + 1 < hi) {
      std::size_t mid = lo + (hi - lo) / 2;
      (parse(json_text.substr(0, mid), nullptr) == error ? hi : lo) = mid;
    }
    std::string_view before = json_text.substr(0, hi);
    std::size_t line = 1 + static_cast<std::size_t>(std::count(before.begin(), before.end(), '\n'));
    std::size_t column = hi - (before.rfind('\n') == std::string_view::npos ? 0 : before.rfind('\n') + 1);
    return invalid(source + ": not valid JSON near line " + std::to_string(line) + ", column " +
                   std::to_string(column) + ": " + error);
  }
  if (root.type() != typeid(Poco::JSON::Object::Ptr)) {
    return invalid(source + ": the top level must be a JSON object");
  }
  auto top = root.extract<Poco::JSON::Object::Ptr>();
  const Poco::Dynamic::Var got = top->get("format_version");
  if (!got.isInteger() || got.convert<int>() != version) {
    return invalid(source + ": \"format_version\" must be " + std::to_string(version));
  }
  return top;
}

}  // namespace wardsync::node

#include "data_file.hpp"

#include <Poco/Dynamic/Var.h>
#include <Poco/Exception.h>
#include <Poco/JSON/Parser.h>

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
  Poco::Dynamic::Var root;
  try {
    Poco::JSON::Parser parser;
    parser.setDepth(max_depth);
    root = parser.parse(std::string(json_text));
  } catch (const Poco::Exception& e) {
    return invalid(source + ": not valid JSON: " + e.displayText());
  } catch (const std::exception& e) {
    return invalid(source + ": not valid JSON: " + e.what());
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

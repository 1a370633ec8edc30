// Reading the node's JSON data files (holidays, procedure catalogue): size
// checked before reading, JSON depth bounded, Poco's exceptions turned into
// values, and the top-level object's "format_version" checked.
#pragma once

#include <Poco/JSON/Object.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "wardsync/sync/status.hpp"

namespace wardsync::node {

Result<std::string> read_small_file(const std::filesystem::path& path, std::uintmax_t max_bytes);

// The top-level object of `json_text` (named `source` in errors), whose
// "format_version" must be `version`. `what` names the file in errors
// ("holidays file").
Result<Poco::JSON::Object::Ptr> parse_versioned_json(std::string_view json_text, const std::string& source,
                                                      const std::string& what, std::size_t max_bytes,
                                                      std::size_t max_depth, int version);

}  // namespace wardsync::node

// Command-line arguments of wardnode's sub-commands: "--opt value" options,
// boolean flags, and (where a command takes them) positional arguments. Every
// command parses with this, so "-h" and "--help" and the error wording are the
// same everywhere.
//
// Thread safety: plain values and functions.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace wardsync::node {

struct CliArgs {
  std::map<std::string, std::string> opts;
  std::vector<std::string> flags;
  std::vector<std::string> positional;
  std::string error;  // set on the first bad argument; the rest is not parsed
  bool has(const std::string& f) const;
  std::string get(const std::string& k, const std::string& def = "") const;
};

// Parses argv[from..]: `valued` options take the next argument, `boolean` ones
// none, "-h" means "--help". Anything else is an error, or a positional
// argument when `positional` is true.
CliArgs parse_args(int argc, char** argv, int from, const std::vector<std::string>& valued,
                   const std::vector<std::string>& boolean, bool positional = false);

// "wardnode CMD: MSG (try 'wardnode CMD --help')" on stderr; returns 2.
int usage_error(const std::string& cmd, const std::string& msg);

}  // namespace wardsync::node

#include "cli_args.hpp"

#include <algorithm>
#include <cstdio>

namespace wardsync::node {

bool CliArgs::has(const std::string& f) const {
  return std::find(flags.begin(), flags.end(), f) != flags.end() || opts.count(f) != 0;
}

std::string CliArgs::get(const std::string& k, const std::string& def) const {
  auto it = opts.find(k);
  return it == opts.end() ? def : it->second;
}

CliArgs parse_args(int argc, char** argv, int from, const std::vector<std::string>& valued,
                   const std::vector<std::string>& boolean, bool positional) {
  CliArgs a;
  for (int i = from; i < argc; ++i) {
    std::string s = argv[i];
    if (s == "-h") s = "--help";
    if (s == "--help" || std::find(boolean.begin(), boolean.end(), s) != boolean.end()) {
      a.flags.push_back(s);
    } else if (std::find(valued.begin(), valued.end(), s) != valued.end()) {
      if (i + 1 >= argc) {
        a.error = "option " + s + " needs a value";
        return a;
      }
      a.opts[s] = argv[++i];
    } else if (positional && s.rfind("--", 0) != 0) {
      a.positional.push_back(s);
    } else {
      a.error = "unknown option '" + s + "'";
      return a;
    }
  }
  return a;
}

int usage_error(const std::string& cmd, const std::string& msg) {
  std::fprintf(stderr, "wardnode %s: %s (try 'wardnode %s --help')\n", cmd.c_str(), msg.c_str(), cmd.c_str());
  return 2;
}

}  // namespace wardsync::node

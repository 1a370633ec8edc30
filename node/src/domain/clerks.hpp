// Clerk accounts: username (written once), display name, role, Argon2id password
// hash, disabled flag. Replicated like every record, so the district sees who
// works where; sessions and failed-login counters are local (sessions.hpp).
//
// Thread safety: free functions over a NodeContext; safe from any thread.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "domain/context.hpp"

namespace wardsync::node {

struct Clerk {
  std::string id;  // record id, hex
  std::string username;
  std::string display_name;
  Role role = Role::kClerk;
  bool disabled = false;
  std::string password_hash;
};

struct NewClerk {
  std::string username;
  std::string display_name;
  std::string role;
  std::string password;
};

// Clerk accounts belong to one office: a district's store also holds every
// ward's replicated clerk records, and a ward's "motcua" must never sign in at
// the district. These look only at accounts of `office` (the office code).
std::optional<Clerk> find_clerk(Reader& reader, const std::string& username, const std::string& office);
std::optional<Clerk> get_clerk(Reader& reader, const std::string& id);
std::vector<Clerk> list_clerks(Reader& reader, const std::string& office);

// Validates (username 3–32 of [a-z0-9._-], display name, role, password ≥ 8 bytes),
// refuses an existing username (409), hashes and writes. `author` signs the change.
Outcome<Clerk> add_clerk(NodeContext& ctx, const std::string& author, const NewClerk& input);
Outcome<Clerk> set_password(NodeContext& ctx, const std::string& author, const std::string& username,
                            const std::string& password);
Outcome<Clerk> set_disabled(NodeContext& ctx, const std::string& author, const std::string& username, bool disabled);

}  // namespace wardsync::node

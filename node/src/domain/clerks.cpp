#include "domain/clerks.hpp"

#include "password.hpp"
#include "schema.hpp"

namespace wardsync::node {

namespace {

Clerk clerk_of(const Record& r) {
  Clerk c;
  c.id = r.id.hex();
  c.username = r.text("username");
  c.display_name = r.text("display_name");
  if (!parse_role(r.text("role"), c.role)) c.role = Role::kClerk;
  c.disabled = r.text("disabled") == "1";
  c.password_hash = r.text("password_hash");
  return c;
}

// Accounts made before clerk records named their office (data directories of
// an earlier wardnode) count as this office's.
bool of_office(const Record& r, const std::string& office) {
  const std::string own = r.text("office");
  return own == office || own.empty();
}

bool valid_username(const std::string& u) {
  if (u.size() < 3 || u.size() > 32) return false;
  // Starts with a letter or digit: "-rf" reads as an option on every command line.
  if (!((u[0] >= 'a' && u[0] <= 'z') || (u[0] >= '0' && u[0] <= '9'))) return false;
  for (char ch : u) {
    bool ok = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-';
    if (!ok) return false;
  }
  return true;
}

std::optional<FieldError> password_error(const std::string& field, const std::string& password) {
  if (password.size() < kPasswordBytesMin)
    return FieldError{field, "too_short", "Mật khẩu phải có ít nhất 8 ký tự.", "Password must be at least 8 characters."};
  if (password.size() > kPasswordBytesMax)
    return FieldError{field, "too_long", "Mật khẩu quá dài (tối đa 256 byte).", "Password too long (at most 256 bytes)."};
  if (is_blank(password))
    return FieldError{field, "blank", "Mật khẩu không được chỉ gồm dấu cách.", "A password may not be only spaces."};
  return std::nullopt;
}

Outcome<Clerk> reload(NodeContext& ctx, const std::string& username) {
  auto reader = ctx.readers.acquire();
  if (!reader) return internal_error();
  auto c = find_clerk(*reader, username, ctx.config.office_code);
  if (!c) return internal_error();
  return *c;
}

}  // namespace

std::optional<Clerk> find_clerk(Reader& reader, const std::string& username, const std::string& office) {
  // One name per office, but every office of a district's wards may have it.
  for (const auto& id : reader.find(kClerks, "username", username, 1000)) {
    auto r = reader.get(kClerks, id);
    if (r && !r->deleted && of_office(*r, office)) return clerk_of(*r);
  }
  return std::nullopt;
}

std::optional<Clerk> get_clerk(Reader& reader, const std::string& id) {
  auto rid = RecordId::from_hex(id);
  if (!rid) return std::nullopt;
  auto r = reader.get(kClerks, *rid);
  if (!r || r->deleted) return std::nullopt;
  return clerk_of(*r);
}

std::vector<Clerk> list_clerks(Reader& reader, const std::string& office) {
  std::vector<Clerk> out;
  std::optional<RecordId> after;
  for (;;) {
    auto page = reader.list(kClerks, after, 1000);
    for (const auto& r : page)
      if (!r.deleted && of_office(r, office)) out.push_back(clerk_of(r));
    if (page.size() < 1000) return out;
    after = page.back().id;
  }
}

Outcome<Clerk> add_clerk(NodeContext& ctx, const std::string& author, const NewClerk& in) {
  std::vector<FieldError> errors;
  if (!valid_username(in.username))
    errors.push_back({"username", "format",
                      "Tên đăng nhập gồm 3–32 ký tự: chữ thường không dấu, số, '.', '_', '-', bắt đầu bằng chữ hoặc số.",
                      "Username: 3–32 of lowercase letters, digits, '.', '_', '-', starting with a letter or digit."});
  if (is_blank(in.display_name) || in.display_name.size() > 100)
    errors.push_back({"display_name", "length", "Họ tên hiển thị phải có từ 1 đến 100 byte.",
                      "Display name must be 1 to 100 bytes."});
  else if (auto e = printable_error("display_name", in.display_name, "Họ tên hiển thị", "Display name"))
    errors.push_back(std::move(*e));
  Role role{};
  if (!parse_role(in.role, role))
    errors.push_back({"role", "enum", "Vai trò phải là clerk, specialist, leader hoặc it_admin.",
                      "Role must be clerk, specialist, leader or it_admin."});
  if (auto e = password_error("password", in.password)) errors.push_back(*e);
  if (!errors.empty()) return invalid(std::move(errors));
  auto taken = [&]() -> std::optional<Outcome<Clerk>> {
    auto reader = ctx.readers.acquire();
    if (!reader) return internal_error();
    if (find_clerk(*reader, in.username, ctx.config.office_code))
      return conflict("username_taken", "Tên đăng nhập đã tồn tại.", "This username already exists.");
    return std::nullopt;
  };
  if (auto refused = taken()) return *refused;  // before the costly hash
  auto hash = hash_password(in.password);
  if (!hash.is_ok()) return unavailable("Không đủ bộ nhớ để băm mật khẩu.", "Out of memory hashing the password.");
  // Check and write under one lock: two requests for one new name cannot both pass.
  std::lock_guard<std::mutex> lock(ctx.clerks_mu);
  if (auto refused = taken()) return *refused;
  Transaction txn(author, ctx.config.scope);
  txn.create(kClerks)
      .set_once("username", in.username)
      .set_once("office", ctx.config.office_code)
      .set("display_name", in.display_name)
      .set("role", in.role)
      .set("password_hash", hash.value())
      .set("disabled", "0");
  auto c = commit_durably(ctx, std::move(txn));
  if (!c.ok()) {
    if (c.error().kind == ErrorKind::kConflict)
      return conflict("username_taken", "Tên đăng nhập đã tồn tại.", "This username already exists.");
    return c.error();
  }
  ctx.log.info("clerks", "clerk added: " + in.username + " role " + in.role);
  return reload(ctx, in.username);
}

Outcome<Clerk> set_password(NodeContext& ctx, const std::string& author, const std::string& username,
                            const std::string& password) {
  if (auto e = password_error("password", password)) return invalid({*e});
  std::optional<Clerk> c;
  {
    auto reader = ctx.readers.acquire();
    if (!reader) return internal_error();
    c = find_clerk(*reader, username, ctx.config.office_code);
  }
  if (!c) return not_found("cán bộ", "Clerk");
  auto hash = hash_password(password);
  if (!hash.is_ok()) return unavailable("Không đủ bộ nhớ để băm mật khẩu.", "Out of memory hashing the password.");
  auto rid = RecordId::from_hex(c->id);
  Transaction txn(author, ctx.config.scope);
  txn.update(kClerks, *rid).set("password_hash", hash.value());
  auto r = commit_durably(ctx, std::move(txn));
  if (!r.ok()) return r.error();
  ctx.log.info("clerks", "password changed: " + username);
  return reload(ctx, username);
}

Outcome<Clerk> set_disabled(NodeContext& ctx, const std::string& author, const std::string& username, bool disabled) {
  std::optional<Clerk> c;
  {
    auto reader = ctx.readers.acquire();
    if (!reader) return internal_error();
    c = find_clerk(*reader, username, ctx.config.office_code);
  }
  if (!c) return not_found("cán bộ", "Clerk");
  auto rid = RecordId::from_hex(c->id);
  Transaction txn(author, ctx.config.scope);
  txn.update(kClerks, *rid).set("disabled", disabled ? "1" : "0");
  auto r = commit_durably(ctx, std::move(txn));
  if (!r.ok()) return r.error();
  ctx.log.info("clerks", std::string(disabled ? "clerk disabled: " : "clerk enabled: ") + username);
  return reload(ctx, username);
}

}  // namespace wardsync::node

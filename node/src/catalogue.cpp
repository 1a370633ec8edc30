// Procedure catalogue: parsing and validating procedures.json.
#include "catalogue.hpp"

#include "data_file.hpp"
#include <Poco/Dynamic/Var.h>
#include <Poco/Exception.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>
#include <system_error>
#include <utility>

namespace wardsync::node {

namespace {

constexpr int kCatalogueFormatVersion = 1;
constexpr std::size_t kJsonDepthMax = 16;
constexpr std::size_t kTextBytesMax = 2000;  // one name or note; a sentence, not a document
constexpr std::int64_t kAmountVndMax = 100'000'000;
constexpr int kCopyPagesMax = 10000;

Status invalid(std::string message) { return {Code::kInvalidArgument, std::move(message)}; }

// Same contract as the calendar's reader; kept private to each loader so neither file
// grows a public utility header.
// Strict UTF-8 check (no overlongs, no surrogates): names are printed on receipts and
// searched without diacritics, so broken bytes must not get in.
bool is_valid_utf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte < 0x80) {
      if (byte < 0x20 && byte != '\t') return false;  // control characters
      ++i;
      continue;
    }
    int length = 0;
    std::uint32_t code_point = 0;
    if ((byte & 0xE0) == 0xC0) {
      length = 2;
      code_point = byte & 0x1F;
    } else if ((byte & 0xF0) == 0xE0) {
      length = 3;
      code_point = byte & 0x0F;
    } else if ((byte & 0xF8) == 0xF0) {
      length = 4;
      code_point = byte & 0x07;
    } else {
      return false;
    }
    if (i + static_cast<std::size_t>(length) > text.size()) return false;
    for (int k = 1; k < length; ++k) {
      const auto next = static_cast<unsigned char>(text[i + static_cast<std::size_t>(k)]);
      if ((next & 0xC0) != 0x80) return false;
      code_point = (code_point << 6) | (next & 0x3F);
    }
    static constexpr std::uint32_t kMinForLength[] = {0, 0, 0x80, 0x800, 0x10000};
    if (code_point < kMinForLength[length] || code_point > 0x10FFFF) return false;
    if (code_point >= 0xD800 && code_point <= 0xDFFF) return false;
    i += static_cast<std::size_t>(length);
  }
  return true;
}

bool is_dvc_code(std::string_view code) {
  // National public-service portal codes look like "1.001193": one digit, a dot, six digits.
  if (code.size() != 8 || code[1] != '.') return false;
  for (std::size_t i = 0; i < code.size(); ++i) {
    if (i != 1 && (code[i] < '0' || code[i] > '9')) return false;
  }
  return true;
}

bool is_slug(std::string_view code) {
  if (code.size() < 2 || code.size() > 64) return false;
  if (code.front() < 'a' || code.front() > 'z' || code.back() == '-') return false;
  for (const char c : code) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    if (!ok) return false;
  }
  return true;
}

// Field readers: each names the key and the entry in its error.
class EntryReader {
 public:
  EntryReader(const Poco::JSON::Object& object, std::string where)
      : object_(object), where_(std::move(where)) {}

  const std::string& where() const { return where_; }
  Status error(const std::string& message) const { return invalid(where_ + ": " + message); }
  bool has(const std::string& key) const { return object_.has(key); }

  Result<std::string> text(const std::string& key, bool required) const {
    const Poco::Dynamic::Var value = object_.get(key);
    if (value.isEmpty()) {
      if (required) return error("missing \"" + key + "\"");
      return std::string();
    }
    if (!value.isString()) return error("\"" + key + "\" must be a string");
    auto result = value.extract<std::string>();
    if (required && result.empty()) return error("\"" + key + "\" is empty");
    if (result.size() > kTextBytesMax) return error("\"" + key + "\" is too long");
    if (!is_valid_utf8(result)) return error("\"" + key + "\" has invalid UTF-8 or control characters");
    return result;
  }

  Result<bool> boolean(const std::string& key) const {
    const Poco::Dynamic::Var value = object_.get(key);
    if (value.isEmpty()) return error("missing \"" + key + "\"");
    if (!value.isBoolean()) return error("\"" + key + "\" must be true or false");
    return value.convert<bool>();
  }

  Result<double> number(const std::string& key) const {
    const Poco::Dynamic::Var value = object_.get(key);
    if (value.isEmpty()) return error("missing \"" + key + "\"");
    if (!value.isNumeric()) return error("\"" + key + "\" must be a number");
    return value.convert<double>();
  }

  Result<std::int64_t> amount_vnd(const std::string& key) const {
    const Poco::Dynamic::Var value = object_.get(key);
    if (value.isEmpty()) return error("missing \"" + key + "\"");
    if (!value.isInteger()) return error("\"" + key + "\" must be a whole number of đồng");
    const auto amount = value.convert<std::int64_t>();
    if (amount <= 0 || amount > kAmountVndMax) {
      return error("\"" + key + "\" must be between 1 and " + std::to_string(kAmountVndMax) +
                   " đồng");
    }
    return amount;
  }

  Result<SourceStatus> source_status(const std::string& key) const {
    auto name = text(key, true);
    if (!name.is_ok()) return name.status();
    if (name.value() == "verified") return SourceStatus::kVerified;
    if (name.value() == "secondary") return SourceStatus::kSecondary;
    if (name.value() == "unverified") return SourceStatus::kUnverified;
    return error("\"" + key + "\" must be \"verified\", \"secondary\" or \"unverified\", not \"" +
                 name.value() + "\"");
  }

 private:
  const Poco::JSON::Object& object_;
  std::string where_;
};

Result<ProcessingTime> read_processing_time(const EntryReader& entry, const std::string& key) {
  auto days = entry.number(key);
  if (!days.is_ok()) return days.status();
  auto time = ProcessingTime::from_days(days.value());
  if (!time.is_ok()) return entry.error("\"" + key + "\": " + time.status().message());
  return time;
}

Result<Fee> read_fee(const Poco::JSON::Object& object, const std::string& where) {
  const EntryReader entry(object, where + ": fee");
  Fee fee;
  auto kind = entry.text("kind", true);
  if (!kind.is_ok()) return kind.status();
  auto description = entry.text("description_vi", true);
  if (!description.is_ok()) return description.status();
  fee.description_vi = std::move(description.value());

  if (kind.value() == "free") {
    fee.kind = FeeKind::kFree;
  } else if (kind.value() == "provincial") {
    fee.kind = FeeKind::kProvincial;
  } else if (kind.value() == "fixed") {
    fee.kind = FeeKind::kFixed;
    auto amount = entry.amount_vnd("amount_vnd");
    if (!amount.is_ok()) return amount.status();
    fee.amount_vnd = amount.value();
    auto unit = entry.text("unit_vi", true);
    if (!unit.is_ok()) return unit.status();
    fee.unit_vi = std::move(unit.value());
  } else if (kind.value() == "per_page") {
    fee.kind = FeeKind::kPerPage;
    auto per_page = entry.amount_vnd("per_page_vnd");
    if (!per_page.is_ok()) return per_page.status();
    auto reduced = entry.amount_vnd("reduced_per_page_vnd");
    if (!reduced.is_ok()) return reduced.status();
    auto max_per_copy = entry.amount_vnd("max_per_copy_vnd");
    if (!max_per_copy.is_ok()) return max_per_copy.status();
    auto from_page = entry.amount_vnd("reduced_from_page");
    if (!from_page.is_ok()) return from_page.status();
    if (from_page.value() < 2 || from_page.value() > kCopyPagesMax) {
      return entry.error("\"reduced_from_page\" must be between 2 and " +
                         std::to_string(kCopyPagesMax));
    }
    if (reduced.value() > per_page.value()) {
      return entry.error("\"reduced_per_page_vnd\" is more than \"per_page_vnd\"");
    }
    fee.per_page_vnd = per_page.value();
    fee.reduced_per_page_vnd = reduced.value();
    fee.max_per_copy_vnd = max_per_copy.value();
    fee.reduced_from_page = static_cast<int>(from_page.value());
  } else {
    return entry.error("\"kind\" must be \"free\", \"fixed\", \"per_page\" or \"provincial\", not \"" +
                       kind.value() + "\"");
  }
  return fee;
}

Result<SourceStatuses> read_source_statuses(const Poco::JSON::Object& object,
                                            const std::string& where, bool has_dvc_code) {
  const EntryReader entry(object, where + ": source_status");
  SourceStatuses statuses;
  // Our own slugs are not facts to check; a national code is.
  if (has_dvc_code || entry.has("code")) {
    auto code = entry.source_status("code");
    if (!code.is_ok()) return code.status();
    statuses.code = code.value();
  }
  auto processing = entry.source_status("processing_time");
  if (!processing.is_ok()) return processing.status();
  auto fee = entry.source_status("fee");
  if (!fee.is_ok()) return fee.status();
  auto components = entry.source_status("components");
  if (!components.is_ok()) return components.status();
  statuses.processing_time = processing.value();
  statuses.fee = fee.value();
  statuses.components = components.value();
  return statuses;
}

Result<Component> read_component(const Poco::JSON::Object& object, const std::string& where) {
  const EntryReader entry(object, where);
  Component component;
  auto name = entry.text("name_vi", true);
  if (!name.is_ok()) return name.status();
  auto mandatory = entry.boolean("mandatory");
  if (!mandatory.is_ok()) return mandatory.status();
  auto note = entry.text("note_vi", false);
  if (!note.is_ok()) return note.status();
  component.name_vi = std::move(name.value());
  component.mandatory = mandatory.value();
  component.note_vi = std::move(note.value());
  if (entry.has("source_status")) {
    auto status = entry.source_status("source_status");
    if (!status.is_ok()) return status.status();
    component.source_status = status.value();
  }
  return component;
}

Result<Procedure> read_procedure(const Poco::JSON::Object& object, const std::string& index_where) {
  // Name the entry by its code as soon as we have one: "procedures[3] (1.000881)".
  auto code = EntryReader(object, index_where).text("code", true);
  if (!code.is_ok()) return code.status();
  const std::string where = index_where + " (" + code.value() + ")";
  const EntryReader entry(object, where);
  const bool dvc = is_dvc_code(code.value());
  if (!dvc && !is_slug(code.value())) {
    return entry.error("\"code\" must be a DVC code like \"1.001193\" or a slug of a-z, 0-9, '-'");
  }

  Procedure procedure;
  procedure.code = std::move(code.value());
  for (auto [key, out] : {std::pair{"name_vi", &procedure.name_vi},
                          std::pair{"name_en", &procedure.name_en},
                          std::pair{"field_vi", &procedure.field_vi},
                          std::pair{"legal_basis", &procedure.legal_basis}}) {
    auto value = entry.text(key, true);
    if (!value.is_ok()) return value.status();
    *out = std::move(value.value());
  }
  auto notes = entry.text("notes_vi", false);
  if (!notes.is_ok()) return notes.status();
  procedure.notes_vi = std::move(notes.value());

  auto processing = read_processing_time(entry, "processing_days");
  if (!processing.is_ok()) return processing.status();
  procedure.processing_time = processing.value();
  if (entry.has("extended_processing_days")) {
    auto extended = read_processing_time(entry, "extended_processing_days");
    if (!extended.is_ok()) return extended.status();
    if (extended.value() <= procedure.processing_time) {
      return entry.error("\"extended_processing_days\" must be longer than \"processing_days\"");
    }
    auto condition = entry.text("extension_condition_vi", true);
    if (!condition.is_ok()) return condition.status();
    procedure.extended_processing_time = extended.value();
    procedure.extension_condition_vi = std::move(condition.value());
  } else if (entry.has("extension_condition_vi")) {
    return entry.error("\"extension_condition_vi\" without \"extended_processing_days\"");
  }

  auto cutoff = entry.boolean("same_day_cutoff");
  if (!cutoff.is_ok()) return cutoff.status();
  // The 15:00 rule is stated for requests handled within the day; on a longer procedure
  // the flag would do nothing, so it is almost certainly a data-entry mistake.
  if (cutoff.value() && procedure.processing_time.half_days != 0) {
    return entry.error("\"same_day_cutoff\" is only meaningful when \"processing_days\" is 0");
  }
  procedure.same_day_cutoff = cutoff.value();

  const Poco::JSON::Array::Ptr components = object.getArray("components");
  if (components.isNull() || components->size() == 0) {
    return entry.error("\"components\" must be a non-empty array");
  }
  if (components->size() > Catalogue::kComponentsMax) return entry.error("too many components");
  for (std::size_t i = 0; i < components->size(); ++i) {
    const std::string component_where = where + ": components[" + std::to_string(i) + "]";
    const Poco::JSON::Object::Ptr component = components->getObject(static_cast<unsigned>(i));
    if (component.isNull()) return invalid(component_where + ": must be an object");
    auto parsed = read_component(*component, component_where);
    if (!parsed.is_ok()) return parsed.status();
    procedure.components.push_back(std::move(parsed.value()));
  }

  const Poco::JSON::Object::Ptr fee = object.getObject("fee");
  if (fee.isNull()) return entry.error("\"fee\" must be an object");
  auto parsed_fee = read_fee(*fee, where);
  if (!parsed_fee.is_ok()) return parsed_fee.status();
  procedure.fee = std::move(parsed_fee.value());

  const Poco::JSON::Object::Ptr statuses = object.getObject("source_status");
  if (statuses.isNull()) return entry.error("\"source_status\" must be an object");
  auto parsed_statuses = read_source_statuses(*statuses, where, dvc);
  if (!parsed_statuses.is_ok()) return parsed_statuses.status();
  procedure.source_status = parsed_statuses.value();
  return procedure;
}

}  // namespace

const char* source_status_name(SourceStatus status) {
  switch (status) {
    case SourceStatus::kVerified:
      return "verified";
    case SourceStatus::kSecondary:
      return "secondary";
    case SourceStatus::kUnverified:
      return "unverified";
  }
  return "unknown";
}

const char* fee_kind_name(FeeKind kind) {
  switch (kind) {
    case FeeKind::kFree:
      return "free";
    case FeeKind::kFixed:
      return "fixed";
    case FeeKind::kPerPage:
      return "per_page";
    case FeeKind::kProvincial:
      return "provincial";
  }
  return "unknown";
}

Result<std::int64_t> copy_fee_vnd(const Fee& fee, int pages, int copies) {
  if (fee.kind != FeeKind::kPerPage) {
    return invalid(std::string("copy fee asked of a \"") + fee_kind_name(fee.kind) + "\" fee");
  }
  if (pages < 1 || pages > kCopyPagesMax || copies < 1 || copies > kCopyPagesMax) {
    return invalid("pages and copies must be between 1 and " + std::to_string(kCopyPagesMax));
  }
  const int full_price_pages = std::min(pages, fee.reduced_from_page - 1);
  const int reduced_pages = pages - full_price_pages;
  const std::int64_t per_copy = std::min(
      fee.max_per_copy_vnd, full_price_pages * fee.per_page_vnd + reduced_pages * fee.reduced_per_page_vnd);
  return per_copy * copies;
}

Result<Catalogue> Catalogue::load_file(const std::filesystem::path& path) {
  auto text = read_small_file(path, kFileBytesMax);
  if (!text.is_ok()) return text.status();
  return parse(text.value(), path.string());
}

Result<Catalogue> Catalogue::parse(std::string_view json_text, std::string_view source_name) {
  const std::string source(source_name);
  try {
    return parse_json(json_text, source);
  } catch (const Poco::Exception& e) {
    return Status{Code::kInvalidArgument, source + ": " + e.displayText()};
  } catch (const std::exception& e) {
    return Status{Code::kInvalidArgument, source + ": " + e.what()};
  }
}

Result<Catalogue> Catalogue::parse_json(std::string_view json_text, const std::string& source) {
  auto file = parse_versioned_json(json_text, source, "catalogue file", kFileBytesMax, kJsonDepthMax,
                                     kCatalogueFormatVersion);
  if (!file.is_ok()) return file.status();
  const Poco::JSON::Object::Ptr top = file.value();
  const Poco::JSON::Array::Ptr procedures = top->getArray("procedures");
  if (procedures.isNull() || procedures->size() == 0) {
    return invalid(source + ": \"procedures\" must be a non-empty array");
  }
  if (procedures->size() > kProceduresMax) return invalid(source + ": too many procedures");

  Catalogue catalogue;
  std::set<std::string, std::less<>> codes;
  for (std::size_t i = 0; i < procedures->size(); ++i) {
    const std::string where = source + ": procedures[" + std::to_string(i) + "]";
    const Poco::JSON::Object::Ptr object = procedures->getObject(static_cast<unsigned>(i));
    if (object.isNull()) return invalid(where + ": must be an object");
    auto procedure = read_procedure(*object, where);
    if (!procedure.is_ok()) return procedure.status();
    if (!codes.insert(procedure.value().code).second) {
      return invalid(where + ": code \"" + procedure.value().code + "\" is used twice");
    }
    catalogue.procedures_.push_back(std::move(procedure.value()));
  }
  return catalogue;
}

const Procedure* Catalogue::find(std::string_view code) const {
  for (const Procedure& procedure : procedures_) {
    if (procedure.code == code) return &procedure;
  }
  return nullptr;
}

}  // namespace wardsync::node

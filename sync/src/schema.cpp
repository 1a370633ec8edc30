#include "wardsync/sync/schema.hpp"

#include <cstring>
#include <set>

namespace wardsync {

Status Schema::add(CollectionSpec spec) {
  if (spec.name.empty() || spec.name.size() > 128) {
    return {Code::kInvalidArgument, "collection name empty or too long"};
  }
  if (collections_.count(spec.name) != 0) {
    return {Code::kInvalidArgument, "collection " + spec.name + " declared twice"};
  }
  std::set<std::string> names;
  for (const auto& f : spec.fields) {
    if (f.name.empty() || f.name.size() > 128 || !names.insert(f.name).second) {
      return {Code::kInvalidArgument, "collection " + spec.name + ": bad or duplicate field " + f.name};
    }
    bool indexable = f.type == MergeType::kLww || f.type == MergeType::kOnce ||
                     f.type == MergeType::kRank || f.type == MergeType::kSet;
    if (f.indexed && !indexable) {
      return {Code::kInvalidArgument, "collection " + spec.name + ": field " + f.name +
                                          " cannot be indexed (" + merge_type_name(f.type) + ")"};
    }
  }
  std::string name = spec.name;
  collections_.emplace(std::move(name), std::move(spec));
  return Status::ok();
}

const CollectionSpec* Schema::collection(const std::string& name) const {
  auto it = collections_.find(name);
  return it == collections_.end() ? nullptr : &it->second;
}

const FieldSpec* Schema::field(const std::string& collection, const std::string& name) const {
  const CollectionSpec* c = this->collection(collection);
  if (c == nullptr) return nullptr;
  for (const auto& f : c->fields) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

std::optional<RecordId> RecordId::from_hex(const std::string& hex) {
  RecordId id;
  if (!wardsync::from_hex(hex, id.bytes)) return std::nullopt;
  return id;
}

RecordId RecordId::make(Hlc hlc, const PublicKey& node) {
  RecordId id;
  for (int i = 0; i < 8; ++i) id.bytes[i] = static_cast<std::uint8_t>(hlc >> (56 - 8 * i));
  std::memcpy(id.bytes.data() + 8, node.data(), 8);
  return id;
}

std::string StreamKey::to_string() const {
  return to_hex(std::span<const std::uint8_t>(origin.data(), 8)) + "/" + scope;
}

const FieldValue* Record::field(const std::string& name) const {
  auto it = fields.find(name);
  return it == fields.end() ? nullptr : &it->second;
}

std::string Record::text(const std::string& name) const {
  const FieldValue* f = field(name);
  return f == nullptr ? std::string() : f->value;
}

bool Record::has_conflicts() const {
  for (const auto& [name, f] : fields) {
    if (!f.conflicts.empty()) return true;
  }
  return false;
}

}  // namespace wardsync

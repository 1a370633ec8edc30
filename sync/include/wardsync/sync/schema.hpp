// Collection schemas: for every field of every replicated collection, its merge
// type, declared in one place (the domain's schema file) and handed to the store.
//
// A field missing from the schema (written by a newer version) is still merged
// by the type its change carries, kept and forwarded.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "wardsync/sync/status.hpp"
#include "wardsync/sync/types.hpp"

namespace wardsync {

struct FieldSpec {
  std::string name;
  MergeType type = MergeType::kLww;
  bool indexed = false;     // kept in the store's index so domain code can find by value
  bool searchable = false;  // lww/once text in the full-text index (diacritics folded)
  // Kept beside the record's full-text row and handed back with each search hit,
  // so a page of hits is answered without reading and parsing every record.
  bool summary = false;
};

struct CollectionSpec {
  std::string name;
  std::vector<FieldSpec> fields;
};

class Schema {
 public:
  explicit Schema(std::uint32_t version) : version_(version) {}

  // Declares a collection; an invalid declaration (duplicate names, empty name)
  // is a programming error and reported as a Status.
  Status add(CollectionSpec spec);

  std::uint32_t version() const { return version_; }
  const CollectionSpec* collection(const std::string& name) const;
  const FieldSpec* field(const std::string& collection, const std::string& name) const;
  const std::map<std::string, CollectionSpec>& collections() const { return collections_; }

 private:
  std::uint32_t version_;
  std::map<std::string, CollectionSpec> collections_;
};

}  // namespace wardsync

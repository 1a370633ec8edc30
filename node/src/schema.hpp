// The node's replicated collections and each field's merge type, in one place
// (DESIGN.md, Data model). Every domain module writes only fields declared here.
#pragma once

#include <cstdint>
#include <string_view>

#include "wardsync/sync/schema.hpp"

namespace wardsync::node {

inline constexpr std::uint32_t kNodeSchemaVersion = 1;

// Collection names.
inline constexpr const char* kDossiers = "dossier";
inline constexpr const char* kTickets = "ticket";
inline constexpr const char* kRatings = "rating";
inline constexpr const char* kClerks = "clerk";
inline constexpr const char* kTrustRecords = "trust";
inline constexpr const char* kCatalogues = "catalogue";  // a procedures or holidays file a city published (replication.hpp)
// The tiers whose nodes publish catalogues for the nodes below them.
inline bool publishes_catalogues(std::string_view tier) { return tier == "city" || tier == "province"; }
// Scopes are paths of office codes ("79/760/26734"): true when `scope` is
// `parent` or below it ("" is above everything).
inline bool scope_within(std::string_view scope, std::string_view parent) {
  return scope.substr(0, parent.size()) == parent &&
         (scope.size() == parent.size() || parent.empty() || parent.back() == '/' || scope[parent.size()] == '/');
}
inline constexpr const char* kAttachments = "attachment";  // a scan or PDF of a dossier (blob by hash)  // certificates and revocations (replication.hpp)

// The whole schema (built once; cheap to copy).
const Schema& node_schema();

}  // namespace wardsync::node

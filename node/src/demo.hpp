// Demo data: a realistic ward office (clerks of every role, a few days of
// dossiers in every state, today's queue, ratings), written through the domain
// modules like any clerk's work. Also a bulk loader for benchmarks.
// Thread safety: call from one thread with the node not serving.
#pragma once

#include <cstddef>

#include "domain/context.hpp"

namespace wardsync::node {

inline constexpr const char* kDemoPassword = "demo1234";

// Seeds once: does nothing when clerks exist already. Returns false on error (logged).
bool seed_demo(NodeContext& ctx);
// Writes `count` dossiers spread over past days, many transactions in flight at
// once so group commit fills each fsync. Returns false on error (logged).
bool seed_bulk_dossiers(NodeContext& ctx, std::size_t count);

}  // namespace wardsync::node

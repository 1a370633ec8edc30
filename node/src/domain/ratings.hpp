// Citizen ratings (đánh giá mức độ hài lòng): satisfied / acceptable /
// unsatisfied, per dossier or per visit, tied to the clerk who served.
// Thread safety: free functions; safe from any thread.
#pragma once

#include <string>

#include "domain/context.hpp"

namespace wardsync::node {

struct RatingView {
  std::string id, dossier_id, ticket_id, clerk, level, day, at;
};

struct NewRating {
  std::string dossier_id;  // "" for a visit without a dossier
  std::string clerk;       // username of the clerk rated
  std::string level;       // satisfied | acceptable | unsatisfied
  std::string ticket_id;   // the visit's queue ticket (kiosk), or ""; a ticket is rated once
};

Outcome<RatingView> add_rating(NodeContext& ctx, const Actor& actor, const NewRating& input);

// Seeding only: a rating given at a past moment.
Outcome<RatingView> add_rating_at(NodeContext& ctx, const Actor& actor, const NewRating& input, std::int64_t unix_seconds);

}  // namespace wardsync::node

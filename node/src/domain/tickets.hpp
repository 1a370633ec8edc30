// Queue tickets (số thứ tự): per counter, per day, numbered by this office only.
// States: issued < called < served | skipped (a rank, so offline edits never move
// a ticket back). The number is a `once` field derived from what is durable after
// a restart: a number handed to a citizen is never handed out again.
//
// Thread safety: free functions; call-next and the other queue moves are
// serialized by NodeContext::queue_mu so two counters never call one ticket.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "domain/context.hpp"

namespace wardsync::node {

struct TicketEvent {
  std::string at, by, action;
};

struct TicketView {
  std::string id;
  std::string counter;
  std::string day;
  std::uint64_t number = 0;
  std::string state;  // issued | called | served | skipped
  std::string issued_at;
  std::string handled_by;
  std::vector<TicketEvent> events;
};

struct QueueStatus {
  std::string counter, day;
  std::size_t waiting = 0;
  std::optional<TicketView> current;  // the last called ticket not yet served or skipped
  std::uint64_t last_issued = 0;
  std::vector<TicketView> tickets;  // the day's tickets in number order
};

bool valid_counter(const std::string& counter);
// Counters are named without regard to case ("a" and "A" are one counter, as a
// clerk, the kiosk and the hall display's address may each spell it): upper case.
std::string canonical_counter(std::string counter);

Outcome<TicketView> issue_ticket(NodeContext& ctx, const Actor& actor, const std::string& counter);
Outcome<TicketView> call_next(NodeContext& ctx, const Actor& actor, const std::string& counter);
// action: recall | skip | serve (the ticket must be called)
Outcome<TicketView> ticket_action(NodeContext& ctx, const Actor& actor, const std::string& id, const std::string& action);
Outcome<TicketView> get_ticket(NodeContext& ctx, const std::string& id);
// day "" = today.
Outcome<QueueStatus> queue_status(NodeContext& ctx, const std::string& counter, const std::string& day);

// Seeding only: a ticket issued on a past day (wardnode demo).
Outcome<TicketView> issue_ticket_on(NodeContext& ctx, const Actor& actor, const std::string& counter,
                                    std::int64_t unix_seconds);

}  // namespace wardsync::node

#include "domain/tickets.hpp"

#include <algorithm>
#include <charconv>

#include "schema.hpp"

namespace wardsync::node {

namespace {

constexpr std::size_t kTicketsPerQueueMax = 100000;

std::uint32_t stage_of(const std::string& state) {
  if (state == "issued") return 1;
  if (state == "called") return 2;
  return 3;
}

TicketView view_of(const Record& r) {
  TicketView t;
  t.id = r.id.hex();
  t.counter = r.text("counter");
  t.day = r.text("day");
  std::string n = r.text("number");
  std::from_chars(n.data(), n.data() + n.size(), t.number);
  t.state = r.text("state");
  t.issued_at = r.text("issued_at");
  t.handled_by = r.text("handled_by");
  if (const FieldValue* e = r.field("events")) {
    for (const auto& item : e->entries)
      t.events.push_back({iso_local(static_cast<std::int64_t>(hlc_millis(item.hlc) / 1000)), item.author, item.value});
  }
  return t;
}

std::vector<TicketView> tickets_of(Reader& reader, const std::string& queue) {
  std::vector<TicketView> out;
  for (const auto& id : reader.find(kTickets, "queue", queue, kTicketsPerQueueMax)) {
    auto r = reader.get(kTickets, id);
    if (r && !r->deleted) out.push_back(view_of(*r));
  }
  std::sort(out.begin(), out.end(), [](const TicketView& a, const TicketView& b) { return a.number < b.number; });
  return out;
}

bool may_handle_queue(const Actor& a) { return a.role == Role::kClerk || a.role == Role::kLeader; }

FieldError counter_error() {
  return {"counter", "format", "Quầy phải gồm 1–8 chữ hoặc số không dấu (ví dụ 1, 2, A).",
          "Counter must be 1–8 ASCII letters or digits (e.g. 1, 2, A)."};
}

Outcome<TicketView> reload(NodeContext& ctx, const RecordId& id) {
  auto reader = ctx.readers.acquire();
  if (!reader) return internal_error();
  auto r = reader->get(kTickets, id);
  if (!r) return internal_error();
  return view_of(*r);
}

struct Move {
  const TicketView* ticket;
  std::string state, event;
};

// The moves in one transaction (all or none); answers the last ticket as it is now.
Outcome<TicketView> move_all(NodeContext& ctx, const Actor& actor, const std::vector<Move>& moves) {
  Transaction txn(actor.username, ctx.config.scope);
  std::optional<RecordId> last;
  for (const Move& m : moves) {
    last = RecordId::from_hex(m.ticket->id);
    RecordWrite& w = txn.update(kTickets, *last);
    if (m.state != m.ticket->state) w.set_rank("state", Rank{1, stage_of(m.state), stage_of(m.state) == 3, m.state});
    w.set("handled_by", actor.username).append("events", m.event);
  }
  auto done = commit_durably(ctx, std::move(txn));
  if (!done.ok()) return done.error();
  for (const Move& m : moves) ctx.log.info("queue", "ticket " + m.ticket->id + " " + m.event + " by " + actor.username);
  return reload(ctx, *last);
}

Outcome<TicketView> move(NodeContext& ctx, const Actor& actor, const TicketView& t, const std::string& state,
                         const std::string& event) {
  return move_all(ctx, actor, {Move{&t, state, event}});
}

}  // namespace

bool valid_counter(const std::string& c) {
  if (c.empty() || c.size() > 8) return false;
  return std::all_of(c.begin(), c.end(), [](char ch) {
    return (ch >= '0' && ch <= '9') || (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z');
  });
}

std::string canonical_counter(std::string counter) {
  for (char& c : counter)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return counter;
}

Outcome<TicketView> issue_ticket_on(NodeContext& ctx, const Actor& actor, const std::string& counter_in,
                                    std::int64_t unix_seconds) {
  const std::string counter = canonical_counter(counter_in);
  if (!valid_counter(counter)) return invalid({counter_error()});
  if (!may_handle_queue(actor)) return forbidden();
  std::string day = format_date(local_from_unix_seconds(unix_seconds).date);
  std::string queue = day + "/" + counter;
  std::uint64_t number = ctx.ticket_numbers.next(queue, [&]() -> std::optional<std::uint64_t> {
    auto reader = ctx.readers.acquire();
    if (!reader) return std::nullopt;
    std::uint64_t highest = 0;
    for (const auto& t : tickets_of(*reader, queue)) highest = std::max(highest, t.number);
    return highest;
  });
  if (number == 0) return internal_error();
  Transaction txn(actor.username, ctx.config.scope);
  txn.create(kTickets)
      .set_once("queue", queue)
      .set_once("counter", counter)
      .set_once("day", day)
      .set_once("number", std::to_string(number))
      .set_once("issued_at", iso_local(unix_seconds))
      .set_rank("state", Rank{1, 1, false, "issued"})
      .append("events", "issued");
  auto done = commit_durably(ctx, std::move(txn));
  if (!done.ok()) return done.error();
  ctx.log.info("queue", "ticket " + queue + " #" + std::to_string(number) + " issued");
  return reload(ctx, done.value().records.front());
}

Outcome<TicketView> issue_ticket(NodeContext& ctx, const Actor& actor, const std::string& counter) {
  return issue_ticket_on(ctx, actor, counter, now_seconds(ctx));
}

Outcome<TicketView> call_next(NodeContext& ctx, const Actor& actor, const std::string& counter_in) {
  const std::string counter = canonical_counter(counter_in);
  if (!valid_counter(counter)) return invalid({counter_error()});
  if (!may_handle_queue(actor)) return forbidden();
  std::lock_guard<std::mutex> lock(ctx.queue_mu);
  std::string queue = format_date(local_from_unix_seconds(now_seconds(ctx)).date) + "/" + counter;
  std::optional<TicketView> next;
  std::vector<TicketView> still_called;
  {
    auto reader = ctx.readers.acquire();
    if (!reader) return internal_error();
    for (auto& t : tickets_of(*reader, queue)) {
      if (t.state == "called") still_called.push_back(t);
      if (t.state == "issued" && !next) next = std::move(t);
    }
  }
  if (!next) return conflict("queue_empty", "Không còn ai đang chờ ở quầy này.", "Nobody is waiting at this counter.");
  // Calling the next one ends the one at the desk (served; a no-show is skipped
  // first), in the same transaction: left "called", the display would show it
  // again once the next is done.
  std::vector<Move> moves;
  for (const TicketView& t : still_called) moves.push_back(Move{&t, "served", "served"});
  moves.push_back(Move{&*next, "called", "called"});  // last: the answer
  return move_all(ctx, actor, moves);
}

Outcome<TicketView> get_ticket(NodeContext& ctx, const std::string& id) {
  auto rid = RecordId::from_hex(id);
  if (!rid) return not_found("số thứ tự", "Ticket");
  auto reader = ctx.readers.acquire();
  if (!reader) return internal_error();
  auto r = reader->get(kTickets, *rid);
  if (!r || r->deleted) return not_found("số thứ tự", "Ticket");
  return view_of(*r);
}

Outcome<TicketView> ticket_action(NodeContext& ctx, const Actor& actor, const std::string& id,
                                  const std::string& action) {
  if (action != "recall" && action != "skip" && action != "serve")
    return invalid({{"action", "enum", "Thao tác phải là recall, skip hoặc serve.", "action must be recall, skip or serve."}});
  auto t = get_ticket(ctx, id);
  if (!t.ok()) return t;
  if (!may_handle_queue(actor)) return forbidden();
  std::lock_guard<std::mutex> lock(ctx.queue_mu);
  auto fresh = get_ticket(ctx, id);
  if (!fresh.ok()) return fresh;
  if (fresh.value().state != "called")
    return conflict("illegal_transition", "Chỉ số đang được gọi mới có thể gọi lại, bỏ qua hoặc phục vụ.",
                    "Only a called ticket can be recalled, skipped or served.");
  std::string state = action == "recall" ? "called" : action == "skip" ? "skipped" : "served";
  return move(ctx, actor, fresh.value(), state, action == "recall" ? "recalled" : state);
}

Outcome<QueueStatus> queue_status(NodeContext& ctx, const std::string& counter_in, const std::string& day_in) {
  const std::string counter = canonical_counter(counter_in);
  std::vector<FieldError> errors;
  if (!valid_counter(counter)) errors.push_back(counter_error());
  std::string day = day_in.empty() ? format_date(local_from_unix_seconds(now_seconds(ctx)).date) : day_in;
  if (!parse_date(day).is_ok())
    errors.push_back({"day", "format", "Ngày phải có dạng YYYY-MM-DD.", "day must be YYYY-MM-DD."});
  if (!errors.empty()) return invalid(std::move(errors));
  QueueStatus q;
  q.counter = counter;
  q.day = day;
  auto reader = ctx.readers.acquire();
  if (!reader) return internal_error();
  q.tickets = tickets_of(*reader, day + "/" + counter);
  for (const auto& t : q.tickets) {
    if (t.state == "issued") ++q.waiting;
    if (t.state == "called") q.current = t;
    q.last_issued = std::max(q.last_issued, t.number);
  }
  return q;
}

}  // namespace wardsync::node

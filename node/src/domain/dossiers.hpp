// Dossiers (hồ sơ): intake, code and lookup code, appointment, assignment,
// workflow transitions, apology slip, listing and search.
//
// The code is unique nationwide even when issued offline:
//   <office_code>-<YYMMDD>-<node digit><sequence, 4+ digits>
// (TT 01/2018 Art 19 with the issuing node embedded after the date), e.g.
// "26734-260302-10007". The sequence restarts every day and is derived from what is
// durable after a restart (Sequencer), so an acknowledged code is never reissued.
//
// Thread safety: free functions over a NodeContext; safe from any thread.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "domain/context.hpp"

namespace wardsync::node {

struct HistoryEntry {
  std::string at;  // ISO local time of the change (from its HLC)
  std::string by;  // username
  std::string action;
  std::string note;
};

struct Apology {
  std::string new_appointment;  // YYYY-MM-DD (due at the end of that day)
  std::string reason;
  std::string issued_at;
  std::string by;
  bool notice_in_time = false;  // given at least one day before the original deadline
};

// A scanned page attached to a dossier; the bytes live in the blob store.
struct Attachment {
  std::string hash;  // BLAKE2b-256 hex
  std::string mime_type;
  std::uint64_t bytes = 0;
  std::string label;  // the paper it belongs to, e.g. "Tờ khai đăng ký khai sinh"
};
std::string encode_attachment(const Attachment& a);
std::optional<Attachment> decode_attachment(const std::string& element);
// The scope an edit of a dossier is written in: the dossier's own (the office
// that received it), so a district's or city's edit of a ward's dossier lands in
// a stream the ward subscribes to. Dossiers without one are this node's.
std::string record_scope(const NodeContext& ctx, const Record& r);
// Adds to `txn` one `attachment` record per page for the dossier `dossier_id`
// (hex): the replicated records by which other nodes fetch the pages' blobs.
void record_attachments(Transaction& txn, NodeContext& ctx, const Actor& actor, const std::string& dossier_id,
                        const std::vector<Attachment>& pages);

struct DossierView {
  std::string id;
  std::string code;
  std::string lookup_code;
  std::string applicant_name, cccd, dob, phone, address;
  std::string procedure_code, procedure_name;
  std::string channel;
  std::vector<std::string> components;
  std::string fee_vnd;
  std::string note;
  std::string received_at, received_by;
  std::string appointment;  // ISO local
  std::string due_day;      // YYYY-MM-DD
  std::string assignee;
  std::string status;
  std::uint32_t cycle = 0;
  std::string decided_by;
  std::string returned_at;
  std::string timing;  // "early" | "on_time" | "late" once returned; "" before
  bool overdue = false;  // open and past its appointment
  std::optional<Apology> apology;
  std::vector<HistoryEntry> history;
  std::vector<Attachment> attachments;
  bool identity_verified = true;  // false: taken from a CCCD QR at the kiosk
  bool has_conflicts = false;
  // Another office's dossier, outside this node's scopes: here because it was
  // fetched on demand through the peers (a copy, refreshed by reading it again).
  bool pinned = false;
};

struct ApplicantInput {
  std::string name, cccd, dob, phone, address;
};

struct NewDossier {
  ApplicantInput applicant;
  std::string procedure_code;
  std::string channel;  // counter | kiosk | online
  std::vector<std::string> components;
  std::optional<std::int64_t> fee_vnd;
  std::string note;
  std::vector<Attachment> attachments;  // pages already in the blob store
  bool identity_unverified = false;     // filed at the kiosk from the card's QR
  // Seeding only (wardnode demo): a received moment in the past. The API never sets it.
  std::optional<std::int64_t> received_unix_seconds;
};

// The view of a stored dossier record (no reads of its own).
DossierView dossier_view(NodeContext& ctx, const Record& record);

Outcome<DossierView> create_dossier(NodeContext& ctx, const Actor& actor, const NewDossier& input);
Outcome<DossierView> get_dossier(NodeContext& ctx, const std::string& id);
// The same, and when this node does not hold it, fetched through the peers
// (DESIGN.md, on-demand fetch), waiting at most sync_fetch_wait_ms: 404 only
// when the peers positively answered that nobody holds it; 503
// `unavailable_offline` when no link is up or no answer came in time (retry).
// A pinned dossier is fetched again on each read while a link is up (a refresh),
// and served from the local copy when none is.
Outcome<DossierView> get_or_fetch_dossier(NodeContext& ctx, const std::string& id);
Outcome<DossierView> find_or_fetch_dossier_by_code(NodeContext& ctx, const std::string& code);
// By code (exact), or by code and lookup code for the citizen's kiosk lookup.
Outcome<DossierView> find_dossier_by_code(NodeContext& ctx, const std::string& code);

struct DossierFilter {
  std::string status, assignee, procedure_code;
  std::string due;  // "" | "today" | "late"
  std::string cursor;  // id hex of the last item of the previous page
  std::size_t limit = 50;
};
struct DossierPage {
  std::vector<DossierView> items;
  std::string next_cursor;  // "" at the end
};
Outcome<DossierPage> list_dossiers(NodeContext& ctx, const DossierFilter& filter);
// By code, CCCD or name, with or without diacritics (FTS; never a scan).
// Hits are built from the dossiers' summary fields only (schema.cpp): the
// fields write_dossier writes as a summary, nothing else is filled in.
Outcome<std::vector<DossierView>> search_dossiers(NodeContext& ctx, const std::string& query, std::size_t limit);

// action: start | request_supplement | resume | approve | reject | return | cancel
Outcome<DossierView> transition_dossier(NodeContext& ctx, const Actor& actor, const std::string& id,
                                        const std::string& action, const std::string& note);
Outcome<DossierView> assign_dossier(NodeContext& ctx, const Actor& actor, const std::string& id,
                                    const std::string& assignee);
// The dossier `id` when `adding` pages may be attached to it: held here (not
// another office's pinned copy: 409 read_only_copy) and at most 100 pages in all.
Outcome<Record> dossier_for_pages(NodeContext& ctx, const std::string& id, std::size_t adding);
// Adds scanned pages to an open or closed dossier (clerk, leader).
Outcome<DossierView> attach_pages(NodeContext& ctx, const Actor& actor, const std::string& id,
                                  const std::vector<Attachment>& pages);
// The self-service pseudo-clerk: author of kiosk writes, rated for unassigned self-filings.
inline constexpr const char* kKioskUser = "kiosk";
Outcome<DossierView> apologize(NodeContext& ctx, const Actor& actor, const std::string& id,
                               const std::string& new_date, const std::string& reason);

// Stage numbers of the status rank (see schema.cpp).
inline constexpr std::uint32_t kStageReceived = 1, kStageInProgress = 2, kStageSupplement = 3, kStageDecided = 4,
                               kStageClosed = 5;

}  // namespace wardsync::node

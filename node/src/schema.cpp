// Field by field, why each merge type:
//  - lww: a value a clerk may correct later (applicant details, assignee); the
//    newest write wins and unseen concurrent versions stay journalled.
//  - once: a fact fixed when it happens (dossier code, lookup code, received time,
//    appointment, ticket number, apology): numbers issued are never reissued or
//    changed, and the apology's new date may be set only once (TT 01/2018 Art 19(9)).
//  - rank: a workflow status that only moves forward, even with offline edits.
//    Dossier stages: received 1 < in_progress 2 < supplement_requested 3 <
//    approved|rejected 4 < returned|cancelled 5 (terminal). A supplement request
//    ends a cycle: resuming starts cycle+1 at in_progress, so it still moves forward.
//    Ticket stages: issued 1 < called 2 < served|skipped 3 (terminal).
//  - set: the papers received (components) and the scanned pages (attachments),
//    added and removed concurrently.
//  - log: the processing history (lưu vết), every entry kept.
#include "schema.hpp"

#include <cstdlib>
#include <cstdio>

namespace wardsync::node {

namespace {

FieldSpec f(const char* name, MergeType type, bool indexed = false, bool searchable = false) {
  return FieldSpec{name, type, indexed, searchable};
}

// A field search hits carry (FieldSpec::summary): what a result list shows.
FieldSpec summary(FieldSpec spec) {
  spec.summary = true;
  return spec;
}

Schema build() {
  using M = MergeType;
  Schema s(kNodeSchemaVersion);
  Status st = s.add({kDossiers,
                     {
                         summary(f("code", M::kOnce, true, true)),
                         f("scope", M::kOnce),  // the receiving office's scope: edits are written in it
                         summary(f("lookup_code", M::kOnce)),
                         summary(f("applicant_name", M::kLww, false, true)),
                         summary(f("cccd", M::kLww, true, true)),
                         f("dob", M::kLww),
                         f("phone", M::kLww),
                         f("address", M::kLww),
                         summary(f("procedure_code", M::kLww, true)),
                         summary(f("channel", M::kLww)),
                         f("components", M::kSet),
                         f("fee_vnd", M::kLww),
                         f("note", M::kLww),
                         summary(f("received_at", M::kOnce)),
                         f("received_day", M::kOnce, true),
                         f("received_by", M::kOnce, true),
                         summary(f("appointment", M::kOnce)),
                         summary(f("due_day", M::kOnce, true)),
                         summary(f("assignee", M::kLww, true)),
                         summary(f("status", M::kRank, true)),
                         f("history", M::kLog),
                         f("apology", M::kOnce),
                         f("decided_by", M::kLww),
                         summary(f("returned_at", M::kOnce)),
                         f("returned_day", M::kOnce, true),
                         // Scanned pages: "<blob hash hex>\t<mime>\t<bytes>\t<label>" each.
                         f("attachments", M::kSet),
                         // How the applicant's identity was taken: "" (at the counter, by a
                         // clerk who saw the card) or "cccd_qr_unverified" (kiosk, from the
                         // card's unsigned QR).
                         summary(f("identity", M::kLww)),
                     }});
  if (st.is_ok()) {
    st = s.add({kTickets,
                {
                    f("queue", M::kOnce, true),  // "YYYY-MM-DD/<counter>"
                    f("counter", M::kOnce),
                    f("day", M::kOnce),
                    f("number", M::kOnce),
                    f("issued_at", M::kOnce),
                    f("state", M::kRank),
                    f("handled_by", M::kLww),
                    f("events", M::kLog),
                }});
  }
  if (st.is_ok()) {
    st = s.add({kRatings,
                {
                    f("dossier", M::kOnce, true),
                    f("ticket", M::kOnce, true),  // a visit rated at the kiosk: the queue ticket, rated once
                    f("clerk", M::kOnce, true),
                    f("level", M::kOnce),
                    f("day", M::kOnce, true),
                    f("at", M::kOnce),
                }});
  }
  if (st.is_ok()) {
    st = s.add({kClerks,
                {
                    f("username", M::kOnce, true),
                    f("office", M::kOnce),  // the office code: accounts belong to one office
                    f("display_name", M::kLww),
                    f("role", M::kLww),
                    f("password_hash", M::kLww),
                    f("disabled", M::kLww),
                }});
  }
  if (st.is_ok()) {
    // A scan or PDF attached to a dossier: the bytes live in the blob store under
    // their hash and follow the record to every node that receives it.
    st = s.add({kAttachments,
                {
                    f("dossier", M::kOnce, true),
                    f("blob", M::kOnce, true),
                    f("size", M::kOnce),
                    f("name", M::kOnce),
                    f("content_type", M::kOnce),
                    f("added_by", M::kOnce),
                    f("added_at", M::kOnce),
                }});
  }
  if (st.is_ok()) {
    // A certificate or a revocation as the signed bytes (hex) the authority made:
    // they replicate to every node (scope "shared/..."), and each node checks the
    // signature itself before trusting them.
    st = s.add({kTrustRecords,
                {
                    f("kind", M::kOnce),
                    f("signed", M::kOnce),
                    f("digest", M::kOnce, true),
                }});
  }
  if (st.is_ok()) {
    // A data file (procedures, holidays) as a city published it, whole, in
    // "shared/<city scope>": the nodes below use the newest one (replication.hpp).
    st = s.add({kCatalogues,
                {
                    f("kind", M::kOnce),
                    f("content", M::kOnce),
                    f("digest", M::kOnce),
                }});
  }
  if (!st.is_ok()) {
    // A bad declaration is a programming error caught by the first test run.
    std::fprintf(stderr, "error schema: %s\n", st.to_string().c_str());
    std::abort();
  }
  return s;
}

}  // namespace

const Schema& node_schema() {
  static const Schema schema = build();
  return schema;
}

}  // namespace wardsync::node

// The citizens' kiosk (DOMAIN.md): dossier look-up by code AND lookup code,
// self-filing from the chip ID card's QR (parsed here, never trusted: the dossier
// is marked unverified), ratings of a dossier or a visit. The kiosk acts as the
// pseudo-clerk "kiosk"; it never sees another citizen's data.
//
// Thread safety: free functions over a NodeContext; safe from any thread.
#pragma once

#include <string>
#include <vector>

#include "domain/dossiers.hpp"
#include "domain/ratings.hpp"

namespace wardsync::node {

// The kiosk's own actor (writes are signed as "kiosk").
Actor kiosk_actor();

// The dossier whose code and lookup code both match (case-insensitive); the same
// not_found for a wrong code and a wrong lookup code, so neither can be probed alone.
Outcome<DossierView> kiosk_find(NodeContext& ctx, const std::string& code, const std::string& lookup_code);

struct FilingPage {
  std::string hash;       // from a scan on this node within the last hour
  std::string component;  // the paper it belongs to (one of the procedure's components)
};
struct FilingInput {
  std::string cccd_qr;  // the card's QR text as read
  std::string procedure_code;
  std::vector<std::string> components;
  std::vector<FilingPage> pages;
  std::string phone;   // optional
  std::string client;  // the kiosk's address (pending filings are bounded per address)
};
// Checks everything and holds the filing until the citizen types the confirmation code.
Outcome<PendingFiling> start_filing(NodeContext& ctx, const FilingInput& input);
// Files the dossier (once: a repeated confirmation answers the same dossier).
Outcome<DossierView> confirm_filing(NodeContext& ctx, const std::string& filing_id, const std::string& confirm_code);

// A rating of a dossier (for the clerk who received it) or of a visit: today's
// ticket `number` at `counter`, called or served, for the clerk who handled it.
// Each dossier and each ticket is rated once, so nobody can pad a clerk's figures
// beyond the visits that happened.
Outcome<RatingView> kiosk_rate_dossier(NodeContext& ctx, const DossierView& dossier, const std::string& level);
Outcome<RatingView> kiosk_rate_visit(NodeContext& ctx, const std::string& counter, std::uint64_t number,
                                     const std::string& level);

}  // namespace wardsync::node

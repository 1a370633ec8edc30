// Printed slips: the receipt slip of a dossier (giấy tiếp nhận hồ sơ và hẹn trả
// kết quả, with the QR `WS1|code|lookup` the kiosk reads back) and the queue
// ticket (số thứ tự), laid out in Vietnamese with full diacritics and printed as
// a raster through the configured printer (hardware/).
//
// Printing never changes a record: a dossier or ticket is saved first, and a
// printer that is off or unreachable gives a `printer_unavailable` error (503)
// that the caller shows; the slip can be printed again at any time.
//
// Thread safety: free functions; printing is serialized by Peripherals.
#pragma once

#include <string>

#include "domain/dossiers.hpp"
#include "domain/tickets.hpp"
#include "wardsync/hardware/slip.hpp"

namespace wardsync::node {

struct Printed {
  std::string printer;  // the configured printer, e.g. "tcp:127.0.0.1:9100"
};

// The slips' content (exposed for tests and for the UI's on-screen copy).
Outcome<hardware::Slip> receipt_slip(NodeContext& ctx, const DossierView& dossier);
hardware::Slip ticket_slip(NodeContext& ctx, const TicketView& ticket);

Outcome<Printed> print_receipt(NodeContext& ctx, const DossierView& dossier);
Outcome<Printed> print_ticket(NodeContext& ctx, const TicketView& ticket);

// "dd/MM/yyyy" of an ISO local date or time ("" if malformed).
std::string date_vi(const std::string& iso);

}  // namespace wardsync::node

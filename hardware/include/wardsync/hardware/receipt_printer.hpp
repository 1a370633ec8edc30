// The kiosk's receipt printer end to end: lay out the receipt slip (giấy tiếp
// nhận hồ sơ và hẹn trả kết quả, DOMAIN.md), render, encode, send. The node fills
// ReceiptSlipFields from a dossier; everything printer-specific stays here.
// Thread safety: ReceiptPrinter serialises nothing itself; one print() at a time.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "wardsync/hardware/escpos.hpp"
#include "wardsync/hardware/id_codes.hpp"
#include "wardsync/hardware/printer_transport.hpp"
#include "wardsync/hardware/slip.hpp"

namespace wardsync::hardware {

// Dates are preformatted (dd/MM/yyyy, "buổi chiều 16/06/2025"): calendars and
// working-day rules are the node's business, not the printer's.
struct ReceiptSlipFields {
  std::string office_name;       // "UBND PHƯỜNG BA ĐÌNH"
  std::string dossier_code;
  std::string applicant_name;
  std::string procedure_name;
  std::vector<std::string> papers_received;
  std::string processing_time;   // "5 ngày làm việc"
  std::string received_date;
  std::string appointment_date;
  std::string collect_at;        // where to collect the result
  std::string lookup_code;
};

// Errors: receipt.* from the QR fields, slip.bad_text for an empty required field.
[[nodiscard]] Result<Slip> make_receipt_slip(const ReceiptSlipFields& fields);

class ReceiptPrinter {
 public:
  ReceiptPrinter(SlipRenderOptions render, EscPosOptions encode,
                 std::unique_ptr<PrinterTransport> transport);
  // Renders and encodes before touching the printer, so bad input never leaves a
  // half-printed slip. Errors: slip.*, escpos.*, printer.*.
  [[nodiscard]] Status print(const Slip& slip);
  PrinterTransport& transport() { return *transport_; }

 private:
  SlipRenderer renderer_;
  EscPosEncoder encoder_;
  std::unique_ptr<PrinterTransport> transport_;
};

}  // namespace wardsync::hardware

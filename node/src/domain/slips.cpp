#include "domain/slips.hpp"

#include <cstdio>

#include "wardsync/hardware/receipt_printer.hpp"

namespace wardsync::node {

namespace {

// "26 ngày làm việc", "0,5 ngày làm việc", "Trong ngày".
std::string processing_text(double days) {
  if (days <= 0) return "Trong ngày";
  char buf[32];
  if (days == static_cast<double>(static_cast<long long>(days)))
    std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(days));
  else
    std::snprintf(buf, sizeof buf, "%.1f", days);
  std::string s = buf;
  for (char& c : s)
    if (c == '.') c = ',';
  return s + " ngày làm việc";
}

// "09:15 ngày 02/03/2026"
std::string time_and_date_vi(const std::string& iso) {
  if (iso.size() < 16) return date_vi(iso);
  return iso.substr(11, 5) + " ngày " + date_vi(iso);
}

// "buổi chiều ngày 05/03/2026" (the appointment is due at the end of a half day).
std::string appointment_vi(const std::string& iso) {
  std::string d = date_vi(iso);
  if (d.empty()) return "";
  if (iso.size() < 13) return d;
  int hour = (iso[11] - '0') * 10 + (iso[12] - '0');
  return std::string(hour <= 12 ? "buổi sáng" : "buổi chiều") + " ngày " + d;
}

DomainError printer_error(const Config& config, const hardware::Status& s) {
  if (s.code() == "printer.none")
    return DomainError{ErrorKind::kUnavailable, "printer_not_configured",
                       "Nút chưa được cấu hình máy in phiếu (printer = none); hồ sơ vẫn được lưu.",
                       "No receipt printer is configured (printer = none); the record is saved.", {}};
  if (s.code().rfind("printer.", 0) == 0)
    return DomainError{ErrorKind::kUnavailable, "printer_unavailable",
                       "Máy in phiếu không phản hồi (đã tắt, hết giấy hoặc mất kết nối). Dữ liệu đã được lưu; "
                       "kiểm tra máy in rồi bấm in lại.",
                       "The receipt printer does not answer (off, out of paper or disconnected: " + config.printer +
                           ", " + s.code() + "). Nothing is lost; check the printer and print again.",
                       {}};
  return DomainError{ErrorKind::kInternal, "print_failed", "Không dựng được phiếu để in (" + s.code() + ").",
                     "The slip could not be rendered: " + s.to_string(), {}};
}

}  // namespace

std::string date_vi(const std::string& iso) {
  if (iso.size() < 10 || iso[4] != '-' || iso[7] != '-') return "";
  return iso.substr(8, 2) + "/" + iso.substr(5, 2) + "/" + iso.substr(0, 4);
}

Outcome<hardware::Slip> receipt_slip(NodeContext& ctx, const DossierView& d) {
  hardware::ReceiptSlipFields f;
  f.office_name = ctx.config.office_name;
  f.dossier_code = d.code;
  f.applicant_name = d.applicant_name;
  f.procedure_name = d.procedure_name.empty() ? d.procedure_code : d.procedure_name;
  f.papers_received = d.components;
  auto catalogue = ctx.catalogues.procedures();
  if (const Procedure* p = catalogue->find(d.procedure_code)) f.processing_time = processing_text(p->processing_time.days());
  f.received_date = time_and_date_vi(d.received_at);
  f.appointment_date = appointment_vi(d.apology ? d.apology->new_appointment + "T17:00" : d.appointment);
  f.collect_at = "Bộ phận Một cửa, " + ctx.config.office_name;
  f.lookup_code = d.lookup_code;
  auto slip = hardware::make_receipt_slip(f);
  if (!slip.is_ok()) {
    ctx.log.error("printer", "receipt of " + d.id + ": " + slip.status().to_string());
    return DomainError{ErrorKind::kInternal, "print_failed", "Không dựng được giấy tiếp nhận của hồ sơ này.",
                       "The receipt slip could not be laid out: " + slip.status().to_string(), {}};
  }
  hardware::Slip s = std::move(slip).value();
  if (!d.attachments.empty()) s.text("Số trang đã quét: " + std::to_string(d.attachments.size()));
  if (!d.identity_verified)
    s.text("Nộp tại kiosk; thông tin người nộp lấy từ mã QR thẻ CCCD, chưa xác thực.");
  s.text("Tra cứu tại kiosk: đưa mã QR trên phiếu vào đầu đọc.", hardware::Align::kCenter);
  return s;
}

hardware::Slip ticket_slip(NodeContext& ctx, const TicketView& t) {
  hardware::Slip s;
  s.heading(ctx.config.office_name).heading("SỐ THỨ TỰ").feed(1);
  // The counter in body text: bold capitals with stacked marks read back worst (hardware/README.md).
  s.heading(std::to_string(t.number)).text("Quầy số " + t.counter, hardware::Align::kCenter).feed(1);
  s.text("Lấy số lúc " + time_and_date_vi(t.issued_at), hardware::Align::kCenter);
  s.text("Vui lòng chờ đến khi số của ông/bà được gọi trên màn hình.", hardware::Align::kCenter);
  // Rating a visit at the kiosk asks for this number (once per ticket).
  s.text("Sau khi được phục vụ, ông/bà có thể đánh giá mức độ hài lòng tại kiosk bằng số thứ tự này.",
         hardware::Align::kCenter);
  return s;
}

Outcome<Printed> print_receipt(NodeContext& ctx, const DossierView& d) {
  auto slip = receipt_slip(ctx, d);
  if (!slip.ok()) return slip.error();
  hardware::Status st = ctx.peripherals.print(slip.value());
  if (!st.is_ok()) return printer_error(ctx.config, st);
  ctx.log.info("printer", "receipt of dossier " + d.code + " printed");
  return Printed{ctx.config.printer};
}

Outcome<Printed> print_ticket(NodeContext& ctx, const TicketView& t) {
  hardware::Status st = ctx.peripherals.print(ticket_slip(ctx, t));
  if (!st.is_ok()) return printer_error(ctx.config, st);
  ctx.log.info("printer", "ticket " + t.id + " printed");
  return Printed{ctx.config.printer};
}

}  // namespace wardsync::node

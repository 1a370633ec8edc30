#include "wardsync/hardware/receipt_printer.hpp"

namespace wardsync::hardware {

Result<Slip> make_receipt_slip(const ReceiptSlipFields& f) {
  auto qr = format_receipt_qr({f.dossier_code, f.lookup_code});
  if (!qr.is_ok()) return qr.status();
  for (const std::string* required :
       {&f.office_name, &f.applicant_name, &f.procedure_name, &f.received_date,
        &f.appointment_date, &f.collect_at}) {
    if (required->empty()) {
      return Status(ErrorKind::kInvalidInput, "slip.bad_text", "a required receipt field is empty",
                    "Thiếu thông tin trên phiếu hẹn");
    }
  }
  Slip s;
  s.heading(f.office_name).heading("GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ").feed(1);
  s.text("Mã hồ sơ: " + f.dossier_code);
  s.text("Người nộp: " + f.applicant_name);
  s.text("Thủ tục: " + f.procedure_name);
  if (!f.papers_received.empty()) {
    std::string papers = "Giấy tờ đã nhận:";
    for (const std::string& p : f.papers_received) papers += "\n- " + p;
    s.text(papers);
  }
  if (!f.processing_time.empty()) s.text("Thời hạn giải quyết: " + f.processing_time);
  s.text("Ngày nhận: " + f.received_date);
  s.text("Ngày hẹn trả: " + f.appointment_date);
  s.text("Nơi trả kết quả: " + f.collect_at);
  s.feed(1).qr(std::move(qr).value());
  s.text("Mã tra cứu: " + f.lookup_code, Align::kCenter);
  return s;
}

ReceiptPrinter::ReceiptPrinter(SlipRenderOptions render, EscPosOptions encode,
                               std::unique_ptr<PrinterTransport> transport)
    : renderer_(std::move(render)), encoder_(encode), transport_(std::move(transport)) {}

Status ReceiptPrinter::print(const Slip& slip) {
  auto rendered = renderer_.render(slip);
  if (!rendered.is_ok()) return rendered.status();
  auto bytes = encoder_.encode(rendered.value());
  if (!bytes.is_ok()) return bytes.status();
  return transport_->send(bytes.value());
}

}  // namespace wardsync::hardware

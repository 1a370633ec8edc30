// A realistic receipt slip (giấy tiếp nhận hồ sơ và hẹn trả kết quả) shared by the
// printer tests: every Vietnamese tone mark and the letters đ/ơ/ư appear in it.
#pragma once

#include "wardsync/hardware/slip.hpp"

namespace wardsync::hardware::testing {

inline constexpr const char* kReceiptQr = "WS1|01.00001-250612-0001|K7Q2M9XA";

inline Slip receipt_slip() {
  Slip s;
  s.heading("UBND PHƯỜNG BA ĐÌNH")
      .heading("GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ")
      .feed(1)
      .text("Mã hồ sơ: 01.00001-250612-0001")
      .text("Người nộp: Nguyễn Văn An")
      .text("Thủ tục: Đăng ký khai sinh")
      .text("Giấy tờ đã nhận: Tờ khai đăng ký khai sinh; Giấy chứng sinh")
      .text("Ngày nhận: 12/06/2025")
      .text("Ngày hẹn trả: 16/06/2025")
      .text("Nơi trả kết quả: Bộ phận Một cửa, quầy số 2")
      .feed(1)
      .qr(kReceiptQr)
      .text("Mã tra cứu: K7Q2M9XA", Align::kCenter);
  return s;
}

}  // namespace wardsync::hardware::testing

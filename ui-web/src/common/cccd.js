// The CCCD chip card QR (DOMAIN.md): ID(12 digits)|old ID|full name|ddMMyyyy|gender|address|ddMMyyyy.
// It is not signed: it pre-fills a form, it never proves who someone is.
// Returns {ok:true, value} or {ok:false, message_vi, message_en}.
function ddmmyyyy(text) {
  if (!/^\d{8}$/.test(text)) return null;
  const d = +text.slice(0, 2), m = +text.slice(2, 4), y = +text.slice(4, 8);
  const date = new Date(Date.UTC(y, m - 1, d));
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== m - 1 || date.getUTCDate() !== d) return null;
  return `${text.slice(4, 8)}-${text.slice(2, 4)}-${text.slice(0, 2)}`;
}

export function parseCccd(raw) {
  const text = String(raw ?? '').trim();
  const bad = (vi, en) => ({ ok: false, message_vi: vi, message_en: en });
  if (!text) return bad('Chưa có dữ liệu mã QR.', 'No QR data.');
  const parts = text.split('|');
  if (parts.length !== 7) return bad('Mã QR không phải của thẻ CCCD (cần 7 phần cách nhau bởi dấu |).', 'Not a CCCD card QR (7 fields separated by | expected).');
  const [id, oldId, name, dob, gender, address, issued] = parts.map((p) => p.trim());
  if (!/^\d{12}$/.test(id)) return bad('Số CCCD phải gồm đúng 12 chữ số.', 'The CCCD number must be exactly 12 digits.');
  if (!name) return bad('Mã QR thiếu họ tên.', 'The QR has no name.');
  const dobIso = ddmmyyyy(dob);
  if (!dobIso) return bad('Ngày sinh trong mã QR không hợp lệ.', 'Invalid date of birth in the QR.');
  const issuedIso = issued ? ddmmyyyy(issued) : '';
  if (issued && !issuedIso) return bad('Ngày cấp trong mã QR không hợp lệ.', 'Invalid issue date in the QR.');
  return { ok: true, value: { cccd: id, old_id: oldId, name, dob: dobIso, gender, address, issued: issuedIso } };
}

// The wardsync receipt QR (hardware/README.md): WS1|<dossier code>|<lookup code>.
export function parseReceiptQr(raw) {
  const parts = String(raw ?? '').trim().split('|');
  if (parts.length === 3 && parts[0] === 'WS1' && parts[1] && parts[2]) return { code: parts[1], lookup_code: parts[2] };
  return null;
}

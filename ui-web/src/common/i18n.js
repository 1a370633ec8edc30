// Vietnamese first, English second: every string is written as T('vi', 'en') at
// its point of use, so no label can exist in one language only.
const KEY = 'wardsync.lang';
let lang = localStorage.getItem(KEY) === 'en' ? 'en' : 'vi';
export const T = (vi, en) => (lang === 'en' && en ? en : vi);
export const getLang = () => lang;
export function setLang(next) {
  lang = next === 'en' ? 'en' : 'vi';
  localStorage.setItem(KEY, lang);
  document.documentElement.lang = lang;
}
// A server error in the current language.
export const msg = (e) => (lang === 'en' ? e.message_en || e.message_vi : e.message_vi || e.message_en) || String(e.message || e);
document.documentElement.lang = lang;

export const STATUS = {
  received: ['Đã tiếp nhận', 'Received'],
  in_progress: ['Đang xử lý', 'In progress'],
  supplement_requested: ['Chờ bổ sung', 'Supplement requested'],
  approved: ['Đã duyệt', 'Approved'],
  rejected: ['Từ chối', 'Rejected'],
  returned: ['Đã trả kết quả', 'Returned'],
  cancelled: ['Đã hủy', 'Cancelled'],
};
export const statusName = (s) => (STATUS[s] ? T(...STATUS[s]) : s || '');

export const ROLE = {
  clerk: ['Cán bộ một cửa', 'One-stop clerk'],
  specialist: ['Chuyên viên', 'Specialist'],
  leader: ['Lãnh đạo', 'Leader'],
  it_admin: ['Quản trị CNTT', 'IT admin'],
};
export const roleName = (r) => (ROLE[r] ? T(...ROLE[r]) : r || '');

export const RATING = {
  satisfied: ['Hài lòng', 'Satisfied'],
  acceptable: ['Chấp nhận được', 'Acceptable'],
  unsatisfied: ['Không hài lòng', 'Unsatisfied'],
};

// "3 ngày làm việc", "0,5 ngày làm việc", "Trong ngày".
export function processingTime(p) {
  const days = p?.processing_days ?? p?.processing_time?.days ?? p?.processing_time;
  if (days === undefined || days === null || typeof days === 'object') return '';
  if (Number(days) === 0) return T('Trong ngày', 'Same day');
  return T(`${String(days).replace('.', ',')} ngày làm việc`, `${days} working day${days == 1 ? '' : 's'}`);
}
export function feeText(p) {
  const f = p?.fee;
  if (!f) return '';
  if (typeof f === 'string') return f;
  if (f.kind === 'free') return f.description_vi || T('Miễn lệ phí', 'Free');
  if (f.description_vi) return f.description_vi;
  if (f.amount_vnd) return `${Number(f.amount_vnd).toLocaleString('vi-VN')} đ` + (f.unit_vi ? ` / ${f.unit_vi}` : '');
  return '';
}

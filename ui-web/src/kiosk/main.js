// The citizen kiosk: take a queue number, look up a procedure, look up a dossier
// (code + lookup code, or the receipt's QR read by the reader as WS1|code|lookup),
// file a dossier alone, rate the service. An idle timeout returns to the home
// screen and forgets everything the last citizen entered.
import './kiosk.css';
import { kiosk as api } from '../common/api.js';
import { h, mount, dateVi } from '../common/dom.js';
import { T, msg, getLang, setLang, statusName, RATING, processingTime, feeText } from '../common/i18n.js';
import { matches } from '../common/fold.js';
import { parseCccd, parseReceiptQr } from '../common/cccd.js';

const app = document.getElementById('app');
const params = new URLSearchParams(location.search);
const IDLE_MS = Math.max(3000, Number(params.get('idle')) || 90000);
// Services offered at the ticket screen: one queue (counter) each.
const SERVICES = [
  { counter: '1', vi: 'Hộ tịch (khai sinh, kết hôn, khai tử…)', en: 'Civil registry' },
  { counter: '2', vi: 'Chứng thực (bản sao, chữ ký, hợp đồng)', en: 'Certification' },
  { counter: '3', vi: 'Việc khác, hỏi đáp', en: 'Other, questions' },
];

let state = fresh();
function fresh() {
  return { screen: 'home', file: null, rateFor: null };
}

// ---------- idle timeout ----------
let idleTimer = 0;
function bump() {
  clearTimeout(idleTimer);
  idleTimer = setTimeout(() => {
    if (state.screen !== 'home') { state = fresh(); render(); }
  }, IDLE_MS);
}
for (const ev of ['pointerdown', 'keydown', 'input', 'touchstart']) window.addEventListener(ev, bump, { passive: true });

function go(screen, extra = {}) { Object.assign(state, { screen }, extra); render(); window.scrollTo(0, 0); }

function render() {
  bump();
  const screens = { home, ticket, procedures, lookup, file, rate };
  const main = h('main', { id: 'main' });
  mount(app, header(), main);
  (screens[state.screen] || home)(main);
  main.querySelector('h2')?.setAttribute('tabindex', '-1');
}

function header() {
  return h('header', { class: 'k' },
    h('h1', {}, T('Kiosk dịch vụ công', 'Public service kiosk')),
    state.screen !== 'home' ? h('button', { type: 'button', onclick: () => { state = fresh(); render(); } }, T('Về trang đầu', 'Home')) : '',
    h('button', { type: 'button', lang: getLang() === 'vi' ? 'en' : 'vi', onclick: () => { setLang(getLang() === 'vi' ? 'en' : 'vi'); render(); } },
      getLang() === 'vi' ? 'English' : 'Tiếng Việt'));
}

const problem = (e) => h('p', { class: 'notice bad', role: 'alert' }, msg(e));
const backBar = (...more) => h('div', { class: 'bar' }, ...more,
  h('button', { type: 'button', class: 'act secondary', onclick: () => { state = fresh(); render(); } }, T('Về trang đầu', 'Back to start')));

// ---------- home ----------
function home(main) {
  const tile = (screen, vi, en, subVi, subEn, onclick) => h('button', { type: 'button', 'data-go': screen, onclick: onclick || (() => go(screen)) },
    T(vi, en), h('small', {}, T(subVi, subEn)));
  mount(main,
    h('h2', {}, T('Xin chào! Ông/bà cần làm gì?', 'Hello! What would you like to do?')),
    h('div', { class: 'home' },
      tile('ticket', 'Lấy số thứ tự', 'Take a queue number', 'Chờ gọi tên tại quầy', 'Wait to be called at a counter'),
      tile('procedures', 'Tra cứu thủ tục', 'Look up a procedure', 'Giấy tờ cần mang, lệ phí, thời hạn', 'Papers, fee, processing time'),
      tile('lookup', 'Tra cứu hồ sơ', 'Look up my dossier', 'Bằng mã hồ sơ và mã tra cứu trên giấy hẹn', 'With the codes on your receipt'),
      tile('file', 'Tự nộp hồ sơ', 'File a dossier myself', 'Dùng thẻ căn cước (CCCD) có mã QR', 'With your chip ID card QR',
        () => go('file', { file: { step: 0, person: null, qr: '', procedure: null, scanned: [], pages: [], preview: null, result: null } })),
      tile('rate', 'Đánh giá mức độ hài lòng', 'Rate our service', 'Ý kiến của ông/bà giúp chúng tôi phục vụ tốt hơn', 'Your opinion helps us')));
}

// ---------- queue ticket ----------
function ticket(main) {
  const out = h('div', { 'aria-live': 'polite' });
  mount(main,
    h('h2', {}, T('Lấy số thứ tự', 'Take a queue number')),
    h('p', {}, T('Chạm vào việc ông/bà cần làm:', 'Touch the service you need:')),
    h('ul', { class: 'list' }, SERVICES.map((s) => h('li', {}, h('button', { type: 'button', onclick: async (ev) => {
      ev.currentTarget.disabled = true;
      try {
        const t = await api.ticket(s.counter);
        mount(main,
          h('h2', {}, T('Số thứ tự của ông/bà', 'Your number')),
          h('p', { class: 'ticket', 'data-test': 'ticket-number' }, String(t.number)),
          h('p', {}, T(`Quầy số ${t.counter} — ${s.vi}`, `Counter ${t.counter} — ${s.en}`)),
          t.printed
            ? h('p', { 'data-test': 'printed' }, T('Vui lòng nhận phiếu in và chờ đến khi số được gọi trên màn hình.', 'Please take the printed ticket and wait until your number is called on the screen.'))
            : h('p', { class: 'notice bad', role: 'alert', 'data-test': 'print-error' }, msg(t.print_error || {}), ' ',
              T('Ông/bà ghi nhớ số trên màn hình; số vẫn được gọi bình thường.', 'Please remember the number on the screen; it will be called as usual.')),
          backBar());
      } catch (e) { out.replaceChildren(problem(e)); ev.currentTarget.disabled = false; }
    } }, T(s.vi, s.en))))),
    out, backBar());
}

// ---------- procedure lookup ----------
function procedures(main) {
  const search = h('input', { type: 'search', id: 'k-proc', autocomplete: 'off' });
  const list = h('ul', { class: 'list', 'aria-live': 'polite' });
  let all = [];
  const paint = () => list.replaceChildren(...all.filter((p) => matches(`${p.name_vi} ${p.field_vi}`, search.value)).slice(0, 12)
    .map((p) => h('li', {}, h('button', { type: 'button', onclick: () => detail(p) }, p.name_vi))));
  search.addEventListener('input', paint);
  async function detail(summary) {
    let p;
    try { p = await api.procedure(summary.code); } catch (e) { return list.replaceChildren(problem(e)); }
    mount(main,
      h('h2', {}, p.name_vi),
      h('dl', { class: 'kv' },
        h('dt', {}, T('Lĩnh vực', 'Field')), h('dd', {}, p.field_vi || ''),
        h('dt', {}, T('Thời hạn giải quyết', 'Processing time')), h('dd', { 'data-test': 'time' }, processingTime(p)),
        h('dt', {}, T('Lệ phí', 'Fee')), h('dd', { 'data-test': 'fee' }, feeText(p))),
      h('h3', {}, T('Giấy tờ cần mang theo', 'Papers to bring')),
      h('ol', {}, (p.components || []).map((c) => h('li', {}, c.name_vi, c.mandatory === false ? ` (${T('nếu có', 'if any')})` : ''))),
      backBar(h('button', { type: 'button', class: 'act', onclick: () => procedures(main) }, T('Xem thủ tục khác', 'Another procedure'))));
  }
  mount(main,
    h('h2', {}, T('Tra cứu thủ tục', 'Look up a procedure')),
    h('label', { for: 'k-proc' }, T('Gõ tên thủ tục (không cần dấu), ví dụ: khai sinh', 'Type a procedure name, e.g. birth')), search,
    list, backBar());
  api.procedures().then((p) => { all = p; paint(); }).catch((e) => list.replaceChildren(problem(e)));
  search.focus();
}

// ---------- dossier lookup ----------
function lookup(main) {
  const code = h('input', { type: 'text', id: 'k-code', autocomplete: 'off', autocapitalize: 'characters' });
  const lk = h('input', { type: 'text', id: 'k-lookup', autocomplete: 'off', autocapitalize: 'characters' });
  const out = h('div', { 'aria-live': 'polite' });
  const form = h('form', { onsubmit: async (ev) => {
    ev.preventDefault();
    // The QR reader types "WS1|code|lookup" and Enter into the focused field; the
    // node parses it (and shows the codes it read).
    let qr = '';
    for (const el of [code, lk]) {
      if (/^WS\d\|/i.test(el.value.trim())) qr = el.value.trim();
      const r = parseReceiptQr(el.value);
      if (r) { code.value = r.code; lk.value = r.lookup_code; }
    }
    out.replaceChildren(h('p', {}, T('Đang tra cứu…', 'Looking up…')));
    try {
      const d = qr ? await api.lookupQr(qr) : await api.lookup(code.value.trim(), lk.value.trim());
      const codes = { code: d.code, lookup_code: lk.value.trim().toUpperCase() };
      out.replaceChildren(h('div', { class: 'notice ok', 'data-test': 'lookup-result' },
        h('dl', { class: 'kv' },
          h('dt', {}, T('Mã hồ sơ', 'Dossier code')), h('dd', {}, d.code),
          h('dt', {}, T('Thủ tục', 'Procedure')), h('dd', {}, d.procedure?.name || d.procedure_name || ''),
          h('dt', {}, T('Tình trạng', 'Status')), h('dd', { 'data-test': 'lookup-status' }, statusName(d.status)),
          h('dt', {}, T('Ngày hẹn trả', 'Appointment')), h('dd', {}, dateVi(d.apology?.new_appointment || d.appointment))),
        h('div', { class: 'bar' },
          h('button', { type: 'button', class: 'act', onclick: () => go('rate', { rateFor: { ...d, ...codes } }) }, T('Đánh giá hồ sơ này', 'Rate this dossier')),
          h('button', { type: 'button', class: 'act secondary', onclick: async (ev) => {
            const b = ev.currentTarget;
            b.disabled = true;
            try { await api.reprint(codes.code, codes.lookup_code); b.replaceWith(h('p', { class: 'notice ok', role: 'status' }, T('Đã in lại giấy hẹn.', 'Receipt printed again.'))); }
            catch (e) { b.disabled = false; b.after(problem(e)); }
          } }, T('In lại giấy hẹn', 'Print the receipt again')))));
    } catch (e) {
      out.replaceChildren(e.status === 404
        ? h('p', { class: 'notice bad', role: 'alert' }, T('Không tìm thấy hồ sơ. Ông/bà kiểm tra lại mã hồ sơ và mã tra cứu trên giấy hẹn.', 'No dossier found. Check both codes on your receipt.'))
        : h('div', {}, problem(e), ...(e.fields || []).map((f) => h('p', { class: 'notice bad' }, T(f.message_vi, f.message_en)))));
    }
  } },
  h('p', {}, T('Đưa mã QR trên giấy hẹn vào đầu đọc, hoặc nhập hai mã in trên giấy hẹn:', 'Show the receipt QR to the reader, or type both codes from your receipt:')),
  h('label', { for: 'k-code' }, T('Mã hồ sơ', 'Dossier code')), code,
  h('label', { for: 'k-lookup' }, T('Mã tra cứu', 'Lookup code')), lk,
  h('div', { class: 'bar' }, h('button', { type: 'submit', class: 'act' }, T('Tra cứu', 'Look up'))));
  mount(main, h('h2', {}, T('Tra cứu hồ sơ', 'Look up my dossier')), form, out, backBar());
  code.focus();
}

// ---------- self-filing ----------
const STEPS = [['Nhận diện', 'Identify'], ['Chọn thủ tục', 'Procedure'], ['Quét giấy tờ', 'Scan papers'], ['Kiểm tra', 'Review'], ['Xác nhận', 'Confirm']];
function file(main) {
  const f = state.file;
  const steps = h('ol', { class: 'steps', 'aria-label': T('Các bước', 'Steps') }, STEPS.map((s, i) => h('li', { 'aria-current': i === f.step ? 'step' : null }, `${i + 1}. ${T(...s)}`)));
  const next = (n) => { f.step = n; render(); };
  const out = h('div', { 'aria-live': 'polite' });
  if (f.step === 0) {
    const qr = h('input', { type: 'text', id: 'k-cccd', autocomplete: 'off' });
    const form = h('form', { onsubmit: (ev) => {
      ev.preventDefault();
      const r = parseCccd(qr.value);
      if (!r.ok) return out.replaceChildren(h('p', { class: 'notice bad', role: 'alert' }, T(r.message_vi, r.message_en)));
      f.person = r.value; f.qr = qr.value.trim(); f.preview = null; next(1);
    } },
    h('p', {}, T('Đưa mã QR trên thẻ căn cước (CCCD) vào đầu đọc. Nếu không đọc được, ông/bà có thể nhập nội dung mã.', 'Show the QR on your chip ID card to the reader, or type its text.')),
    h('label', { for: 'k-cccd' }, T('Nội dung mã QR thẻ CCCD', 'CCCD QR text')), qr,
    h('div', { class: 'bar' }, h('button', { type: 'submit', class: 'act' }, T('Tiếp tục', 'Continue'))));
    mount(main, h('h2', {}, T('Tự nộp hồ sơ', 'File a dossier')), steps, form, out, backBar());
    return qr.focus();
  }
  if (f.step === 1) {
    const search = h('input', { type: 'search', id: 'k-fproc', autocomplete: 'off' });
    const list = h('ul', { class: 'list' });
    let all = [];
    const paint = () => list.replaceChildren(...all.filter((p) => matches(`${p.name_vi} ${p.field_vi}`, search.value)).slice(0, 10)
      .map((p) => h('li', {}, h('button', { type: 'button', 'aria-pressed': String(f.procedure?.code === p.code), onclick: async () => { try { f.procedure = await api.procedure(p.code); f.scanned = []; f.pages = []; next(2); } catch (e) { list.replaceChildren(problem(e)); } } }, p.name_vi))));
    search.addEventListener('input', paint);
    mount(main, h('h2', {}, T('Chọn thủ tục', 'Choose the procedure')), steps,
      h('label', { for: 'k-fproc' }, T('Gõ tên thủ tục (không cần dấu)', 'Type the procedure name')), search, list,
      backBar(h('button', { type: 'button', class: 'act secondary', onclick: () => next(0) }, T('Quay lại', 'Back'))));
    api.procedures().then((p) => { all = p; paint(); }).catch((e) => list.replaceChildren(problem(e)));
    return;
  }
  if (f.step === 2) {
    const comps = f.procedure.components || [];
    const scanner = kioskInfo?.scanner !== false;
    const rows = comps.map((c) => {
      const pages = f.pages.filter((p) => p.component === c.name_vi).length;
      const done = f.scanned.includes(c.name_vi);
      return h('div', { class: 'scanrow' },
        h('span', {}, c.name_vi, c.mandatory === false ? ` (${T('nếu có', 'if any')})` : ''),
        done ? h('strong', { class: 'ok' }, '✓ ' + (pages ? T(`Đã quét ${pages} trang`, `${pages} page(s) scanned`) : T('Đã có', 'Brought')))
          : h('button', { type: 'button', class: 'act', 'data-scan': c.name_vi, onclick: async (ev) => {
            if (!scanner) { f.scanned.push(c.name_vi); return render(); }
            const b = ev.currentTarget;
            b.disabled = true;
            b.textContent = T('Đang quét…', 'Scanning…');
            try {
              const r = await api.scan();
              f.pages.push(...(r.pages || []).map((pg) => ({ hash: pg.hash, component: c.name_vi })));
              f.scanned.push(c.name_vi);
              render();
            } catch (e) { b.disabled = false; b.textContent = T('Quét lại', 'Scan again'); out.replaceChildren(problem(e)); }
          } }, scanner ? T('Quét', 'Scan') : T('Có mang theo', 'I have it')));
    });
    const missing = comps.filter((c) => c.mandatory !== false && !f.scanned.includes(c.name_vi));
    mount(main, h('h2', {}, T('Quét giấy tờ', 'Scan your papers')), steps,
      h('p', {}, scanner
        ? T('Đặt từng giấy tờ vào khe quét rồi chạm "Quét". Máy trả lại bản gốc ngay.', 'Put each paper in the scan slot and touch "Scan". The original comes straight back.')
        : T('Kiosk này không có máy quét: ông/bà mang bản giấy đến quầy.', 'This kiosk has no scanner: bring the papers to the counter.')),
      rows, out,
      missing.length ? h('p', {}, T(`Còn ${missing.length} giấy tờ bắt buộc chưa quét.`, `${missing.length} required papers not scanned yet.`)) : '',
      backBar(h('button', { type: 'button', class: 'act secondary', onclick: () => next(1) }, T('Quay lại', 'Back')),
        h('button', { type: 'button', class: 'act', disabled: missing.length ? true : null, onclick: () => { f.preview = null; next(3); } }, T('Tiếp tục', 'Continue'))));
    return;
  }
  if (f.step === 3) {
    if (!f.preview) {
      // The node parses the card QR itself and checks every paper and page; its
      // answer (not the screen's own parse) is what the citizen confirms.
      mount(main, h('h2', {}, T('Kiểm tra lại thông tin', 'Check everything')), steps, h('p', { role: 'status' }, T('Đang kiểm tra…', 'Checking…')));
      api.startFiling({ cccd_qr: f.qr, procedure_code: f.procedure.code, components: f.scanned, pages: f.pages })
        .then((p) => { f.preview = p; render(); })
        .catch((e) => mount(main, h('h2', {}, T('Kiểm tra lại thông tin', 'Check everything')), steps, problem(e),
          (e.fields || []).length ? h('ul', {}, e.fields.map((x) => h('li', {}, T(x.message_vi, x.message_en)))) : '',
          backBar(h('button', { type: 'button', class: 'act secondary', onclick: () => next(0) }, T('Làm lại từ đầu', 'Start again')))));
      return;
    }
    const pv = f.preview, p = pv.applicant;
    const code = h('input', { type: 'text', id: 'k-confirm', inputmode: 'numeric', autocomplete: 'off', maxlength: 4 });
    const form = h('form', { onsubmit: async (ev) => {
      ev.preventDefault();
      const btn = form.querySelector('button[type=submit]');
      btn.disabled = true;
      out.replaceChildren(h('p', {}, T('Đang nộp hồ sơ…', 'Filing…')));
      try {
        f.result = await api.confirmFiling(pv.filing_id, code.value.trim());
        next(4);
      } catch (e) {
        btn.disabled = false;
        out.replaceChildren(problem(e), ...(e.fields || []).map((x) => h('p', { class: 'notice bad' }, T(x.message_vi, x.message_en))));
        if (e.status === 404 || e.status === 409) f.preview = null;
      }
    } },
    h('h3', {}, T('Người nộp', 'Applicant'), ' ', h('span', { class: 'unverified', 'data-test': 'unverified' }, T('Chưa xác thực', 'Unverified'))),
    h('dl', { class: 'kv' },
      h('dt', {}, T('Họ và tên', 'Name')), h('dd', { 'data-test': 'review-name' }, p.name),
      h('dt', {}, T('Số CCCD', 'ID number')), h('dd', {}, p.cccd),
      h('dt', {}, T('Ngày sinh', 'Date of birth')), h('dd', {}, dateVi(p.dob)),
      h('dt', {}, T('Địa chỉ', 'Address')), h('dd', {}, p.address)),
    h('h3', {}, T('Thủ tục', 'Procedure')), h('p', {}, f.procedure.name_vi, ' — ', processingTime(f.procedure), ', ', feeText(f.procedure)),
    h('h3', {}, T('Giấy tờ', 'Papers')), h('ul', {}, f.scanned.map((x) => h('li', {}, x))),
    h('p', {}, T(`Số trang đã quét: ${pv.pages}`, `Pages scanned: ${pv.pages}`)),
    h('p', {}, T('Nếu mọi thông tin đều đúng, nhập mã xác nhận dưới đây:', 'If everything is right, type this confirmation code:')),
    h('p', { class: 'confirm-code', 'data-test': 'confirm-code', 'aria-label': pv.confirm_code.split('').join(' ') }, pv.confirm_code),
    h('label', { for: 'k-confirm' }, T('Mã xác nhận', 'Confirmation code')), code,
    h('div', { class: 'bar' }, h('button', { type: 'submit', class: 'act' }, T('Nộp hồ sơ', 'File the dossier'))));
    mount(main, h('h2', {}, T('Kiểm tra lại thông tin', 'Check everything')), steps, form, out,
      backBar(h('button', { type: 'button', class: 'act secondary', onclick: () => next(2) }, T('Quay lại', 'Back'))));
    return;
  }
  const r = f.result, d = r.dossier;
  const printedNote = r.printed
    ? h('p', { 'data-test': 'printed' }, T('Ông/bà nhận phiếu tiếp nhận và hẹn trả kết quả ở khe in. Giữ phiếu để tra cứu hồ sơ.', 'Take the receipt from the printer slot and keep it to look up your dossier.'))
    : h('div', { class: 'notice bad', role: 'alert', 'data-test': 'print-error' },
      h('p', {}, T('Hồ sơ đã được lưu, nhưng chưa in được giấy hẹn: ', 'The dossier is saved, but the receipt could not be printed: '), msg(r.print_error || {})),
      h('p', {}, T('Ông/bà ghi lại hai mã trên màn hình, hoặc bấm "In lại giấy hẹn".', 'Write down both codes on the screen, or touch "Print again".')),
      h('button', { type: 'button', class: 'act', onclick: async (ev) => {
        const b = ev.currentTarget;
        b.disabled = true;
        try { await api.reprint(d.code, d.lookup_code); r.printed = true; render(); } catch (e) { b.disabled = false; b.after(problem(e)); }
      } }, T('In lại giấy hẹn', 'Print again')));
  mount(main, h('h2', {}, T('Nộp hồ sơ thành công', 'Dossier filed')), steps,
    h('div', { class: 'notice ok', 'data-test': 'filed' }, h('dl', { class: 'kv' },
      h('dt', {}, T('Mã hồ sơ', 'Dossier code')), h('dd', { 'data-test': 'filed-code' }, d.code),
      h('dt', {}, T('Mã tra cứu', 'Lookup code')), h('dd', { 'data-test': 'filed-lookup' }, d.lookup_code),
      h('dt', {}, T('Ngày hẹn trả kết quả', 'Appointment')), h('dd', {}, dateVi(d.appointment)))),
    printedNote,
    backBar());
}

// ---------- rating ----------
function rate(main) {
  const out = h('div', { 'aria-live': 'polite' });
  const d = state.rateFor;
  const counter = h('select', { id: 'k-counter', style: 'min-height:64px;font-size:1.2rem;padding:0 .6rem' },
    SERVICES.map((s) => h('option', { value: s.counter }, T(`Quầy ${s.counter}`, `Counter ${s.counter}`))));
  const number = h('input', { type: 'text', id: 'k-ticket', inputmode: 'numeric', autocomplete: 'off', maxlength: 5,
    style: 'min-height:64px;font-size:1.2rem;width:8rem' });
  let sending = false;  // one rating per tap: a second tap while the first is on its way does nothing
  async function send(level) {
    if (sending) return;
    sending = true;
    try {
      // The node picks the clerk: who received the dossier, or who handled that ticket
      // today. A ticket is rated once, and only once it was served.
      if (d) await api.rateDossier(d.code, d.lookup_code, level);
      else {
        const n = Number(number.value.trim());
        if (!Number.isInteger(n) || n < 1) {
          out.replaceChildren(h('p', { class: 'notice bad', role: 'alert' },
            T('Ông/bà nhập số thứ tự in trên phiếu.', 'Enter the number printed on your ticket.')));
          number.focus();
          sending = false;
          return;
        }
        await api.rateVisit(counter.value, n, level);
      }
      mount(main, h('h2', {}, T('Cảm ơn ông/bà đã đánh giá!', 'Thank you for your rating!')),
        h('p', { class: 'notice ok', 'data-test': 'rated' }, T('Ý kiến của ông/bà đã được ghi nhận: ', 'Recorded: ') + T(...RATING[level])), backBar());
    } catch (e) { out.replaceChildren(problem(e)); sending = false; }
  }
  const faces = { satisfied: '😊', acceptable: '😐', unsatisfied: '☹️' };
  mount(main, h('h2', {}, T('Đánh giá mức độ hài lòng', 'Rate our service')),
    d ? h('p', {}, T('Hồ sơ ', 'Dossier '), h('strong', {}, d.code)) : [h('label', { for: 'k-counter' }, T('Quầy đã phục vụ ông/bà', 'Counter that served you')), counter,
      h('label', { for: 'k-ticket' }, T('Số thứ tự trên phiếu', 'Number on your ticket')), number],
    h('p', {}, T('Ông/bà thấy việc phục vụ thế nào?', 'How were you served?')),
    h('div', { class: 'rate' }, Object.keys(RATING).map((k) => h('button', { type: 'button', class: k, 'data-level': k, onclick: () => send(k) },
      h('span', { class: 'face', 'aria-hidden': 'true' }, faces[k]), T(...RATING[k])))),
    out, backBar());
}

// What this kiosk's node has (printer, scanner); asked once, harmless if it fails.
let kioskInfo = null;
api.info().then((i) => { kioskInfo = i; }).catch(() => {});

render();

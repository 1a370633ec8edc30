// The clerks' app: sign in, counter desk, intake, worklists, dossier page,
// reports, and a sync indicator that reads the node's real sync status.
// Plain DOM, hash routes (#/desk, #/intake, #/work/today, #/dossier/<id>, #/reports).
import './clerk.css';
import * as api from '../common/api.js';
import { h, mount, dateVi, money, nextId } from '../common/dom.js';
import { T, msg, getLang, setLang, statusName, roleName, RATING, processingTime, feeText } from '../common/i18n.js';
import { matches } from '../common/fold.js';
import { parseCccd } from '../common/cccd.js';
import { barChart, stackedBars } from './charts.js';

const app = document.getElementById('app');
let me = null; // {username, display_name, role}
let office = '';

// What each role may do (mirrors the node's rules; the node refuses the rest anyway).
const CAN = {
  desk: ['clerk', 'leader'],
  intake: ['clerk', 'leader'],
  work: ['clerk', 'specialist', 'leader'],
  reports: ['leader', 'it_admin'],
};
const can = (what) => !!me && CAN[what].includes(me.role);
const TRANSITIONS = [
  { action: 'start', from: ['received'], roles: ['specialist', 'leader'], vi: 'Bắt đầu xử lý', en: 'Start' },
  { action: 'request_supplement', from: ['in_progress'], roles: ['specialist', 'leader'], note: true, vi: 'Yêu cầu bổ sung', en: 'Request supplement' },
  { action: 'resume', from: ['supplement_requested'], roles: ['clerk', 'specialist', 'leader'], vi: 'Đã nhận bổ sung, tiếp tục', en: 'Resume' },
  { action: 'approve', from: ['in_progress'], roles: ['leader'], vi: 'Phê duyệt', en: 'Approve' },
  { action: 'reject', from: ['in_progress'], roles: ['leader'], note: true, vi: 'Từ chối', en: 'Reject' },
  { action: 'return', from: ['approved', 'rejected'], roles: ['clerk', 'leader'], vi: 'Trả kết quả', en: 'Return result' },
  { action: 'cancel', from: ['received', 'in_progress', 'supplement_requested'], roles: ['clerk', 'leader'], note: true, vi: 'Hủy hồ sơ', en: 'Cancel' },
];

// ---------- shell ----------

function route() {
  const parts = location.hash.replace(/^#\/?/, '').split('/').filter(Boolean);
  return { name: parts[0] || '', arg: decodeURIComponent(parts[1] || '') };
}

function defaultRoute() {
  if (can('desk')) return 'desk';
  if (can('work')) return 'work';
  if (can('reports')) return 'reports';
  return 'sync';
}

async function start() {
  try {
    const hz = await api.health();
    office = hz?.office_name || hz?.office?.name || (typeof hz?.office === 'string' ? hz.office : '') || '';
  } catch { /* shown by the sync indicator */ }
  try { me = await api.currentSession(); if (!me.role) me = null; } catch { me = null; }
  render();
}

window.addEventListener('hashchange', () => render());

function render() {
  document.title = T('Bộ phận Một cửa', 'One-stop desk') + (office ? ' — ' + office : '');
  if (!me) return mount(app, signInView());
  const r = route();
  let name = r.name;
  if (!name || (CAN[name] && !can(name))) name = defaultRoute();
  const main = h('main', { id: 'main' });
  mount(app, headerView(), navView(name), main);
  const views = { desk: deskView, intake: intakeView, work: workView, dossier: dossierView, reports: reportsView };
  (views[name] || views[defaultRoute()])(main, r.arg);
}

function headerView() {
  return h('header', { class: 'top' },
    h('h1', {}, T('Bộ phận Một cửa', 'One-stop desk'), office ? ' · ' + office : ''),
    syncIndicator(),
    h('span', { class: 'spacer' }),
    h('span', { 'data-test': 'who' }, `${me.display_name} (${roleName(me.role)})`),
    h('button', {
      type: 'button', lang: getLang() === 'vi' ? 'en' : 'vi',
      onclick: () => { setLang(getLang() === 'vi' ? 'en' : 'vi'); render(); },
    }, getLang() === 'vi' ? 'English' : 'Tiếng Việt'),
    h('button', { type: 'button', onclick: doSignOut }, T('Đăng xuất', 'Sign out')),
  );
}

function navView(current) {
  const items = [
    ['desk', T('Quầy tiếp dân', 'Counter desk')],
    ['intake', T('Tiếp nhận hồ sơ', 'Intake')],
    ['work', T('Danh sách hồ sơ', 'Worklists')],
    ['reports', T('Báo cáo', 'Reports')],
  ].filter(([k]) => can(k));
  return h('nav', { class: 'menu', 'aria-label': T('Chức năng', 'Functions') },
    items.map(([k, label]) => h('a', { href: '#/' + k, 'aria-current': k === current ? 'page' : null }, label)));
}

// ---------- sync indicator ----------

let syncEl = null, syncTimer = 0, lastSync = null;
function syncIndicator() {
  syncEl = h('span', { class: 'sync', role: 'status', 'aria-live': 'polite', 'data-test': 'sync' });
  paintSync();
  if (!syncTimer) { pollSync(); syncTimer = setInterval(pollSync, 10000); }
  return syncEl;
}
async function pollSync() {
  try { lastSync = { ok: true, s: await api.syncStatus() }; } catch (e) {
    lastSync = { ok: false, e };
    // The session ran out while the desk was left alone: back to sign-in (drafts are kept).
    if (e.status === 401 && me) { me = null; render(); return; }
  }
  paintSync();
}
export function syncFigures(s) {
  // /sync/status: peers [{connected, ...}] and unacknowledged_by_upstream {peer, changes}.
  const connected = Array.isArray(s?.peers) && s.peers.some((p) => p.connected || p.state === 'connected');
  const pending = s?.unacknowledged_by_upstream?.changes;
  return { connected, pending: pending === undefined ? null : Number(pending) };
}
function paintSync() {
  if (!syncEl) return;
  let cls = 'sync', text;
  if (!lastSync) text = T('Đang kiểm tra đồng bộ…', 'Checking sync…');
  else if (!lastSync.ok && lastSync.e.network) { cls += ' off'; text = T('Mất kết nối với máy chủ phường', 'Ward server unreachable'); }
  else if (!lastSync.ok) { cls += ' off'; text = T('Không đọc được trạng thái đồng bộ', 'Sync status unavailable'); }
  else {
    const { connected, pending } = syncFigures(lastSync.s);
    cls += connected ? ' on' : ' off';
    text = (connected ? T('Đã kết nối cấp trên', 'Connected upstream') : T('Ngoại tuyến', 'Offline')) +
      (pending === null ? '' : ' · ' + T(`${pending} thay đổi chưa được cấp trên xác nhận`, `${pending} changes not yet acknowledged upstream`));
  }
  syncEl.className = cls;
  syncEl.replaceChildren(h('span', { class: 'dot', 'aria-hidden': 'true' }), text);
}

// ---------- sign in / out ----------

function signInView() {
  const err = h('div', { role: 'alert' });
  const user = h('input', { type: 'text', id: 'username', name: 'username', autocomplete: 'username', required: true });
  const pass = h('input', { type: 'password', id: 'password', name: 'password', autocomplete: 'current-password', required: true });
  const btn = h('button', { class: 'btn', type: 'submit' }, T('Đăng nhập', 'Sign in'));
  const form = h('form', {
    class: 'card', onsubmit: async (ev) => {
      ev.preventDefault();
      btn.disabled = true; err.replaceChildren();
      try {
        me = await api.signIn(user.value.trim(), pass.value);
        if (!me.role) me = await api.currentSession();
        location.hash = '#/' + defaultRoute();
        render();
      } catch (e) {
        err.replaceChildren(h('p', { class: 'notice bad' }, e.status === 401 || e.status === 400
          ? T('Sai tên đăng nhập hoặc mật khẩu.', 'Wrong username or password.') + (msg(e) ? ' ' + msg(e) : '')
          : msg(e)));
        btn.disabled = false;
      }
    },
  },
  h('h2', {}, T('Đăng nhập', 'Sign in')),
  h('label', { for: 'username' }, T('Tên đăng nhập', 'Username')), user,
  h('label', { for: 'password' }, T('Mật khẩu', 'Password')), pass,
  err, h('p', {}, btn));
  return h('main', { class: 'signin', id: 'main' },
    h('h1', {}, T('Bộ phận Một cửa', 'One-stop desk'), office ? h('div', { style: 'font-size:1rem;font-weight:400' }, office) : ''),
    form,
    h('p', {}, h('button', { type: 'button', class: 'btn secondary', lang: getLang() === 'vi' ? 'en' : 'vi', onclick: () => { setLang(getLang() === 'vi' ? 'en' : 'vi'); render(); } },
      getLang() === 'vi' ? 'English' : 'Tiếng Việt')));
}

async function doSignOut() {
  try { await api.signOut(); } catch { /* the session ends on our side regardless */ }
  me = null;
  location.hash = '';
  render();
}

// Shows an error; if the session expired, back to sign-in (the draft is in localStorage).
function failure(e) {
  if (e.status === 401) { me = null; render(); }
  return h('p', { class: 'notice bad', role: 'alert' }, msg(e));
}

// ---------- counter desk ----------

function deskView(main) {
  let counter = localStorage.getItem('wardsync.counter') || '1';
  const status = h('div', { 'aria-live': 'polite' });
  const out = h('div', { role: 'status' });
  const counterInput = h('input', { type: 'text', id: 'counter', value: counter, maxlength: 8, style: 'max-width:8rem', pattern: '[A-Za-z0-9]{1,8}' });
  counterInput.addEventListener('change', () => { counter = counterInput.value.trim(); localStorage.setItem('wardsync.counter', counter); refresh(); });
  let current = null;

  async function refresh() {
    try {
      const qs = await api.queue(counter);
      current = qs.current || null;
      status.replaceChildren(
        h('div', { class: 'row' },
          h('div', {}, h('div', {}, T('Đang phục vụ', 'Now serving')),
            h('div', { class: 'bignum', 'data-test': 'current' }, current ? String(current.number) : '—')),
          h('div', {}, h('div', {}, T('Đang chờ', 'Waiting')),
            h('div', { class: 'bignum', 'data-test': 'waiting' }, String(qs.waiting ?? 0)))));
      for (const b of [recallBtn, skipBtn, serveBtn]) b.disabled = !current;
    } catch (e) { status.replaceChildren(failure(e)); }
  }
  async function act(fn) {
    out.replaceChildren();
    try { const t = await fn(); if (t?.number) out.replaceChildren(h('p', { class: 'notice ok' }, T(`Số ${t.number}: `, `Number ${t.number}: `) + ticketState(t.state))); }
    catch (e) { out.replaceChildren(e.status === 409 ? h('p', { class: 'notice' }, msg(e)) : failure(e)); }
    refresh();
  }
  const nextBtn = h('button', { class: 'btn', type: 'button', onclick: () => act(() => api.callNext(counter)) }, T('Gọi số tiếp theo', 'Call next'));
  const recallBtn = h('button', { class: 'btn secondary', type: 'button', onclick: () => act(() => api.ticketAction(current.id, 'recall')) }, T('Gọi lại', 'Recall'));
  const skipBtn = h('button', { class: 'btn secondary', type: 'button', onclick: () => act(() => api.ticketAction(current.id, 'skip')) }, T('Bỏ qua', 'Skip'));
  const serveBtn = h('button', { class: 'btn secondary', type: 'button', onclick: () => act(() => api.ticketAction(current.id, 'serve')) }, T('Đã phục vụ xong', 'Served'));
  mount(main,
    h('h2', {}, T('Quầy tiếp dân', 'Counter desk')),
    h('div', { class: 'card' },
      h('label', { for: 'counter' }, T('Quầy của tôi', 'My counter')), counterInput,
      status,
      h('div', { class: 'row', style: 'margin-top:1rem' }, nextBtn, recallBtn, skipBtn, serveBtn),
      out));
  refresh();
}
const ticketState = (s) => ({ issued: T('đã phát', 'issued'), called: T('đang gọi', 'called'), served: T('đã phục vụ', 'served'), skipped: T('đã bỏ qua', 'skipped') }[s] || s);

// ---------- intake ----------

const DRAFT = 'wardsync.intake.draft';
const loadDraft = () => { try { return JSON.parse(localStorage.getItem(DRAFT)) || {}; } catch { return {}; } };

let procCache = null;
async function allProcedures() {
  if (!procCache) procCache = await api.procedures();
  return procCache;
}

function intakeView(main) {
  const d = Object.assign({ procedure_code: '', components: [], name: '', cccd: '', dob: '', phone: '', address: '', note: '', qr: '', verified: false }, loadDraft());
  const save = () => localStorage.setItem(DRAFT, JSON.stringify(d));
  const fieldErr = {};
  const inputs = {};

  function field(key, apiField, vi, en, attrs = {}) {
    const id = 'in-' + key;
    const errId = id + '-err';
    const input = h(attrs.multiline ? 'textarea' : 'input', {
      id, name: key, type: attrs.multiline ? null : (attrs.type || 'text'), value: d[key], inputmode: attrs.inputmode,
      autocomplete: 'off', 'aria-describedby': errId, maxlength: attrs.maxlength,
      oninput: () => { d[key] = input.value; save(); },
    });
    inputs[apiField] = input;
    fieldErr[apiField] = h('p', { class: 'field-error', id: errId, 'data-field': apiField });
    return [h('label', { for: id }, T(vi, en), attrs.required ? ' *' : ''), input, fieldErr[apiField]];
  }

  const search = h('input', { type: 'search', id: 'proc-search', placeholder: T('Gõ tên thủ tục, có dấu hoặc không dấu', 'Type a procedure name, with or without accents') });
  const list = h('ul', { class: 'proclist', id: 'proc-list', 'aria-label': T('Thủ tục', 'Procedures') });
  const checklist = h('div');
  const procErr = h('p', { class: 'field-error', 'data-field': 'procedure_code' });
  fieldErr.procedure_code = procErr;
  const qrInput = h('input', { type: 'text', id: 'cccd-qr', value: d.qr, autocomplete: 'off', oninput: () => { d.qr = qrInput.value; save(); } });
  const qrMsg = h('div', { role: 'status' });
  const result = h('div', { 'aria-live': 'polite' });
  const saveBtn = h('button', { class: 'btn', type: 'submit' }, T('Lưu hồ sơ', 'Save dossier'));

  let procs = [];
  function paintList() {
    const found = procs.filter((p) => matches(`${p.name_vi} ${p.code} ${p.field_vi || ''}`, search.value)).slice(0, 50);
    list.replaceChildren(...found.map((p) => h('li', {}, h('label', {},
      h('input', { type: 'radio', name: 'procedure', value: p.code, checked: p.code === d.procedure_code,
        onchange: () => { d.procedure_code = p.code; d.components = []; save(); paintChecklist(); } }),
      h('span', {}, p.name_vi, h('small', {}, ` · ${p.field_vi || ''} · ${processingTime(p)}`))))));
    if (!found.length) list.replaceChildren(h('li', {}, h('span', { style: 'padding:.4rem .6rem;display:block' }, T('Không có thủ tục phù hợp.', 'No matching procedure.'))));
  }
  async function paintChecklist() {
    if (!d.procedure_code) return checklist.replaceChildren(h('p', {}, T('Chưa chọn thủ tục.', 'No procedure chosen.')));
    let p;
    try { p = await api.procedure(d.procedure_code); } catch (e) { return checklist.replaceChildren(failure(e)); }
    if (p.code !== d.procedure_code) return;
    checklist.replaceChildren(
      h('p', {}, h('strong', {}, p.name_vi), ' — ', T('Thời hạn', 'Time'), ': ', processingTime(p), '; ', T('Lệ phí', 'Fee'), ': ', feeText(p)),
      h('fieldset', {}, h('legend', {}, T('Thành phần hồ sơ đã nhận', 'Papers received')),
        h('ul', { class: 'checklist' }, (p.components || []).map((c) => h('li', {}, h('label', {},
          h('input', { type: 'checkbox', checked: d.components.includes(c.name_vi), onchange: (ev) => {
            d.components = ev.target.checked ? [...new Set([...d.components, c.name_vi])] : d.components.filter((x) => x !== c.name_vi);
            save();
          } }),
          h('span', {}, c.name_vi, c.mandatory === false ? h('em', {}, ' (' + T('nếu có', 'if any') + ')') : '')))))));
  }
  search.addEventListener('input', paintList);

  function fillFromQr() {
    const r = parseCccd(qrInput.value);
    if (!r.ok) return qrMsg.replaceChildren(h('p', { class: 'notice bad' }, T(r.message_vi, r.message_en)));
    const v = r.value;
    Object.assign(d, { name: v.name, cccd: v.cccd, dob: v.dob, address: v.address });
    for (const [k, f] of [['name', 'applicant.name'], ['cccd', 'applicant.cccd'], ['dob', 'applicant.dob'], ['address', 'applicant.address']]) inputs[f].value = d[k];
    save();
    qrMsg.replaceChildren(h('p', { class: 'notice' }, T('Đã điền từ mã QR thẻ CCCD. ', 'Filled from the CCCD QR. '),
      h('span', { class: 'unverified' }, T('Chưa xác thực', 'Unverified')), T(': đối chiếu với thẻ gốc.', ': check against the card.')));
  }
  qrInput.addEventListener('keydown', (ev) => { if (ev.key === 'Enter') { ev.preventDefault(); fillFromQr(); } });

  const form = h('form', {
    novalidate: true, onsubmit: async (ev) => {
      ev.preventDefault();
      for (const el of Object.values(fieldErr)) el.replaceChildren();
      for (const el of Object.values(inputs)) el.removeAttribute('aria-invalid');
      result.replaceChildren();
      saveBtn.disabled = true;
      try {
        const body = {
          applicant: { name: d.name.trim(), cccd: d.cccd.trim(), dob: d.dob, phone: d.phone.trim(), address: d.address.trim() },
          procedure_code: d.procedure_code, channel: 'counter', components: d.components, note: d.note,
        };
        const dos = await api.createDossier(body);
        localStorage.removeItem(DRAFT);
        const saved = (x) => mount(main, h('h2', {}, T('Đã tiếp nhận hồ sơ', 'Dossier received')), receiptCard(x),
          deskTools(x, saved),
          h('p', { class: 'row' },
            h('a', { class: 'btn', href: '#/dossier/' + encodeURIComponent(x.id) }, T('Xem hồ sơ', 'Open dossier')),
            h('button', { class: 'btn secondary', type: 'button', onclick: () => intakeView(main) }, T('Tiếp nhận hồ sơ khác', 'Take in another'))));
        saved(dos);
      } catch (e) {
        saveBtn.disabled = false;
        const lines = [];
        for (const f of e.fields || []) {
          const target = fieldErr[f.field] || fieldErr[f.field?.replace(/^applicant\./, 'applicant.')];
          if (target) { target.textContent = T(f.message_vi, f.message_en); inputs[f.field]?.setAttribute('aria-invalid', 'true'); }
          else lines.push(T(f.message_vi, f.message_en));
        }
        result.replaceChildren(h('div', { class: 'notice bad', role: 'alert' },
          T('Chưa lưu được hồ sơ. ', 'The dossier was not saved. ') + msg(e),
          e.fields?.length ? ' ' + T('Hãy sửa các ô được đánh dấu; những gì đã nhập vẫn còn nguyên.', 'Fix the marked fields; what you typed is kept.') : '',
          lines.length ? h('ul', {}, lines.map((l) => h('li', {}, l))) : ''));
        if (e.status === 401) result.append(h('p', {}, T('Phiên đăng nhập đã hết hạn: hãy đăng nhập lại, bản nháp vẫn được giữ.', 'Your session expired: sign in again, the draft is kept.')));
        const first = e.fields?.map((f) => inputs[f.field]).find(Boolean);
        first?.focus();
      }
    },
  },
  h('div', { class: 'card' },
    h('h3', {}, T('1. Thủ tục', '1. Procedure')),
    h('label', { for: 'proc-search' }, T('Tìm thủ tục', 'Find a procedure')), search, list, procErr, checklist),
  h('div', { class: 'card' },
    h('h3', {}, T('2. Người nộp hồ sơ', '2. Applicant')),
    h('label', { for: 'cccd-qr' }, T('Mã QR thẻ CCCD (quét hoặc gõ)', 'CCCD card QR (scan or type)')),
    h('div', { class: 'row' }, qrInput, h('button', { class: 'btn secondary', type: 'button', onclick: fillFromQr }, T('Điền từ mã QR', 'Fill from QR'))),
    qrMsg,
    h('div', { class: 'grid2' },
      h('div', {}, field('name', 'applicant.name', 'Họ và tên', 'Full name', { required: true, maxlength: 160 })),
      h('div', {}, field('cccd', 'applicant.cccd', 'Số CCCD', 'CCCD number', { required: true, inputmode: 'numeric', maxlength: 12 })),
      h('div', {}, field('dob', 'applicant.dob', 'Ngày sinh', 'Date of birth', { type: 'date' })),
      h('div', {}, field('phone', 'applicant.phone', 'Số điện thoại', 'Phone', { type: 'tel', inputmode: 'tel' }))),
    field('address', 'applicant.address', 'Địa chỉ', 'Address'),
    field('note', 'note', 'Ghi chú', 'Note', { multiline: true })),
  result,
  h('p', {}, saveBtn));

  mount(main, h('h2', {}, T('Tiếp nhận hồ sơ', 'Intake')), form);
  allProcedures().then((p) => { procs = p; paintList(); paintChecklist(); })
    .catch((e) => list.replaceChildren(h('li', {}, failure(e))));
}

function receiptCard(dos) {
  return h('div', { class: 'card', 'data-test': 'receipt' },
    h('dl', { class: 'kv' },
      h('dt', {}, T('Mã hồ sơ', 'Dossier code')), h('dd', { 'data-test': 'code' }, dos.code),
      h('dt', {}, T('Mã tra cứu', 'Lookup code')), h('dd', { 'data-test': 'lookup' }, dos.lookup_code),
      h('dt', {}, T('Người nộp', 'Applicant')), h('dd', {}, dos.applicant?.name || ''),
      h('dt', {}, T('Thủ tục', 'Procedure')), h('dd', {}, dos.procedure?.name || dos.procedure_name || dos.procedure?.code),
      h('dt', {}, T('Ngày tiếp nhận', 'Received')), h('dd', {}, dateVi(dos.received_at)),
      h('dt', {}, T('Ngày hẹn trả kết quả', 'Appointment')), h('dd', { 'data-test': 'appointment' }, dateVi(dos.appointment))));
}

// Print the receipt slip, scan pages into the dossier, see the pages attached.
// The dossier is already saved: a printer or scanner fault is shown, never a loss.
function deskTools(d, repaint) {
  const out = h('div', { 'aria-live': 'polite' });
  const desk = ['clerk', 'leader'].includes(me.role);
  const labelId = nextId('scan-label');
  const labels = [...(d.components || []), T('Giấy tờ khác', 'Other paper')];
  const label = h('select', { id: labelId }, labels.map((l) => h('option', { value: l }, l)));
  const pages = d.attachments || [];
  const busy = async (btn, fn) => {
    out.replaceChildren();
    btn.disabled = true;
    try { await fn(); } catch (e) { out.replaceChildren(failure(e)); } finally { btn.disabled = false; }
  };
  return h('div', { class: 'card', 'data-test': 'desk-tools' },
    h('h3', {}, T('Giấy tờ đã quét', 'Scanned pages'), ` (${pages.length})`),
    pages.length ? h('ul', { class: 'pages', 'data-test': 'attachments' }, pages.map((a, i) => h('li', {},
      h('a', { href: api.attachmentUrl(d.id, a.hash), target: '_blank', rel: 'noopener' },
        h('img', { src: api.attachmentUrl(d.id, a.hash), alt: `${a.label} — ${T('trang', 'page')} ${i + 1}`, loading: 'lazy' })),
      h('span', {}, a.label)))) : h('p', {}, T('Chưa có trang nào.', 'No page yet.')),
    desk ? [
      h('div', { class: 'row' },
        h('label', { for: labelId }, T('Giấy tờ đang quét', 'Paper being scanned')), label,
        h('button', { class: 'btn secondary', type: 'button', onclick: (ev) => busy(ev.currentTarget, async () => {
          repaint(await api.scanInto(d.id, label.value));
        }) }, T('Quét và đính kèm', 'Scan and attach'))),
      h('div', { class: 'row', style: 'margin-top:.8rem' },
        h('button', { class: 'btn', type: 'button', onclick: (ev) => busy(ev.currentTarget, async () => {
          await api.printReceipt(d.id);
          out.replaceChildren(h('p', { class: 'notice ok', role: 'status', 'data-test': 'printed' }, T('Đã in giấy tiếp nhận và hẹn trả kết quả.', 'The receipt slip was printed.')));
        }) }, T('In giấy tiếp nhận', 'Print the receipt')))] : '',
    out);
}

// ---------- worklists ----------

function workView(main, arg) {
  const tabs = [
    ['mine', T('Của tôi', 'Mine'), ['specialist', 'leader'], () => ({ assignee: me.username })],
    ['today', T('Đến hạn hôm nay', 'Due today'), ['clerk', 'specialist', 'leader'], () => ({ due: 'today' })],
    ['late', T('Quá hạn', 'Late'), ['clerk', 'specialist', 'leader'], () => ({ due: 'late' })],
    ['leader', T('Chờ lãnh đạo', 'Awaiting a leader'), ['leader'], () => ({ status: 'in_progress' })],
    ['received', T('Mới tiếp nhận', 'Newly received'), ['clerk', 'specialist', 'leader'], () => ({ status: 'received' })],
  ].filter((t) => t[2].includes(me.role));
  const tab = tabs.find((t) => t[0] === arg) || tabs[0];
  const body = h('div', { 'aria-live': 'polite' }, T('Đang tải…', 'Loading…'));
  const searchBox = h('input', { type: 'search', id: 'dos-search', placeholder: T('Mã hồ sơ, số CCCD hoặc tên (không dấu cũng được)', 'Code, CCCD or name') });
  mount(main, h('h2', {}, T('Danh sách hồ sơ', 'Worklists')),
    h('div', { class: 'tabs', role: 'group', 'aria-label': T('Danh sách', 'Lists') },
      tabs.map(([k, label]) => h('button', { type: 'button', class: 'btn secondary', 'aria-pressed': String(k === tab[0]), onclick: () => { location.hash = '#/work/' + k; } }, label))),
    h('form', { class: 'row', role: 'search', onsubmit: async (ev) => {
      ev.preventDefault();
      body.replaceChildren(T('Đang tìm…', 'Searching…'));
      try { body.replaceChildren(dossierTable(await api.searchDossiers(searchBox.value.trim()))); } catch (e) { body.replaceChildren(failure(e)); }
    } }, h('label', { for: 'dos-search', class: 'sr-only' }, T('Tìm hồ sơ', 'Search dossiers')), searchBox,
    h('button', { class: 'btn', type: 'submit' }, T('Tìm', 'Search'))),
    body);
  // Pages of 50, "Xem thêm" follows the node's cursor.
  let shown = [];
  const page = (cursor) => api.dossiers({ ...tab[3](), cursor, limit: 50 }).then((r) => {
    shown = shown.concat(api.items(r));
    body.replaceChildren(dossierTable(shown), r?.next_cursor
      ? h('p', {}, h('button', { class: 'btn secondary', type: 'button', onclick: () => page(r.next_cursor) }, T('Xem thêm', 'More')))
      : '');
  }).catch((e) => body.replaceChildren(failure(e)));
  page('');
}

function dossierTable(list) {
  if (!list.length) return h('p', {}, T('Không có hồ sơ nào.', 'No dossiers.'));
  return h('table', {},
    h('thead', {}, h('tr', {}, [T('Mã hồ sơ', 'Code'), T('Người nộp', 'Applicant'), T('Thủ tục', 'Procedure'), T('Trạng thái', 'Status'), T('Hẹn trả', 'Due')].map((x) => h('th', { scope: 'col' }, x)))),
    h('tbody', {}, list.map((d) => h('tr', {},
      h('td', {}, h('a', { href: '#/dossier/' + encodeURIComponent(d.id) }, d.code)),
      h('td', {}, d.applicant?.name || ''),
      h('td', {}, d.procedure?.name || d.procedure_name || d.procedure?.code || d.procedure_code),
      h('td', {}, statusName(d.status), d.overdue ? h('span', { class: 'badge late' }, ' ' + T('Quá hạn', 'Late')) : ''),
      h('td', {}, dateVi(d.appointment))))));
}

// ---------- dossier page ----------

function dossierView(main, id) {
  mount(main, h('p', {}, T('Đang tải…', 'Loading…')));
  api.dossier(id).then((d) => paintDossier(main, d)).catch((e) => mount(main, failure(e)));
}

function paintDossier(main, d) {
  const out = h('div', { 'aria-live': 'polite' });
  const noteId = nextId('note');
  const note = h('textarea', { id: noteId, rows: 2 });
  const allowed = TRANSITIONS.filter((t) => t.from.includes(d.status) && t.roles.includes(me.role));
  const history = d.history || [];
  mount(main,
    h('h2', {}, T('Hồ sơ ', 'Dossier '), d.code),
    h('div', { class: 'card' },
      h('dl', { class: 'kv' },
        h('dt', {}, T('Trạng thái', 'Status')), h('dd', { 'data-test': 'status' }, statusName(d.status), d.overdue ? h('span', { class: 'badge late' }, ' ' + T('Quá hạn', 'Late')) : ''),
        h('dt', {}, T('Mã tra cứu', 'Lookup code')), h('dd', {}, d.lookup_code),
        h('dt', {}, T('Người nộp', 'Applicant')), h('dd', {}, h('span', { 'data-test': 'applicant' }, d.applicant?.name || ''),
          d.identity_verified === false ? [' ', h('span', { class: 'unverified', 'data-test': 'unverified' }, T('Chưa xác thực (từ mã QR CCCD tại kiosk)', 'Unverified (CCCD QR at the kiosk)'))] : ''),
        h('dt', {}, T('Số CCCD', 'CCCD')), h('dd', {}, d.applicant?.cccd || ''),
        d.applicant?.dob ? [h('dt', {}, T('Ngày sinh', 'Date of birth')), h('dd', {}, dateVi(d.applicant.dob))] : '',
        d.applicant?.phone ? [h('dt', {}, T('Điện thoại', 'Phone')), h('dd', {}, d.applicant.phone)] : '',
        h('dt', {}, T('Địa chỉ', 'Address')), h('dd', {}, d.applicant?.address || ''),
        h('dt', {}, T('Thủ tục', 'Procedure')), h('dd', {}, d.procedure?.name || d.procedure_name || d.procedure?.code || d.procedure_code),
        h('dt', {}, T('Kênh nộp', 'Channel')), h('dd', {}, { counter: T('Tại quầy', 'Counter'), kiosk: 'Kiosk', online: T('Trực tuyến', 'Online') }[d.channel] || d.channel),
        h('dt', {}, T('Tiếp nhận', 'Received')), h('dd', {}, dateVi(d.received_at), d.received_by ? ' · ' + d.received_by : ''),
        h('dt', {}, T('Hẹn trả', 'Appointment')), h('dd', {}, dateVi(d.appointment)),
        h('dt', {}, T('Người xử lý', 'Assignee')), h('dd', {}, d.assignee || '—'),
        d.fee_vnd ? [h('dt', {}, T('Lệ phí', 'Fee')), h('dd', {}, money(d.fee_vnd))] : '',
        d.apology ? [h('dt', {}, T('Phiếu xin lỗi, hẹn lại', 'Apology slip')), h('dd', {}, dateVi(d.apology.new_appointment), ' — ', d.apology.reason)] : ''),
      h('h3', {}, T('Thành phần hồ sơ', 'Papers')),
      (d.components || []).length ? h('ul', {}, d.components.map((c) => h('li', {}, c))) : h('p', {}, '—')),
    deskTools(d, (nd) => paintDossier(main, nd)),
    allowed.length ? h('div', { class: 'card' },
      h('h3', {}, T('Chuyển bước', 'Next step')),
      h('label', { for: noteId }, T('Ghi chú (bắt buộc khi yêu cầu bổ sung, từ chối hoặc hủy)', 'Note (required to request a supplement, reject or cancel)')), note,
      h('div', { class: 'row', style: 'margin-top:.6rem' }, allowed.map((t) => h('button', {
        class: 'btn' + (t.action === 'cancel' || t.action === 'reject' ? ' danger' : ''), type: 'button',
        onclick: async () => {
          out.replaceChildren();
          try { paintDossier(main, await api.transition(d.id, t.action, note.value)); }
          catch (e) { out.replaceChildren(failure(e), fieldList(e)); }
        },
      }, T(t.vi, t.en)))), out) : '',
    leaderTools(main, d),
    h('div', { class: 'card' }, h('h3', {}, T('Lịch sử xử lý', 'History')),
      history.length ? h('table', {},
        h('thead', {}, h('tr', {}, [T('Thời điểm', 'When'), T('Người thực hiện', 'By'), T('Thao tác', 'Action'), T('Ghi chú', 'Note')].map((x) => h('th', { scope: 'col' }, x)))),
        h('tbody', {}, history.map((e) => h('tr', {}, h('td', {}, dateVi(e.at)), h('td', {}, e.by), h('td', {}, actionName(e.action)), h('td', {}, e.note || '')))))
        : h('p', {}, '—')));
}
// Leader only: assign a specialist; an apology slip with a new date for an open dossier.
function leaderTools(main, d) {
  if (me.role !== 'leader') return '';
  const open = ['received', 'in_progress', 'supplement_requested'].includes(d.status);
  if (!open) return '';
  const out = h('div', { 'aria-live': 'polite' });
  const who = h('input', { type: 'text', id: 'assignee', value: d.assignee || '', autocomplete: 'off', style: 'max-width:16rem' });
  const date = h('input', { type: 'date', id: 'apology-date', style: 'max-width:12rem' });
  const reason = h('input', { type: 'text', id: 'apology-reason', autocomplete: 'off' });
  const run = async (fn) => { out.replaceChildren(); try { paintDossier(main, await fn()); } catch (e) { out.replaceChildren(failure(e), fieldList(e)); } };
  return h('div', { class: 'card' },
    h('h3', {}, T('Phân công', 'Assignment')),
    h('form', { class: 'row', onsubmit: (ev) => { ev.preventDefault(); run(() => api.assign(d.id, who.value.trim())); } },
      h('label', { for: 'assignee' }, T('Tên đăng nhập chuyên viên', 'Specialist username')), who,
      h('button', { class: 'btn secondary', type: 'submit' }, T('Phân công', 'Assign'))),
    d.apology ? '' : [
      h('h3', {}, T('Phiếu xin lỗi và hẹn lại', 'Apology slip with a new date')),
      h('form', { onsubmit: (ev) => { ev.preventDefault(); run(() => api.apologize(d.id, date.value, reason.value.trim())); } },
        h('label', { for: 'apology-date' }, T('Ngày hẹn mới', 'New date')), date,
        h('label', { for: 'apology-reason' }, T('Lý do', 'Reason')), reason,
        h('p', {}, h('button', { class: 'btn secondary', type: 'submit' }, T('Lập phiếu xin lỗi', 'Issue the apology slip'))))],
    out);
}
const fieldList = (e) => (e.fields?.length ? h('ul', { class: 'error' }, e.fields.map((f) => h('li', {}, T(f.message_vi, f.message_en)))) : '');

function actionName(a) {
  const t = TRANSITIONS.find((x) => x.action === a);
  if (t) return T(t.vi, t.en);
  return { received: T('Tiếp nhận', 'Received'), assign: T('Phân công', 'Assigned'), apology: T('Xin lỗi, hẹn lại', 'Apology') }[a] || a;
}

// ---------- reports ----------

function reportsView(main) {
  // Days are Vietnam's days (the node's), whatever time zone this PC is set to.
  const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Ho_Chi_Minh' }).format(new Date());
  const from = h('input', { type: 'date', id: 'rep-from', value: today.slice(0, 8) + '01' });
  const to = h('input', { type: 'date', id: 'rep-to', value: today });
  const body = h('div', { 'aria-live': 'polite' });
  async function load() {
    body.replaceChildren(T('Đang tải…', 'Loading…'));
    try { body.replaceChildren(...reportBody(await api.report(from.value, to.value))); }
    catch (e) { body.replaceChildren(failure(e)); }
  }
  mount(main, h('h2', {}, T('Báo cáo', 'Reports')),
    h('form', { class: 'row card', onsubmit: (ev) => { ev.preventDefault(); load(); } },
      h('div', {}, h('label', { for: 'rep-from' }, T('Từ ngày', 'From')), from),
      h('div', {}, h('label', { for: 'rep-to' }, T('Đến ngày', 'To')), to),
      h('div', { style: 'align-self:flex-end' }, h('button', { class: 'btn', type: 'submit' }, T('Xem báo cáo', 'Show')))),
    body);
  load();
}

const SERIES = [
  ['early', 'Trước hạn', 'Early', '#1b7f3b'],
  ['on_time', 'Đúng hạn', 'On time', '#2f6fb5'],
  ['late', 'Trễ hạn', 'Late', '#b3261e'],
  ['pending', 'Đang giải quyết', 'Pending', '#8a8a8a'],
];
function reportBody(r) {
  const t = r.totals || {};
  const rows = (list, keyName) => h('table', {},
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, keyName), ...[T('Tiếp nhận', 'Received'), ...SERIES.map((s) => T(s[1], s[2])), T('Quá hạn', 'Overdue')].map((x) => h('th', { scope: 'col', class: 'num' }, x)))),
    h('tbody', {}, (list || []).map((x) => h('tr', {}, h('td', {}, x.name || x.key || T('(chưa phân công)', '(unassigned)')),
      ...[x.received, ...SERIES.map((s) => x[s[0]]), x.overdue].map((v) => h('td', { class: 'num' }, String(v ?? 0)))))));
  const s = r.satisfaction || {};
  const satTotal = (s.satisfied || 0) + (s.acceptable || 0) + (s.unsatisfied || 0);
  const pct = (n) => (satTotal ? Math.round((1000 * n) / satTotal) / 10 : 0);
  const returned = (t.early || 0) + (t.on_time || 0) + (t.late || 0);
  const legend = () => h('div', { class: 'legend' }, SERIES.map((x) => h('span', { style: `--c:${x[3]}` }, T(x[1], x[2]))));
  const satColors = ['#1b7f3b', '#c18a00', '#b3261e'];
  return [
    h('div', { class: 'card' },
      h('h3', {}, T('Tổng hợp', 'Summary'), ` (${dateVi(r.from)} – ${dateVi(r.to)})`),
      h('dl', { class: 'kv' },
        h('dt', {}, T('Hồ sơ tiếp nhận', 'Received')), h('dd', { 'data-test': 'received' }, String(t.received ?? 0)),
        h('dt', {}, T('Đã trả kết quả', 'Returned')), h('dd', {}, String(returned)),
        h('dt', {}, T('Tỷ lệ đúng hạn (trước hạn + đúng hạn)', 'On time (early + on time)')), h('dd', {}, returned ? `${Math.round((1000 * ((t.early || 0) + (t.on_time || 0))) / returned) / 10} %` : '—'),
        h('dt', {}, T('Đang giải quyết / quá hạn', 'Pending / overdue')), h('dd', {}, `${t.pending ?? 0} / ${t.overdue ?? 0}`))),
    h('div', { class: 'card' },
      h('h3', {}, T('Theo thủ tục', 'By procedure')), legend(),
      stackedBars((r.by_procedure || []).map((x) => ({ label: x.name || x.key, values: SERIES.map((sr) => [x[sr[0]] || 0, sr[3]]) })), T('Biểu đồ hồ sơ theo thủ tục', 'Dossiers by procedure')),
      rows(r.by_procedure, T('Thủ tục', 'Procedure'))),
    h('div', { class: 'card' },
      h('h3', {}, T('Theo cán bộ', 'By clerk')), legend(),
      stackedBars((r.by_clerk || []).map((x) => ({ label: x.key || T('(chưa phân công)', '(unassigned)'), values: SERIES.map((sr) => [x[sr[0]] || 0, sr[3]]) })), T('Biểu đồ hồ sơ theo cán bộ', 'Dossiers by clerk')),
      rows(r.by_clerk, T('Cán bộ', 'Clerk'))),
    h('div', { class: 'card', 'data-test': 'satisfaction' },
      h('h3', {}, T('Mức độ hài lòng', 'Satisfaction'), ` (${satTotal} ${T('lượt đánh giá', 'ratings')})`),
      barChart(Object.keys(RATING).map((k, i) => ({ label: T(...RATING[k]), value: s[k] || 0, color: satColors[i] })), T('Biểu đồ mức độ hài lòng', 'Satisfaction chart')),
      h('table', {}, h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, T('Mức', 'Level')), h('th', { scope: 'col', class: 'num' }, T('Số lượt', 'Count')), h('th', { scope: 'col', class: 'num' }, '%'))),
        h('tbody', {}, Object.keys(RATING).map((k) => h('tr', { 'data-level': k }, h('td', {}, T(...RATING[k])), h('td', { class: 'num' }, String(s[k] || 0)), h('td', { class: 'num' }, `${pct(s[k] || 0)} %`))))),
      (r.satisfaction_by_clerk || []).length ? h('table', { style: 'margin-top:.8rem' },
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, T('Cán bộ', 'Clerk')), ...Object.keys(RATING).map((k) => h('th', { scope: 'col', class: 'num' }, T(...RATING[k]))))),
        h('tbody', {}, r.satisfaction_by_clerk.map((c) => h('tr', {}, h('td', {}, c.clerk || c.key || c[0] || ''), ...Object.keys(RATING).map((k) => h('td', { class: 'num' }, String((c.satisfaction || c[1] || c)[k] || 0))))))) : ''),
  ];
}

start();

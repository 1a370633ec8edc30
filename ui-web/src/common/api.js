// The node's JSON API (/api/v1), one function per call, so the apps never build
// URLs themselves. Errors arrive as ApiError with the server's Vietnamese and
// English messages and its field errors ({field, code, message_vi, message_en}).
const BASE = '/api/v1';
const CSRF_KEY = 'wardsync.csrf';

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message_en || `HTTP ${status}`);
    this.status = status;
    this.code = body?.error || '';
    this.message_vi = body?.message_vi || '';
    this.message_en = body?.message_en || '';
    this.fields = Array.isArray(body?.fields) ? body.fields : [];
  }
  get network() { return this.status === 0; }
}

const NETWORK = {
  error: 'network',
  message_vi: 'Không kết nối được với máy chủ của phường. Những gì bạn đã nhập vẫn được giữ nguyên; hãy thử lại.',
  message_en: 'Cannot reach the ward server. What you typed is kept; please try again.',
};

export function csrf() { return sessionStorage.getItem(CSRF_KEY) || ''; }
export function setCsrf(token) {
  if (token) sessionStorage.setItem(CSRF_KEY, token);
  else sessionStorage.removeItem(CSRF_KEY);
}

// background: the app's own polling, which must not keep an idle session alive.
export async function call(method, path, body, { timeoutMs = 15000, background = false } = {}) {
  const headers = { Accept: 'application/json' };
  if (background) headers['X-Background'] = '1';
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && csrf() && !path.startsWith('/kiosk')) headers['X-CSRF-Token'] = csrf();
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), timeoutMs);
  let res;
  try {
    res = await fetch(BASE + path, {
      method, headers, credentials: 'same-origin', signal: ctl.signal,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, NETWORK);
  } finally {
    clearTimeout(timer);
  }
  let data = null;
  const text = await res.text().catch(() => '');
  if (text) { try { data = JSON.parse(text); } catch { data = null; } }
  if (!res.ok) {
    throw new ApiError(res.status, data || {
      error: 'http_' + res.status,
      message_vi: `Máy chủ trả lời lỗi ${res.status}.`, message_en: `The server answered ${res.status}.`,
    });
  }
  return data;
}

const q = (params) => {
  const s = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) if (v !== undefined && v !== null && v !== '') s.set(k, v);
  const t = s.toString();
  return t ? '?' + t : '';
};
const enc = encodeURIComponent;
// List answers come as {items: [...]} or a bare array.
export const items = (r, key = 'items') => (Array.isArray(r) ? r : r?.[key] || r?.items || []);

// Sessions (cookie + X-CSRF-Token).
function sessionOf(r) {
  const token = r?.csrf_token || r?.csrf || r?.session?.csrf_token || r?.session?.csrf;
  if (token) setCsrf(token);
  const c = r?.user || r?.clerk || r?.session?.clerk || r || {};
  return { username: c.username, display_name: c.display_name || c.username, role: c.role };
}
export const signIn = async (username, password) => sessionOf(await call('POST', '/sessions', { username, password }));
export const currentSession = async () => sessionOf(await call('GET', '/sessions/current'));
export const signOut = () => call('DELETE', '/sessions/current').finally(() => setCsrf(''));

export const health = () => call('GET', '/health');
export const syncStatus = () => call('GET', '/sync/status', undefined, { background: true });

export const procedures = async (query) => items(await call('GET', '/procedures' + q({ q: query })), 'procedures');
// The list carries no papers; the detail does. Details are cached for the page's life.
const procDetail = new Map();
export const procedure = async (code) => {
  if (!procDetail.has(code)) procDetail.set(code, await call('GET', '/procedures/' + enc(code)));
  return procDetail.get(code);
};

export const createDossier = (input) => call('POST', '/dossiers', input);
export const dossier = (id) => call('GET', '/dossiers/' + enc(id));
export const dossiers = (filter) => call('GET', '/dossiers' + q(filter));
export const searchDossiers = async (query) => items(await call('GET', '/dossiers/search' + q({ q: query })));
export const transition = (id, action, note) => call('POST', `/dossiers/${enc(id)}/transitions`, { action, note });
export const assign = (id, assignee) => call('POST', `/dossiers/${enc(id)}/assignment`, { assignee });
export const apologize = (id, new_appointment, reason) => call('POST', `/dossiers/${enc(id)}/apology`, { new_appointment, reason });

export const queue = (counter) => call('GET', '/queues/' + enc(counter));
export const issueTicket = (counter) => call('POST', '/tickets', { counter });
export const callNext = (counter) => call('POST', `/queues/${enc(counter)}/call-next`);
export const ticketAction = (id, action) => call('POST', `/tickets/${enc(id)}/actions`, { action });

export const rate = (input) => call('POST', '/ratings', input);
export const report = (from, to) => call('GET', '/reports' + q({ from, to }));

// Peripherals (clerks): print a dossier's receipt slip or a ticket, scan pages into a dossier.
export const peripherals = () => call('GET', '/peripherals');
export const printReceipt = (id) => call('POST', `/dossiers/${enc(id)}/receipt`, {});
export const printTicket = (id) => call('POST', `/tickets/${enc(id)}/print`, {});
export const scanInto = (id, label) => call('POST', `/dossiers/${enc(id)}/attachments/scan`, { label }, { timeoutMs: 120000 });
export const attachmentUrl = (id, hash) => `${BASE}/dossiers/${enc(id)}/attachments/${enc(hash)}`;

// Kiosk: the node's narrow endpoints under /kiosk, no clerk session (and no CSRF
// token, so a clerk signed in on the same browser lends the kiosk nothing).
const kcall = (method, path, body, opts) => call(method, '/kiosk' + path, body, opts);
export const kiosk = {
  info: () => kcall('GET', ''),
  procedures: (query) => procedures(query),
  procedure: (code) => procedure(code),
  ticket: (counter) => kcall('POST', '/tickets', { counter }),
  // code + lookup code, or the receipt QR text ("WS1|code|lookup") as read.
  lookup: (code, lookup_code) => kcall('POST', '/lookup', { code, lookup_code }),
  lookupQr: (qr) => kcall('POST', '/lookup', { qr }),
  reprint: (code, lookup_code) => kcall('POST', '/receipts', { code, lookup_code }),
  scan: () => kcall('POST', '/scans', undefined, { timeoutMs: 120000 }),
  startFiling: (input) => kcall('POST', '/filings', input),
  confirmFiling: (id, confirm_code) => kcall('POST', `/filings/${enc(id)}/confirm`, { confirm_code }),
  rateDossier: (code, lookup_code, level) => kcall('POST', '/ratings', { code, lookup_code, level }),
  rateVisit: (counter, number, level) => kcall('POST', '/ratings', { counter, number, level }),
  display: (counters) => kcall('GET', '/display' + q({ counters: counters.join(',') })),
};

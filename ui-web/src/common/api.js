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

export async function call(method, path, body, { timeoutMs = 15000 } = {}) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && csrf()) headers['X-CSRF-Token'] = csrf();
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
export const syncStatus = () => call('GET', '/sync/status');

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

// Kiosk. The node is meant to give the kiosk narrow, unauthenticated, rate-limited
// endpoints under /kiosk (DESIGN.md). Until it does (a 404 for the path), the kiosk
// falls back to the staff API under the session of a kiosk account signed in once
// by the IT officer, and shows a citizen only the one dossier whose code AND lookup
// code match.
// Whether the node has them is asked once, with a body-less GET.
let kioskApi = null;
async function hasKioskApi() {
  if (kioskApi === null) {
    try { await call('GET', '/kiosk'); kioskApi = true; } catch (e) {
      if (e.network) throw e;
      kioskApi = !(e.status === 404 && e.code === 'not_found');
    }
  }
  return kioskApi;
}
async function kioskCall(method, path, body, fallback) {
  return (await hasKioskApi()) ? call(method, '/kiosk' + path, body) : fallback();
}
const sameCode = (a, b) => String(a || '').trim().toUpperCase() === String(b || '').trim().toUpperCase();
export const kiosk = {
  procedures: (query) => procedures(query),
  procedure: (code) => procedure(code),
  ticket: (counter) => kioskCall('POST', '/tickets', { counter }, () => issueTicket(counter)),
  lookup: (code, lookup_code) => kioskCall('POST', '/lookup', { code, lookup_code }, async () => {
    const found = (await searchDossiers(code.trim())).find((d) => sameCode(d.code, code) && sameCode(d.lookup_code, lookup_code));
    if (!found) throw new ApiError(404, { error: 'not_found', message_vi: 'Không tìm thấy hồ sơ với mã và mã tra cứu này.', message_en: 'No dossier with this code and lookup code.' });
    // Only what the citizen needs: never the applicant's personal data.
    return { id: found.id, code: found.code, status: found.status, procedure: found.procedure, appointment: found.appointment,
      due_date: found.due_date, overdue: found.overdue, received_at: found.received_at, received_by: found.received_by, apology: found.apology };
  }),
  file: (input) => kioskCall('POST', '/dossiers', input, () => createDossier(input)),
  rate: (input) => kioskCall('POST', '/ratings', input, () => rate(input)),
  counter: (counter) => kioskCall('GET', '/queues/' + enc(counter), undefined, () => queue(counter)),
  signIn, currentSession,
};

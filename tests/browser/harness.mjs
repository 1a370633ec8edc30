// Test harness for the browser tests: a real wardnode in a temporary data dir
// (demo office), the built web apps (ui-web/dist) on the node's origin, and
// Debian's chromium driven by playwright-core (never a downloaded browser).
//
// The node does not serve static files yet, so `startOrigin` puts a tiny static
// server in front of it: dist/ from disk, /api/ proxied to the node. Browser and
// apps see one origin, as they will when the node serves dist itself (then the
// harness uses the node directly: it probes GET /kiosk/ for HTML).
import { spawn, execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const dist = path.join(root, 'ui-web/dist');
const require = createRequire(path.join(root, 'ui-web/package.json'));
export const { chromium } = require('playwright-core');
export const axePath = require.resolve('axe-core/axe.min.js');
export const DEMO_PASSWORD = 'demo1234';
export const KIOSK_USER = 'kiosk1';
export const KIOSK_PASSWORD = 'kiosk-demo-1234';

export function findWardnode() {
  // An explicit WARDNODE is the only candidate: never test some other binary silently.
  const candidates = process.env.WARDNODE ? [process.env.WARDNODE]
    : [path.join(root, 'build/release/node/wardnode'), path.join(root, 'build-node/node/wardnode')];
  for (const c of candidates) {
    if (!fs.existsSync(c)) continue;
    try {
      const help = execFileSync(c, ['--help'], { encoding: 'utf8' });
      if (help.includes(' run ') && help.includes(' demo ')) return c;
    } catch { /* an old binary: try the next */ }
  }
  throw new Error('no wardnode with run/demo commands found (set WARDNODE); tried ' + candidates.join(', '));
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

async function waitFor(url, ms = 20000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try { const r = await fetch(url); if (r.ok) return; } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error('timed out waiting for ' + url);
}

export async function startNode() {
  const bin = findWardnode();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wardsync-browser-'));
  const data = path.join(dir, 'office');
  execFileSync(bin, ['demo', '--dir', data], { stdio: ['ignore', 'ignore', 'pipe'] });
  // The kiosk's own account (a clerk-role account until the node has kiosk endpoints).
  execFileSync(bin, ['user', 'add', '--dir', data, '--username', KIOSK_USER, '--display-name', 'Kiosk sảnh', '--role', 'clerk'],
    { input: KIOSK_PASSWORD + '\n', stdio: ['pipe', 'ignore', 'pipe'] });
  const port = await freePort();
  const log = fs.openSync(path.join(dir, 'wardnode.log'), 'a');
  const proc = spawn(bin, ['run', '--dir', data, '--listen', `127.0.0.1:${port}`], { stdio: ['ignore', log, log] });
  // Never leave a node behind, even when the test process dies.
  const reap = () => { if (proc.exitCode === null) proc.kill('SIGKILL'); };
  process.once('exit', reap);
  const url = `http://127.0.0.1:${port}`;
  await waitFor(url + '/api/v1/health');
  const stop = async () => {
    if (proc.exitCode === null) {
      await new Promise((r) => { proc.once('exit', r); proc.kill('SIGTERM'); setTimeout(reap, 5000).unref(); });
    }
    process.removeListener('exit', reap);
    // The data dir (and wardnode.log) is kept with WARDSYNC_KEEP_DATA=1.
    if (!process.env.WARDSYNC_KEEP_DATA) fs.rmSync(dir, { recursive: true, force: true });
  };
  return { bin, dir, data, url, proc, stop };
}

const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.woff2': 'font/woff2', '.woff': 'font/woff', '.svg': 'image/svg+xml', '.png': 'image/png', '.json': 'application/json' };

// The apps' origin: the node itself if it serves dist/, else a static server + /api proxy.
export async function startOrigin(nodeUrl) {
  try {
    const r = await fetch(nodeUrl + '/kiosk/');
    if (r.ok && (r.headers.get('content-type') || '').includes('text/html')) return { url: nodeUrl, proxied: false, stop: async () => {} };
  } catch { /* fall through */ }
  const target = new URL(nodeUrl);
  const server = http.createServer((req, res) => {
    if (req.url.startsWith('/api/')) {
      // One upstream connection per request (agent: false): the node currently leaves
      // an unread request body in a keep-alive stream when a handler answers without
      // reading it (401/404/405, call-next), which garbles the next request (405).
      const up = http.request({ host: target.hostname, port: target.port, method: req.method, path: req.url, agent: false,
        headers: { ...req.headers, host: target.host, connection: 'close' } }, (ur) => { res.writeHead(ur.statusCode, ur.headers); ur.pipe(res); });
      up.on('error', () => { res.writeHead(502); res.end(); });
      req.pipe(up);
      return;
    }
    let p = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    if (p.endsWith('/')) p += 'index.html';
    const file = path.join(dist, path.normalize(p));
    if (!file.startsWith(dist) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) { res.writeHead(404); res.end('not found'); return; }
    const body = fs.readFileSync(file);
    res.writeHead(200, { 'Content-Type': TYPES[path.extname(file)] || 'application/octet-stream', 'Content-Length': body.length,
      'Cache-Control': p.includes('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache' });
    res.end(body);
  });
  const port = await freePort();
  await new Promise((r) => server.listen(port, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${port}`, proxied: true, stop: () => new Promise((r) => server.close(r)) };
}

export function launchChromium() {
  const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
  if (!fs.existsSync(executablePath)) throw new Error(`${executablePath} not found: apt-get install -y chromium (packaging/deps/ui.txt)`);
  return chromium.launch({
    executablePath,
    args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
}

// axe-core in the page; returns the serious and critical violations.
export async function axe(page, label) {
  if (!(await page.evaluate(() => typeof window.axe !== 'undefined'))) await page.addScriptTag({ path: axePath });
  const r = await page.evaluate(async () => window.axe.run(document, { resultTypes: ['violations'] }));
  const bad = r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  return bad.map((v) => `${label}: ${v.id} (${v.impact}) ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`);
}

// Every visible interactive element smaller than 48 × 48 CSS px.
export function smallTargets(page) {
  return page.evaluate(() => [...document.querySelectorAll('button, a[href], input, select, textarea, [role=button]')]
    .filter((el) => el.offsetParent !== null)
    .map((el) => ({ el, r: el.getBoundingClientRect() }))
    .filter(({ r }) => r.width < 48 || r.height < 48)
    .map(({ el, r }) => `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''} "${(el.textContent || el.value || '').trim().slice(0, 30)}" ${Math.round(r.width)}×${Math.round(r.height)}`));
}

// Screenshots go to docs/screenshots only when asked (WARDSYNC_UPDATE_SCREENSHOTS=1),
// so a test run never dirties the checkout; otherwise to a scratch folder.
export const screenshotDir = process.env.WARDSYNC_UPDATE_SCREENSHOTS === '1'
  ? path.join(root, 'docs/screenshots')
  : path.join(os.tmpdir(), 'wardsync-screenshots');
export async function shot(page, name) {
  fs.mkdirSync(screenshotDir, { recursive: true });
  await page.evaluate(() => document.fonts.ready);
  await page.screenshot({ path: path.join(screenshotDir, name + '.png'), fullPage: true });
}

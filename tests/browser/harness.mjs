// Test harness for the browser tests: a real wardnode in a temporary data dir
// (demo office) serving the built web apps (ui-web/dist) itself, a real
// `wardsync-printer-sim` process as its receipt printer (tcp:127.0.0.1:PORT), a
// folder of scanned pages as its scanner, and Debian's chromium driven by
// playwright-core (never a downloaded browser). Nothing is proxied or mocked.
import { spawn, execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const dist = path.join(root, 'ui-web/dist');
const require = createRequire(path.join(root, 'ui-web/package.json'));
export const { chromium } = require('playwright-core');
export const axePath = require.resolve('axe-core/axe.min.js');
export const DEMO_PASSWORD = 'demo1234';

export function findWardnode() {
  // An explicit WARDNODE is the only candidate: never test some other binary silently.
  const candidates = process.env.WARDNODE ? [process.env.WARDNODE]
    : [path.join(root, 'build/node/wardnode'), path.join(root, 'build/release/node/wardnode'), path.join(root, 'build-node/node/wardnode')];
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

// Sets `key = value` lines in a data directory's wardnode.conf.
function configure(data, settings) {
  const file = path.join(data, 'wardnode.conf');
  let text = fs.readFileSync(file, 'utf8');
  for (const [k, v] of Object.entries(settings)) {
    const re = new RegExp(`^${k} = .*$`, 'm');
    text = re.test(text) ? text.replace(re, `${k} = ${v}`) : text + `${k} = ${v}\n`;
  }
  fs.writeFileSync(file, text);
}

// settings: extra wardnode.conf keys (printer, scanner...). ui_dir is always the built dist.
export async function startNode(settings = {}) {
  const bin = findWardnode();
  if (!fs.existsSync(path.join(dist, 'kiosk/index.html'))) throw new Error(`${dist} is not built: run packaging/ui-build.sh`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wardsync-browser-'));
  const data = path.join(dir, 'office');
  execFileSync(bin, ['demo', '--dir', data], { stdio: ['ignore', 'ignore', 'pipe'] });
  configure(data, { ui_dir: dist, ...settings });
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

export function findPrinterSim() {
  const c = process.env.PRINTER_SIM || path.join(path.dirname(path.dirname(findWardnode())), 'hardware/wardsync-printer-sim');
  if (!fs.existsSync(c)) throw new Error(`${c} not found (build wardsync-printer-sim or set PRINTER_SIM)`);
  return c;
}

// The receipt printer: a real wardsync-printer-sim process on a free port, with
// OCR, writing slip-NNNN.{png,json,txt} into its own folder.
export async function startPrinterSim() {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'wardsync-printer-'));
  const proc = spawn(findPrinterSim(), ['--port', '0', '--out', out], { stdio: ['ignore', 'pipe', 'pipe'] });
  const reap = () => { if (proc.exitCode === null) proc.kill('SIGKILL'); };
  process.once('exit', reap);
  const port = await new Promise((resolve, reject) => {
    const rl = readline.createInterface({ input: proc.stdout });
    const t = setTimeout(() => reject(new Error('printer simulator did not start')), 15000);
    rl.on('line', (l) => { const m = /listening on [\d.]+:(\d+)/.exec(l); if (m) { clearTimeout(t); resolve(Number(m[1])); } });
    proc.once('exit', (c) => reject(new Error('printer simulator exited ' + c)));
  });
  const seen = new Set();
  // The next slip not returned before that satisfies `match` ({json, text, png, qr}).
  async function slip(match = () => true, ms = 30000) {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      for (const f of fs.readdirSync(out).filter((n) => /^slip-\d+\.json$/.test(n)).sort()) {
        if (seen.has(f)) continue;
        const base = path.join(out, f.replace(/\.json$/, ''));
        if (!fs.existsSync(base + '.txt')) continue;
        let json;
        try { json = JSON.parse(fs.readFileSync(base + '.json', 'utf8')); } catch { continue; }
        const s = { name: f, json, text: fs.readFileSync(base + '.txt', 'utf8'), png: base + '.png', qr: decodeQr(base + '.png') };
        if (match(s)) { seen.add(f); return s; }
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error('no matching slip printed within ' + ms + ' ms (in ' + out + ')');
  }
  const stop = async () => {
    if (proc.exitCode === null) await new Promise((r) => { proc.once('exit', r); proc.kill('SIGTERM'); setTimeout(reap, 3000).unref(); });
    process.removeListener('exit', reap);
    if (!process.env.WARDSYNC_KEEP_DATA) fs.rmSync(out, { recursive: true, force: true });
  };
  return { port, out, slip, stop };
}

// Reads the QR codes off a printed slip's PNG with zbarimg (zbar-tools): an
// independent decoder, so the test checks the paper, not what we meant to print.
export function decodeQr(png) {
  try {
    return execFileSync('zbarimg', ['--quiet', '--raw', '-Sdisable', '-Sqrcode.enable', png], { encoding: 'utf8' })
      .split('\n').filter(Boolean);
  } catch (e) {
    if (e.code === 'ENOENT') throw new Error('zbarimg not found: apt-get install -y zbar-tools (packaging/deps/ui.txt)');
    return []; // exit 4: no code found
  }
}

// Whitespace-insensitive "the OCR text contains this line".
export const squash = (s) => s.normalize('NFC').replace(/\s+/g, ' ').trim();

export function launchChromium() {
  const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
  if (!fs.existsSync(executablePath)) throw new Error(`${executablePath} not found: apt-get install -y chromium (packaging/deps/ui.txt)`);
  return chromium.launch({
    executablePath,
    args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
}

let axeText = null;
const axeSource = () => (axeText ??= fs.readFileSync(axePath, 'utf8'));

// axe-core in the page; returns the serious and critical violations.
export async function axe(page, label) {
  // Evaluated through the debugger, not a <script> tag: the node's CSP (only 'self',
  // no inline scripts) rightly refuses an injected script.
  if (!(await page.evaluate(() => typeof window.axe !== 'undefined'))) await page.evaluate(axeSource());
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

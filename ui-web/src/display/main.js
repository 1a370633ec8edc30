// The hall TV: the number being called at each counter, refreshed every few seconds.
// ?counters=1,2,3 picks the counters; ?refresh=ms the period.
import './display.css';
import { kiosk } from '../common/api.js';
import { h, mount } from '../common/dom.js';
import { T, msg } from '../common/i18n.js';

const params = new URLSearchParams(location.search);
const counters = (params.get('counters') || '1,2,3').split(',').map((c) => c.trim()).filter(Boolean);
const refreshMs = Math.max(1000, Number(params.get('refresh')) || 4000);
const app = document.getElementById('app');
const last = {};

async function tick() {
  // One public call for every counter: numbers only, no session needed.
  let results, failed;
  try {
    const r = await kiosk.display(counters);
    const by = Object.fromEntries((r.items || []).map((x) => [x.counter, x]));
    // A counter the node does not accept (a typo in this page's address) stays blank.
    results = counters.map((c) => ({ c, q: by[c] && !by[c].error ? { current: by[c].now === null ? null : { number: by[c].now }, waiting: by[c].waiting } : null }));
  } catch (e) {
    failed = { e };
    results = counters.map((c) => ({ c, q: null }));
  }
  mount(app, h('main', {},
    h('h1', {}, T('Mời công dân có số thứ tự đến quầy', 'Now serving')),
    h('div', { class: 'counters' }, results.map(({ c, q }) => {
      const now = q?.current?.number ?? null;
      const changed = now !== null && last[c] !== undefined && last[c] !== now;
      last[c] = now;
      return h('section', { class: 'counter' + (changed ? ' flash' : ''), 'data-counter': c, 'aria-live': 'polite' },
        h('h2', {}, T(`Quầy ${c}`, `Counter ${c}`)),
        h('div', { class: 'now', 'data-test': 'now' }, now === null ? '—' : String(now)),
        h('div', { class: 'wait' }, q ? T(`${q.waiting ?? 0} người đang chờ`, `${q.waiting ?? 0} waiting`) : ''));
    })),
    failed ? h('p', { class: 'status', role: 'status' }, msg(failed.e)) : ''));
}

tick();
setInterval(tick, refreshMs);

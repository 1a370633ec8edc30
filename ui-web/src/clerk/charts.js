// Charts as inline SVG (no chart library, nothing from outside). Each chart has a
// title for screen readers; the tables next to it carry the same figures.
const NS = 'http://www.w3.org/2000/svg';
function s(tag, attrs, ...kids) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  for (const c of kids) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}
const clip = (t, n = 34) => (String(t).length > n ? String(t).slice(0, n - 1) + '…' : String(t));

// Horizontal bars: [{label, value, color}].
export function barChart(data, title) {
  const max = Math.max(1, ...data.map((d) => d.value));
  const rowH = 26, labelW = 170, barW = 320, height = data.length * rowH + 10;
  return s('svg', { class: 'chart', role: 'img', 'aria-label': title, width: labelW + barW + 60, height, viewBox: `0 0 ${labelW + barW + 60} ${height}` },
    s('title', {}, title),
    ...data.flatMap((d, i) => [
      s('text', { x: 0, y: i * rowH + 18 }, clip(d.label, 26)),
      s('rect', { x: labelW, y: i * rowH + 5, width: Math.max(d.value ? 2 : 0, (barW * d.value) / max), height: rowH - 10, fill: d.color }),
      s('text', { x: labelW + (barW * d.value) / max + 6, y: i * rowH + 18 }, d.value),
    ]));
}

// Stacked horizontal bars: [{label, values: [[n, color], ...]}].
export function stackedBars(rows, title) {
  if (!rows.length) return s('svg', { class: 'chart', role: 'img', 'aria-label': title, width: 10, height: 4 }, s('title', {}, title));
  const max = Math.max(1, ...rows.map((r) => r.values.reduce((a, [n]) => a + n, 0)));
  const rowH = 26, labelW = 260, barW = 380, height = rows.length * rowH + 10;
  return s('svg', { class: 'chart', role: 'img', 'aria-label': title, width: labelW + barW + 60, height, viewBox: `0 0 ${labelW + barW + 60} ${height}` },
    s('title', {}, title),
    ...rows.flatMap((r, i) => {
      let x = labelW;
      const total = r.values.reduce((a, [n]) => a + n, 0);
      const parts = r.values.map(([n, color]) => {
        const w = (barW * n) / max;
        const rect = s('rect', { x, y: i * rowH + 5, width: w, height: rowH - 10, fill: color });
        x += w;
        return rect;
      });
      return [s('text', { x: 0, y: i * rowH + 18 }, clip(r.label)), ...parts, s('text', { x: x + 6, y: i * rowH + 18 }, total)];
    }));
}

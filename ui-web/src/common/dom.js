// A tiny DOM builder: h('button', {class: 'x', onclick}, 'text', child, [more]).
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'value') el.value = v;
    // Through the CSSOM, never a style="" attribute: the node's CSP has no 'unsafe-inline'.
    else if (k === 'style') el.style.cssText = String(v);
    else if (k === 'checked') el.checked = !!v;
    else if (k === 'html') el.innerHTML = v; // only for our own static SVG
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function mount(root, ...children) {
  root.replaceChildren();
  append(root, children);
}

// Dates the way a Vietnamese office writes them: 02/03/2026, 09:15.
export function dateVi(iso) {
  if (!iso) return '';
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}))?/.exec(iso);
  if (!m) return iso;
  return `${m[3]}/${m[2]}/${m[1]}` + (m[4] ? `, ${m[4]}:${m[5]}` : '');
}

export function money(vnd) {
  if (vnd === undefined || vnd === null || vnd === '') return '';
  return Number(vnd).toLocaleString('vi-VN') + ' đ';
}

let uid = 0;
export const nextId = (p = 'f') => `${p}-${++uid}`;

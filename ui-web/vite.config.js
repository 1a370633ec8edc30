// Three static apps, one build: the clerks' app at /, the kiosk at /kiosk/, the
// hall display at /display/. Everything (scripts, styles, fonts) lands in dist/
// with relative URLs, so the node can serve dist/ from any folder and nothing is
// fetched from outside the node at run time.
import { defineConfig } from 'vite';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { gzipSync, constants } from 'node:zlib';

// import.meta.dirname needs Node 20.11; Debian 12 ships Node 18.
const here = dirname(fileURLToPath(import.meta.url));

// Precompressed siblings (<file>.gz) for what compresses: the node sends them to
// clients that accept gzip, so the kiosk's first load stays small on a slow LAN.
function precompress() {
  let outDir = 'dist';
  const walk = (dir) => readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
  return {
    name: 'wardsync-precompress',
    apply: 'build',
    configResolved(c) { outDir = resolve(c.root, c.build.outDir); },
    closeBundle() {
      for (const f of walk(outDir)) {
        if (!/\.(html|js|css|svg|json|txt)$/.test(f)) continue;
        const raw = readFileSync(f);
        const gz = gzipSync(raw, { level: constants.Z_BEST_COMPRESSION });
        if (gz.length < raw.length) writeFileSync(f + '.gz', gz);
      }
    },
  };
}

export default defineConfig({
  base: './',
  plugins: [precompress()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2020',
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    rollupOptions: {
      input: {
        clerk: resolve(here, 'index.html'),
        kiosk: resolve(here, 'kiosk/index.html'),
        display: resolve(here, 'display/index.html'),
      },
    },
  },
  server: {
    proxy: { '/api': process.env.WARDNODE_URL || 'http://127.0.0.1:8080' },
  },
});

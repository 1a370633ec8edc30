// Three static apps, one build: the clerks' app at /, the kiosk at /kiosk/, the
// hall display at /display/. Everything (scripts, styles, fonts) lands in dist/
// with relative URLs, so the node can serve dist/ from any folder and nothing is
// fetched from outside the node at run time.
import { defineConfig } from 'vite';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// import.meta.dirname needs Node 20.11; Debian 12 ships Node 18.
const here = dirname(fileURLToPath(import.meta.url));

export default defineConfig({
  base: './',
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

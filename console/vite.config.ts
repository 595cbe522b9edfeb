// The operations console's build: Preact through @preact/preset-vite, bundled into
// dist/console (served by `platesieve ops`). Everything is bundled, nothing is fetched from
// the internet: the ops server's CSP (default-src 'self') would refuse it, and regional
// centers may run without a connection.
import preact from '@preact/preset-vite';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root: here,
  base: '/',
  plugins: [preact({ devToolsEnabled: false, prefreshEnabled: false })],
  logLevel: 'warn',
  build: {
    outDir: fileURLToPath(new URL('../dist/console', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    // A module script, no inline loader: the CSP allows scripts from 'self' only.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
  },
  server: {
    // `vite --config console/vite.config.ts` during development, with `platesieve ops` on 8443.
    proxy: { '/api': { target: process.env.PLATESIEVE_OPS_URL ?? 'http://127.0.0.1:8443', changeOrigin: false } },
  },
});

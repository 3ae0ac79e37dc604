// The web UI's build: a static single-page app in dist/web/, served by `corral daemon` at `/`.
// Everything it loads (scripts, styles, the bundled monospace font) comes from the daemon itself:
// no CDN, so the UI works with no network beyond the daemon.
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  base: '/',
  plugins: [react()],
  build: {
    outDir: fileURLToPath(new URL('../../dist/web', import.meta.url)),
    emptyOutDir: true,
    assetsDir: 'assets',
    // Fonts and icons are files under /assets/, never data: URLs a strict CSP would have to allow.
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 1000,
  },
});

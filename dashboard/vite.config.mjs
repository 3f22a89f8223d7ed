import { defineConfig } from 'vite';

// The coordinator's admin server serves dist/ under a CSP of `script-src 'self'; style-src 'self'`:
// no inline script (no module-preload polyfill), no inlined assets, nothing from another origin.
export default defineConfig({
  base: '/',
  publicDir: false,
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    cssCodeSplit: false,
    sourcemap: false,
    reportCompressedSize: false,
  },
});

// The dashboard's build. The output (dist/) is committed and embedded in the gateway binary,
// so the build must be deterministic: hashed names from content, no timestamps, no source maps.
// `SWITCHBOARD_URL=http://127.0.0.1:8787 npm run dev` proxies the APIs to a running gateway.
import { defineConfig } from 'vite';

const gateway = process.env.SWITCHBOARD_URL ?? 'http://127.0.0.1:8787';

export default defineConfig({
  base: '/ui/',
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    modulePreload: { polyfill: false },
    sourcemap: false,
    // Everything as files: the CSP allows no inline data: scripts or styles.
    assetsInlineLimit: 0,
  },
  server: {
    proxy: {
      '/v1': { target: gateway, changeOrigin: false },
      '/ui/api': { target: gateway, changeOrigin: false },
    },
  },
});

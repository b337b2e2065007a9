import { defineConfig } from 'vite';

/**
 * The dashboard bundle: `web/` → `web/dist`, served by `comeback serve` at `/`. Paths are relative to the
 * package root, where npm scripts run. Vite reads the config's default export, hence the one exception
 * to named exports.
 */
export default defineConfig({
  root: 'web',
  base: '/',
  // React's automatic JSX runtime through esbuild: no React plugin needed for a production build.
  esbuild: { jsx: 'automatic' },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    chunkSizeWarningLimit: 1200,
    rollupOptions: {
      // Libraries change less often than the pages: separate files stay cached across releases.
      output: {
        manualChunks(id: string) {
          if (/node_modules\/(echarts|zrender|tslib)\//.test(id)) return 'echarts';
          if (/node_modules\/(react|react-dom|scheduler)\//.test(id)) return 'react';
          return undefined;
        },
      },
    },
  },
  server: { proxy: { '/api': 'http://127.0.0.1:3000' } },
});

import { defineConfig } from 'vite';

/**
 * The storefront snippet: `web/snippet/comeback.ts` → `web/dist/snippet/comeback.js`, one classic script
 * (IIFE, no imports at run time) that `comeback serve` answers at `/comeback.js`. Built after the
 * dashboard, whose build empties `web/dist`. Vite reads the default export.
 */
export default defineConfig({
  publicDir: false,
  build: {
    outDir: 'web/dist/snippet',
    emptyOutDir: false,
    target: 'es2019',
    minify: 'esbuild',
    lib: {
      entry: 'web/snippet/comeback.ts',
      formats: ['iife'],
      name: 'comebackSnippet',
      fileName: () => 'comeback.js',
    },
  },
});

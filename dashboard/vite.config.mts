import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

/**
 * The dashboard is a plain Vite + React build; JSX goes through Vite's built-in transform (automatic runtime), so
 * no React plugin is needed. `npm run dev:dashboard` proxies `/api` to a running API (MAILFERRY_API_URL, default
 * http://127.0.0.1:3000).
 */
export default defineConfig({
  root,
  base: '/',
  oxc: { jsx: { runtime: 'automatic' } },
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false, target: 'es2022' },
  server: {
    proxy: { '/api': process.env.MAILFERRY_API_URL ?? 'http://127.0.0.1:3000' },
  },
});

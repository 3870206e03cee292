import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The server serves dist/ at / (apps/server/src/dashboard/dashboard-static.ts); `vite` alone
// serves the page on :5173 and sends the API to a server on :4000.
export default defineConfig({
  root: import.meta.dirname,
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true, target: 'es2022' },
  server: {
    proxy: Object.fromEntries(['/api', '/sdk', '/openapi.json'].map((path) => [path, { target: 'http://localhost:4000', changeOrigin: false }])),
  },
});

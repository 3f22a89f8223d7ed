import { existsSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { AdminError } from './http-errors.js';
import type { OriginGuard } from './origin-guard.js';
import { defineRoute, type Route } from './route.js';
import { strictCsp } from './security-headers.js';

/** Where `pnpm build` puts the dashboard (dashboard/dist), from coordinator/{src,dist}/admin. */
export const DEFAULT_DASHBOARD_DIR = fileURLToPath(new URL('../../../dashboard/dist/', import.meta.url));

/**
 * The dashboard's CSP: its own scripts, styles and API only. No inline script or style, no eval,
 * nothing from another origin (the charts are SVG built in the page).
 */
export const DASHBOARD_CSP = strictCsp("script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; manifest-src 'self'");

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
};
/** What vite writes to dist/assets: hashed names, one level, nothing to traverse. */
const ASSET_NAME = /^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*\.(?:js|css|svg|ico)$/;

const NOT_BUILT = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>frostbunker</title></head>
<body><h1>The dashboard is not built</h1><p>Run <code>pnpm build</code> in the repository, then reload. The admin API works without it.</p></body></html>`;

/**
 * `GET /` (the dashboard's page) and `GET /assets/:file` (its scripts and styles), read from the
 * built directory on each request so a rebuild needs no restart. Served only at this server's own
 * host name (DNS rebinding).
 */
export function dashboardFileRoutes(options: { dir: string; guard: OriginGuard }): Route[] {
  return [
    defineRoute({
      method: 'GET',
      url: '/',
      summary: 'The dashboard (log in with an admin token)',
      tag: 'dashboard',
      access: 'public',
      response: z.string(),
      contentType: 'text/html',
      errors: [403],
      handler: ({ reply }) => {
        options.guard.check(reply.request);
        void reply.header('content-security-policy', DASHBOARD_CSP);
        const index = join(options.dir, 'index.html');
        if (!existsSync(index)) {
          void reply.code(503);
          return NOT_BUILT;
        }
        return readFileSync(index, 'utf8');
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/assets/:file',
      summary: "The dashboard's scripts and styles",
      tag: 'dashboard',
      access: 'public',
      params: z.strictObject({ file: z.string().max(200) }),
      response: z.string(),
      contentType: 'asset',
      errors: [403, 404],
      handler: ({ params, reply }) => {
        options.guard.check(reply.request);
        const path = join(options.dir, 'assets', params.file);
        if (!ASSET_NAME.test(params.file) || !existsSync(path)) throw new AdminError(404, 'NOT_FOUND', `no dashboard asset ${params.file.slice(0, 100)}`);
        void reply.type(TYPES[extname(params.file)] ?? 'application/octet-stream');
        return readFileSync(path, 'utf8');
      },
    }),
  ];
}

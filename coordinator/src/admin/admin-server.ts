import type { AddressInfo } from 'node:net';
import { isIPv4 } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { ConfigError } from '@frostbunker/shared/errors';
import { AclStore } from '../acl-store/acl-store.js';
import { aclRoutes } from './acl-routes.js';
import { AclViews } from './acl-views.js';
import { AdminTokenStore } from './admin-token-store.js';
import { approvalPageRoute } from './approval-page.js';
import { approvalRoutes } from './approval-routes.js';
import { auditRoutes } from './audit-routes.js';
import { createOperatorAuth } from './auth.js';
import { dashboardFileRoutes, DEFAULT_DASHBOARD_DIR } from './dashboard-files.js';
import { dashboardRoutes } from './dashboard-routes.js';
import { SignLog } from '../observability/sign-log.js';
import { allowedOriginsFor, OriginGuard } from './origin-guard.js';
import { sessionRoutes } from './session-routes.js';
import { SessionStore } from './session-store.js';
import type { AdminDeps } from './context.js';
import { healthRoute, metricsRoute } from './health-route.js';
import { notFoundBody, toErrorReply } from './http-errors.js';
import { buildOpenApiDocument, openApiRoute } from './openapi.js';
import { registerRoutes, type Route } from './route.js';
import { installSecurityHeaders } from './security-headers.js';

/** No admin request needs more than a reason and a perms string. */
export const DEFAULT_BODY_LIMIT_BYTES = 64 * 1024;

export interface AdminListenConfig {
  host: string;
  port: number;
  /** The address operators reach the server by (a tunnel, a proxy); approval links use it. */
  publicUrl?: string;
  /** Serving beyond loopback must be asked for explicitly (and is logged as a warning). */
  allowNonLoopback?: boolean;
}

export interface RunningAdminServer {
  /** Where it listens, e.g. `http://127.0.0.1:7446` (the real port when 0 was asked for). */
  url: string;
  /** publicUrl when set, else `url`: the base of approval links. */
  publicUrl: string;
  close(): Promise<void>;
}

/**
 * The admin HTTP server (fastify): `/api/v1/*` behind admin bearer tokens or a dashboard session,
 * and public `/health`, `/openapi.json`, `/approvals/:id`, the dashboard's files and its login.
 * Each part is a plugin with one job; the auth hook lives only in the protected context.
 * `baseUrl` is where operators reach it (known once it listens); browsers are answered only at
 * `origins` (default: the base URL's), against DNS rebinding.
 */
export function buildAdminServer(
  deps: AdminDeps,
  options: { baseUrl: () => string; origins?: () => readonly string[] },
): { app: FastifyInstance; routes: readonly Route[] } {
  const app = Fastify({
    logger: false,
    bodyLimit: deps.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES,
    trustProxy: false,
    requestTimeout: 30_000,
    return503OnClosing: true,
    forceCloseConnections: true,
  });
  // JSON only: a text/plain body (what a cross-site form can send without a preflight) is a 415.
  app.removeContentTypeParser('text/plain');
  installSecurityHeaders(app);
  app.setErrorHandler((error, request, reply) => {
    const { statusCode, body, internal } = toErrorReply(error);
    if (internal) deps.logger.error('admin request failed', { method: request.method, route: request.routeOptions.url ?? 'unmatched', error: String(error) });
    return reply.code(statusCode).type('application/json; charset=utf-8').send(body);
  });
  app.setNotFoundHandler((request, reply) => reply.code(404).send(notFoundBody(request.method, request.url.slice(0, 200))));
  app.addHook('onResponse', async (request, reply) => {
    deps.logger.debug('admin request', { method: request.method, route: request.routeOptions.url ?? 'unmatched', statusCode: reply.statusCode });
  });

  const tokens = new AdminTokenStore({ db: deps.db, audit: deps.audit, nowSec: deps.nowSec });
  const guard = new OriginGuard(options.origins ?? (() => allowedOriginsFor([options.baseUrl()])));
  const sessions = new SessionStore({ nowSec: deps.nowSec, ...(deps.sessionLimits ? { limits: deps.sessionLimits } : {}) });
  const auth = createOperatorAuth(tokens, { sessions, guard });
  const views = new AclViews({ db: deps.db, acl: new AclStore(deps.db, { nowSec: deps.nowSec }), nowSec: deps.nowSec });
  let document: Record<string, unknown> = {};
  const routes: Route[] = [
    healthRoute(deps),
    metricsRoute(deps),
    openApiRoute(() => document),
    approvalPageRoute(deps, options.baseUrl, auth),
    ...dashboardFileRoutes({ dir: deps.dashboardDir ?? DEFAULT_DASHBOARD_DIR, guard }),
    ...sessionRoutes(deps, { tokens, sessions, guard, auth, baseUrl: options.baseUrl }),
    ...aclRoutes(deps, views),
    ...approvalRoutes(deps),
    ...auditRoutes(deps, views),
    ...dashboardRoutes(deps, new SignLog({ db: deps.db, nowSec: deps.nowSec })),
  ];
  document = buildOpenApiDocument(routes, { title: 'frostbunker admin API', version: '1' });

  void app.register(async function publicRoutes(context) {
    registerRoutes(context, routes.filter((r) => r.access === 'public'), () => undefined);
  });
  void app.register(async function operatorRoutes(context) {
    context.addHook('onRequest', auth.require);
    registerRoutes(context, routes.filter((r) => r.access === 'operator'), auth.operatorOf);
  });
  return { app, routes };
}

/** Builds the server and listens; refuses a non-loopback host unless `allowNonLoopback`. */
export async function startAdminServer(deps: AdminDeps, config: AdminListenConfig): Promise<RunningAdminServer> {
  if (!isLoopbackHost(config.host)) {
    if (!config.allowNonLoopback) {
      throw new ConfigError('admin.host', `${config.host} is not a loopback address; to serve the admin API beyond this host set admin.allowNonLoopback: true (and put TLS in front)`);
    }
    deps.logger.warn('the admin API listens beyond loopback: anyone who reaches it can try admin tokens, and plain HTTP exposes them on the network; put TLS in front', { host: config.host });
  }
  let url = '';
  const baseUrl = () => (config.publicUrl ?? url).replace(/\/$/, '');
  const { app } = buildAdminServer(deps, { baseUrl, origins: () => allowedOriginsFor([url, baseUrl()]) });
  await app.listen({ host: config.host, port: config.port, listenTextResolver: () => '' });
  const address = app.server.address() as AddressInfo;
  url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
  return { url, publicUrl: baseUrl(), close: () => app.close() };
}

export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (bare === 'localhost' || bare === '::1') return true;
  const v4 = bare.startsWith('::ffff:') ? bare.slice('::ffff:'.length) : bare;
  return isIPv4(v4) && v4.startsWith('127.');
}

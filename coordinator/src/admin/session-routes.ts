import { z } from 'zod';
import type { AdminTokenStore } from './admin-token-store.js';
import { actorOf, CSRF_HEADER, csrfMatches, readCookie, SESSION_COOKIE, type OperatorAuth } from './auth.js';
import type { AdminDeps } from './context.js';
import { AdminError } from './http-errors.js';
import type { OriginGuard } from './origin-guard.js';
import { defineRoute, type Route } from './route.js';
import type { SessionStore } from './session-store.js';

const TAG = 'session';
const sessionView = z.object({ label: z.string(), csrfToken: z.string(), expiresAtSec: z.number() });

/**
 * The dashboard's login: an admin token (the same bearer tokens as the API) opens a server-side
 * session named by an HttpOnly, SameSite=Strict cookie; the page gets the session's CSRF token and
 * sends it with every change. These routes are public (they are how one gets in) but answer only
 * at the server's own host and origin.
 */
export function sessionRoutes(deps: AdminDeps, parts: {
  tokens: Pick<AdminTokenStore, 'authenticate'>;
  sessions: SessionStore;
  guard: OriginGuard;
  auth: OperatorAuth;
  baseUrl: () => string;
}): Route[] {
  const cookie = (value: string, maxAgeSec: number) =>
    `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSec}${parts.baseUrl().startsWith('https:') ? '; Secure' : ''}`;
  const audited = (action: string, session: { tokenId: string; label: string }, reason: string) =>
    deps.db.transaction(() => {
      deps.audit.append({ actor: actorOf({ ...session, via: 'session' }), action, target: `admin/${session.tokenId}`, reason, before: null, after: { label: session.label } });
    }).immediate();

  return [
    defineRoute({
      method: 'POST',
      url: '/auth/login',
      summary: 'Open a dashboard session with an admin token (sets an HttpOnly SameSite=Strict cookie; answers the CSRF token)',
      tag: TAG,
      access: 'public',
      body: z.strictObject({ token: z.string().max(200) }),
      response: sessionView,
      errors: [403],
      handler: ({ body, reply }) => {
        parts.guard.check(reply.request);
        const token = parts.tokens.authenticate(body.token.trim());
        if (!token) throw new AdminError(401, 'UNAUTHORIZED', 'invalid or revoked admin token');
        const { sessionId, session } = parts.sessions.open(token);
        audited('admin_session.open', session, 'dashboard login');
        void reply.header('set-cookie', cookie(sessionId, parts.sessions.ttlSec));
        return { label: session.label, csrfToken: session.csrfToken, expiresAtSec: session.expiresAtSec };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/auth/session',
      summary: "The dashboard session the cookie names, with its CSRF token (401 when there is none)",
      tag: TAG,
      access: 'public',
      response: sessionView,
      errors: [403],
      handler: ({ reply }) => {
        parts.guard.check(reply.request);
        const session = parts.auth.sessionOf(reply.request);
        if (!session) throw new AdminError(401, 'UNAUTHORIZED', 'not logged in');
        return { label: session.label, csrfToken: session.csrfToken, expiresAtSec: session.expiresAtSec };
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/auth/logout',
      summary: 'End the dashboard session (needs its CSRF token) and clear the cookie',
      tag: TAG,
      access: 'public',
      response: z.object({ loggedOut: z.boolean() }),
      errors: [403],
      handler: ({ reply }) => {
        const request = reply.request;
        parts.guard.check(request);
        const session = parts.auth.sessionOf(request);
        const sessionId = readCookie(request.headers.cookie, SESSION_COOKIE);
        if (session && sessionId !== undefined) {
          if (!csrfMatches(request.headers[CSRF_HEADER], session.csrfToken)) throw new AdminError(403, 'FORBIDDEN', `logging out needs the session's CSRF token in ${CSRF_HEADER}`);
          parts.sessions.close(sessionId);
          audited('admin_session.close', session, 'dashboard logout');
        }
        void reply.header('set-cookie', cookie('', 0));
        return { loggedOut: session !== undefined };
      },
    }),
  ];
}

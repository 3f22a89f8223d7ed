import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AdminTokenStore } from './admin-token-store.js';
import { AdminError } from './http-errors.js';
import { isSafeMethod, type OriginGuard } from './origin-guard.js';
import type { AdminSession, SessionStore } from './session-store.js';

/** Who is calling, as an authenticator established it; mutations are audited as `admin:<label>`. */
export interface Operator {
  tokenId: string;
  label: string;
  /**
   * How the request proved it. A bearer header is never attached by a browser on its own, so
   * bearer requests need no CSRF defence; `session` (the dashboard's cookie) is attached by the
   * browser to every same-site request, so its unsafe methods also carry the session's CSRF token
   * and come from this server's own origin.
   */
  via: 'bearer' | 'session';
}

export interface OperatorAuth {
  /** onRequest hook of the protected context: 401 unless the request names a live admin token or session. */
  require(request: FastifyRequest, reply: FastifyReply): Promise<void>;
  /** The operator `require` established for this request. */
  operatorOf(request: FastifyRequest): Operator | undefined;
  /** The live session the request's cookie names, if any, when the request comes to our own host. */
  sessionOf(request: FastifyRequest): AdminSession | undefined;
}

/** What the cookie path needs; without it only bearer tokens work. */
export interface BrowserAuth {
  sessions: SessionStore;
  guard: OriginGuard;
}

const BEARER = /^Bearer +(\S+) *$/i;
export const AUTH_REALM = 'Bearer realm="frostbunker-admin"';
export const SESSION_COOKIE = 'frostbunker_session';
export const CSRF_HEADER = 'x-csrf-token';

/** Bearer tokens over AdminTokenStore, and dashboard sessions; per-request state stays in here. */
export function createOperatorAuth(tokens: Pick<AdminTokenStore, 'authenticate' | 'isLive'>, browser?: BrowserAuth): OperatorAuth {
  const operators = new WeakMap<FastifyRequest, Operator>();
  const liveSession = (request: FastifyRequest): AdminSession | undefined => {
    const sessionId = readCookie(request.headers.cookie, SESSION_COOKIE);
    if (!browser || sessionId === undefined) return undefined;
    const session = browser.sessions.find(sessionId);
    if (session && !tokens.isLive(session.tokenId)) {
      // The admin token it was opened with is revoked: so is every session it opened.
      browser.sessions.close(sessionId);
      return undefined;
    }
    return session;
  };
  return {
    async require(request, reply) {
      const header = request.headers.authorization;
      if (header === undefined && browser && readCookie(request.headers.cookie, SESSION_COOKIE) !== undefined) {
        browser.guard.check(request);
        const session = liveSession(request);
        if (!session) throw new AdminError(401, 'UNAUTHORIZED', 'the dashboard session has ended (expired, logged out or its admin token revoked): log in again');
        if (!isSafeMethod(request.method) && !csrfMatches(request.headers[CSRF_HEADER], session.csrfToken)) {
          throw new AdminError(403, 'FORBIDDEN', `a dashboard change needs the session's CSRF token in ${CSRF_HEADER}`);
        }
        operators.set(request, { tokenId: session.tokenId, label: session.label, via: 'session' });
        return;
      }
      const match = header === undefined ? null : BEARER.exec(header);
      const token = match ? tokens.authenticate(match[1]!) : undefined;
      if (token === undefined) {
        reply.header('www-authenticate', AUTH_REALM);
        throw new AdminError(401, 'UNAUTHORIZED', header === undefined
          ? 'an admin token is required: Authorization: Bearer <token> (create one with pnpm frostbunker admin-token create)'
          : 'invalid or revoked admin token');
      }
      operators.set(request, { tokenId: token.tokenId, label: token.label, via: 'bearer' });
    },
    operatorOf: (request) => operators.get(request),
    sessionOf: (request) => (browser?.guard.hostAllowed(request) ? liveSession(request) : undefined),
  };
}

/** The audit actor of an operator's change. */
export function actorOf(operator: Operator): string {
  return `admin:${operator.label}`;
}

export function readCookie(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export function csrfMatches(presented: string | string[] | undefined, expected: string): boolean {
  if (typeof presented !== 'string') return false;
  const a = Buffer.from(presented);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

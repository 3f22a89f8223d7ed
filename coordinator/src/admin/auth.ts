import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AdminTokenStore } from './admin-token-store.js';
import { AdminError } from './http-errors.js';

/** Who is calling, as an authenticator established it; mutations are audited as `admin:<label>`. */
export interface Operator {
  tokenId: string;
  label: string;
  /**
   * How the request proved it. A bearer header is never attached by a browser on its own, so
   * bearer requests need no CSRF defence.
   * @TODO(issue 10) the dashboard adds `session` (a cookie naming a hashed, expiring session opened
   * by the login page with an admin token); cookie-authenticated unsafe methods must then also
   * carry a CSRF token, checked in this module beside the bearer check.
   */
  via: 'bearer';
}

export interface OperatorAuth {
  /** onRequest hook of the protected context: 401 unless the request names a live admin token. */
  require(request: FastifyRequest, reply: FastifyReply): Promise<void>;
  /** The operator `require` established for this request. */
  operatorOf(request: FastifyRequest): Operator | undefined;
}

const BEARER = /^Bearer +(\S+) *$/i;
export const AUTH_REALM = 'Bearer realm="frostbunker-admin"';

/** Bearer-token authentication over AdminTokenStore; its per-request state stays in here. */
export function createOperatorAuth(tokens: Pick<AdminTokenStore, 'authenticate'>): OperatorAuth {
  const operators = new WeakMap<FastifyRequest, Operator>();
  return {
    async require(request, reply) {
      const header = request.headers.authorization;
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
  };
}

/** The audit actor of an operator's change. */
export function actorOf(operator: Operator): string {
  return `admin:${operator.label}`;
}

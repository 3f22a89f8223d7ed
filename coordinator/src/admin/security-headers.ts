import type { FastifyInstance } from 'fastify';

/** `default-src 'none'` and no framing, no base, no forms, plus `extra` directives. */
export function strictCsp(extra?: string): string {
  return ["default-src 'none'", "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'", ...(extra ? [extra] : [])].join('; ');
}

/**
 * On every response, errors and 404s included: nothing loads, nothing frames, nothing is cached or
 * sniffed, no referrer leaks an approval link. A route may tighten or extend the CSP (the approval
 * page allows its own style by hash).
 * @NOTE no HSTS: the server speaks plain HTTP on loopback; a TLS proxy in front (publicUrl) adds it.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': strictCsp(),
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=(), usb=()',
};

/** Adds the headers to `app` (the root instance, so every context inherits the hook). */
export function installSecurityHeaders(app: FastifyInstance): void {
  app.addHook('onRequest', async (_request, reply) => {
    void reply.headers(SECURITY_HEADERS);
  });
}

import type { FastifyRequest } from 'fastify';
import { AdminError } from './http-errors.js';

/**
 * The origins the admin server answers browsers at: where it listens, its publicUrl, and
 * `localhost` for a loopback listener. Anything else in `Host` is a DNS-rebinding page (a name
 * the attacker controls, resolved to 127.0.0.1) and gets no dashboard, login or session.
 */
export function allowedOriginsFor(urls: readonly string[]): string[] {
  const origins = new Set<string>();
  for (const text of urls) {
    if (!text) continue;
    const url = new URL(text);
    origins.add(url.origin);
    if (url.hostname === '127.0.0.1' || url.hostname === '[::1]') origins.add(`${url.protocol}//localhost${url.port ? `:${url.port}` : ''}`);
  }
  return [...origins];
}

/** Browser requests (dashboard, login, cookie sessions) are checked here; bearer API calls are not. */
export class OriginGuard {
  readonly #origins: () => readonly string[];

  constructor(origins: () => readonly string[]) {
    this.#origins = origins;
  }

  hostAllowed(request: FastifyRequest): boolean {
    const host = request.headers.host;
    if (host === undefined) return false;
    return this.#origins().some((origin) => new URL(origin).host === host.toLowerCase());
  }

  /** An `Origin` header, when the browser sends one, must be ours (it always does on a POST). */
  originAllowed(request: FastifyRequest): boolean {
    const origin = request.headers.origin;
    if (origin === undefined) return request.headers['sec-fetch-site'] === undefined || request.headers['sec-fetch-site'] === 'same-origin';
    return this.#origins().includes(origin);
  }

  /** Throws 403 unless the Host (and for an unsafe method, the Origin) is this server's own. */
  check(request: FastifyRequest): void {
    if (!this.hostAllowed(request)) throw new AdminError(403, 'FORBIDDEN', 'this server does not answer browsers at that host name (DNS rebinding?)');
    if (!isSafeMethod(request.method) && !this.originAllowed(request)) throw new AdminError(403, 'FORBIDDEN', 'cross-origin request refused');
  }
}

export function isSafeMethod(method: string): boolean {
  return method === 'GET' || method === 'HEAD' || method === 'OPTIONS';
}

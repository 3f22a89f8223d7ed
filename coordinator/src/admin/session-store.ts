import { createHash, randomBytes } from 'node:crypto';

/** A dashboard login: the admin token it was opened with, never the token itself. */
export interface AdminSession {
  tokenId: string;
  label: string;
  /** Sent back by the page in `x-csrf-token` on every mutation. */
  csrfToken: string;
  createdAtSec: number;
  expiresAtSec: number;
  lastSeenSec: number;
}

export interface SessionLimits {
  /** A session ends this long after login, however busy. */
  ttlSec: number;
  /** ... or after this long without a request. */
  idleSec: number;
  /** The oldest session is closed to make room; a token cannot pile up sessions. */
  maxSessions: number;
}

export const DEFAULT_SESSION_LIMITS: SessionLimits = { ttlSec: 8 * 3600, idleSec: 3600, maxSessions: 64 };

const SESSION_ID = /^fbs_[0-9a-f]{64}$/;
const hashId = (sessionId: string) => createHash('sha256').update(sessionId).digest('hex');

/**
 * Dashboard sessions, server-side and in memory: the cookie holds 32 random bytes, the map only
 * their sha256, so a heap dump or a log line of the map opens nothing. A restart logs everyone
 * out, which is the safe direction; a revoked admin token ends its sessions (checked by auth.ts).
 */
export class SessionStore {
  readonly #sessions = new Map<string, AdminSession>();
  readonly #nowSec: () => number;
  readonly #limits: SessionLimits;

  constructor(options: { nowSec: () => number; limits?: Partial<SessionLimits> }) {
    this.#nowSec = options.nowSec;
    this.#limits = { ...DEFAULT_SESSION_LIMITS, ...options.limits };
  }

  get ttlSec(): number {
    return this.#limits.ttlSec;
  }

  open(token: { tokenId: string; label: string }): { sessionId: string; session: AdminSession } {
    this.#prune();
    while (this.#sessions.size >= this.#limits.maxSessions) this.#sessions.delete(this.#sessions.keys().next().value!);
    const sessionId = `fbs_${randomBytes(32).toString('hex')}`;
    const nowSec = this.#nowSec();
    const session: AdminSession = {
      tokenId: token.tokenId,
      label: token.label,
      csrfToken: randomBytes(32).toString('hex'),
      createdAtSec: nowSec,
      expiresAtSec: nowSec + this.#limits.ttlSec,
      lastSeenSec: nowSec,
    };
    this.#sessions.set(hashId(sessionId), session);
    return { sessionId, session };
  }

  /** The live session `sessionId` names (and marks it seen), or undefined. */
  find(sessionId: string): AdminSession | undefined {
    if (!SESSION_ID.test(sessionId)) return undefined;
    const key = hashId(sessionId);
    const session = this.#sessions.get(key);
    if (!session) return undefined;
    const nowSec = this.#nowSec();
    if (nowSec >= session.expiresAtSec || nowSec - session.lastSeenSec >= this.#limits.idleSec) {
      this.#sessions.delete(key);
      return undefined;
    }
    session.lastSeenSec = nowSec;
    return session;
  }

  close(sessionId: string): void {
    if (SESSION_ID.test(sessionId)) this.#sessions.delete(hashId(sessionId));
  }

  #prune(): void {
    const nowSec = this.#nowSec();
    for (const [key, session] of this.#sessions) {
      if (nowSec >= session.expiresAtSec || nowSec - session.lastSeenSec >= this.#limits.idleSec) this.#sessions.delete(key);
    }
  }
}

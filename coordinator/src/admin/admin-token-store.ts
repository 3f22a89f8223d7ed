import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { ConfigError } from '@frostbunker/shared/errors';
import type { Actor } from '../acl-store/acl-admin.js';
import type { AclDatabase } from '../acl-store/database.js';
import type { AuditLog } from '../audit/audit-log.js';

/** An operator's credential as the admin API knows it: never the token itself. */
export interface AdminTokenInfo {
  tokenId: string;
  label: string;
  createdAtSec: number;
  revokedAtSec?: number;
}

export interface CreatedAdminToken extends AdminTokenInfo {
  /** The bearer token: shown once, stored only as its sha256. */
  token: string;
}

interface AdminTokenRow {
  token_id: string;
  label: string;
  token_hash: string;
  created_at_sec: number;
  revoked_at_sec: number | null;
}

/** `fba_` (frostbunker admin, so scanners and people can tell it apart) + 32 random bytes, hex. */
const TOKEN_PREFIX = 'fba_';
const TOKEN_FORMAT = /^fba_[0-9a-f]{64}$/;
const LABEL_FORMAT = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

const hashToken = (token: string) => createHash('sha256').update(token).digest();

export function isAdminTokenLabel(text: unknown): text is string {
  return typeof text === 'string' && LABEL_FORMAT.test(text);
}

/**
 * Bearer tokens of the admin API, one per operator (or script), each with a label that names it in
 * audit rows. Creation and revocation are audited in the same transaction; a revoked token stops
 * working on the very next request, whichever process revoked it (the server reads this table on
 * every request).
 */
export class AdminTokenStore {
  readonly #db: AclDatabase;
  readonly #audit: AuditLog;
  readonly #nowSec: () => number;

  constructor(options: { db: AclDatabase; audit: AuditLog; nowSec: () => number }) {
    this.#db = options.db;
    this.#audit = options.audit;
    this.#nowSec = options.nowSec;
  }

  create(label: string, by: Actor): CreatedAdminToken {
    if (!isAdminTokenLabel(label)) throw new ConfigError('label', 'expected 1-64 characters: letters, digits and . _ @ - (not first)');
    const tokenId = `adm_${randomBytes(8).toString('hex')}`;
    const token = `${TOKEN_PREFIX}${randomBytes(32).toString('hex')}`;
    const createdAtSec = this.#nowSec();
    this.#db
      .transaction(() => {
        if (this.#liveByLabel(label)) throw new ConfigError('label', `a live admin token is already labelled "${label}": revoke it or pick another label`);
        this.#db
          .prepare('INSERT INTO admin_tokens (token_id, label, token_hash, created_at_sec) VALUES (?, ?, ?, ?)')
          .run(tokenId, label, hashToken(token).toString('hex'), createdAtSec);
        this.#audit.append({ actor: by.actor, action: 'admin_token.create', target: `admin/${tokenId}`, reason: by.reason, before: null, after: { tokenId, label } });
      })
      .immediate();
    return { tokenId, label, createdAtSec, token };
  }

  list(): AdminTokenInfo[] {
    return this.#db.prepare<[], AdminTokenRow>('SELECT * FROM admin_tokens ORDER BY created_at_sec, rowid').all().map(toInfo);
  }

  revoke(tokenId: string, by: Actor): AdminTokenInfo {
    return this.#db
      .transaction(() => {
        const row = this.#db.prepare<[string], AdminTokenRow>('SELECT * FROM admin_tokens WHERE token_id = ?').get(tokenId);
        if (!row) throw new ConfigError('token', `no admin token ${tokenId}`);
        if (row.revoked_at_sec !== null) throw new ConfigError('token', `admin token ${tokenId} is already revoked`);
        this.#db.prepare('UPDATE admin_tokens SET revoked_at_sec = ? WHERE token_id = ?').run(this.#nowSec(), tokenId);
        this.#audit.append({ actor: by.actor, action: 'admin_token.revoke', target: `admin/${tokenId}`, reason: by.reason, before: toInfo(row), after: { tokenId, label: row.label, revoked: true } });
        return toInfo(this.#db.prepare<[string], AdminTokenRow>('SELECT * FROM admin_tokens WHERE token_id = ?').get(tokenId)!);
      })
      .immediate();
  }

  /**
   * The live token `token` is, or undefined. Every live hash is compared in constant time and the
   * loop never stops early, so the time taken says nothing about how close a guess was.
   */
  authenticate(token: string): AdminTokenInfo | undefined {
    if (!TOKEN_FORMAT.test(token)) return undefined;
    const presented = hashToken(token);
    let match: AdminTokenRow | undefined;
    for (const row of this.#db.prepare<[], AdminTokenRow>('SELECT * FROM admin_tokens WHERE revoked_at_sec IS NULL').all()) {
      if (timingSafeEqual(presented, Buffer.from(row.token_hash, 'hex')) && match === undefined) match = row;
    }
    return match && toInfo(match);
  }

  /** Whether `tokenId` is a token that is not revoked (a dashboard session lives only as long as its token). */
  isLive(tokenId: string): boolean {
    return this.#db.prepare('SELECT 1 FROM admin_tokens WHERE token_id = ? AND revoked_at_sec IS NULL').get(tokenId) !== undefined;
  }

  #liveByLabel(label: string): AdminTokenRow | undefined {
    return this.#db.prepare<[string], AdminTokenRow>('SELECT * FROM admin_tokens WHERE label = ? AND revoked_at_sec IS NULL').get(label);
  }
}

function toInfo(row: AdminTokenRow): AdminTokenInfo {
  return {
    tokenId: row.token_id,
    label: row.label,
    createdAtSec: row.created_at_sec,
    ...(row.revoked_at_sec === null ? {} : { revokedAtSec: row.revoked_at_sec }),
  };
}

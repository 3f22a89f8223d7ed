import { createHash, randomBytes } from 'node:crypto';
import { FrostbunkerError } from '@frostbunker/shared/errors';
import { isLive } from '../acl/liveness.js';
import { formatPerms, grantTemplatesFromPerms, parsePerms } from '../acl/perms.js';
import type { Grant, TrustLevel } from '../acl/types.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { AclDatabase } from './database.js';

interface TokenRow {
  token_id: string;
  perms: string;
  label: string;
  expires_at_sec: number;
  grant_expires_at_sec: number | null;
  redeemed_by: string | null;
  revoked_at_sec: number | null;
}

export interface CreatedToken {
  tokenId: string;
  /** The bunker:// secret: shown once, stored only as its sha256. */
  secret: string;
  perms: string;
  expiresAtSec: number;
}

export type Redemption = 'redeemed' | 'already_yours';

/** Trust level of a subject created by redeeming a token: only its perms allow; the rest asks. */
const REDEEMED_TRUST: TrustLevel = 'paranoid';

const hashSecret = (secret: string) => createHash('sha256').update(secret).digest('hex');

/**
 * One-time connection tokens (DESIGN.md Live ACL): mandatory expiry, atomic redemption bound to the
 * first client, grants joined live from the token's perms (revoking the token revokes them; they
 * are never copied into permanent rows). Creation and redemption are audited.
 */
export class TokenStore {
  readonly #db: AclDatabase;
  readonly #audit: AuditLog;
  readonly #identity: string;
  readonly #nowSec: () => number;

  constructor(options: { db: AclDatabase; audit: AuditLog; identity: string; nowSec: () => number }) {
    this.#db = options.db;
    this.#audit = options.audit;
    this.#identity = options.identity;
    this.#nowSec = options.nowSec;
  }

  /** Creates a token whose grants are exactly `perms` (NIP-46 grammar); throws on bad perms. */
  create(options: { perms: string; ttlSec: number; grantTtlSec?: number; label: string; actor: string }): CreatedToken {
    const perms = formatPerms(parsePerms(options.perms));
    if (!(Number.isInteger(options.ttlSec) && options.ttlSec > 0)) throw new FrostbunkerError('PROTOCOL_INVALID', 'ttl: a token must expire');
    const tokenId = `t_${randomBytes(8).toString('hex')}`;
    const secret = randomBytes(32).toString('hex');
    const nowSec = this.#nowSec();
    const expiresAtSec = nowSec + options.ttlSec;
    const grantExpiresAtSec = options.grantTtlSec === undefined ? null : nowSec + options.grantTtlSec;
    this.#db
      .transaction(() => {
        this.#db
          .prepare(`INSERT INTO tokens (token_id, identity, secret_hash, perms, label, created_at_sec, expires_at_sec, grant_expires_at_sec)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
          .run(tokenId, this.#identity, hashSecret(secret), perms, options.label, nowSec, expiresAtSec, grantExpiresAtSec);
        this.#audit.append({
          actor: options.actor,
          action: 'token.create',
          target: `${this.#identity}/${tokenId}`,
          reason: options.label,
          before: null,
          after: { tokenId, perms, expiresAtSec, grantExpiresAtSec },
        });
      })
      .immediate();
    return { tokenId, secret, perms, expiresAtSec };
  }

  /**
   * Redeems `secret` for `clientPubkey` in one IMMEDIATE transaction: a live, unredeemed token binds
   * to this client (creating its subject); the same client again gets `already_yours`; anyone else,
   * an expired, revoked or unknown token get an error (INTEROP.md; RELIABILITY.md T12).
   */
  redeem(secret: string, clientPubkey: string): Redemption {
    return this.#db
      .transaction((): Redemption => {
        const row = this.#db
          .prepare<[string, string], TokenRow>('SELECT * FROM tokens WHERE identity = ? AND secret_hash = ?')
          .get(this.#identity, hashSecret(secret));
        const nowSec = this.#nowSec();
        if (row?.redeemed_by === clientPubkey && row.revoked_at_sec === null) return 'already_yours';
        // One liveness predicate for token redemption and request time (acl/liveness.ts).
        if (!row || row.redeemed_by !== null || !isLive({ expiresAtSec: row.expires_at_sec, revokedAtSec: row.revoked_at_sec ?? undefined }, nowSec)) {
          throw new FrostbunkerError('ACL_DENIED', 'invalid, expired or already used connection token');
        }
        this.#db.prepare('UPDATE tokens SET redeemed_by = ?, redeemed_at_sec = ? WHERE token_id = ?').run(clientPubkey, nowSec, row.token_id);
        this.#db
          .prepare('INSERT OR IGNORE INTO subjects (identity, client_pubkey, trust_level, created_at_sec) VALUES (?, ?, ?, ?)')
          .run(this.#identity, clientPubkey, REDEEMED_TRUST, nowSec);
        this.#audit.append({
          actor: `token:${row.token_id}`,
          action: 'token.redeem',
          target: `${this.#identity}/${clientPubkey}`,
          reason: row.label,
          before: null,
          after: { tokenId: row.token_id, clientPubkey, perms: row.perms },
        });
        return 'redeemed';
      })
      .immediate();
  }

  /**
   * NIP-46 nostrconnect: the operator accepts a client's URI. The client gets the operator's perms
   * (its own requested perms are recorded for the audit, never granted as such) through a token
   * born redeemed by it, so they are joined live and `logout` takes them away like any token's.
   */
  acceptNostrConnect(options: { clientPubkey: string; perms: string; requestedPerms?: string; label: string; actor: string; grantTtlSec?: number }): { tokenId: string; perms: string } {
    const perms = formatPerms(parsePerms(options.perms));
    const tokenId = `t_${randomBytes(8).toString('hex')}`;
    const nowSec = this.#nowSec();
    const grantExpiresAtSec = options.grantTtlSec === undefined ? null : nowSec + options.grantTtlSec;
    this.#db
      .transaction(() => {
        // The secret is never shown to anyone: this token can only ever belong to this client.
        this.#db
          .prepare(`INSERT INTO tokens (token_id, identity, secret_hash, perms, label, created_at_sec, expires_at_sec, grant_expires_at_sec, redeemed_by, redeemed_at_sec)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
          .run(tokenId, this.#identity, hashSecret(randomBytes(32).toString('hex')), perms, options.label, nowSec, nowSec, grantExpiresAtSec, options.clientPubkey, nowSec);
        this.#db
          .prepare('INSERT OR IGNORE INTO subjects (identity, client_pubkey, trust_level, created_at_sec) VALUES (?, ?, ?, ?)')
          .run(this.#identity, options.clientPubkey, REDEEMED_TRUST, nowSec);
        this.#audit.append({
          actor: options.actor,
          action: 'nostrconnect.accept',
          target: `${this.#identity}/${options.clientPubkey}`,
          reason: options.label,
          before: null,
          after: { tokenId, perms, requestedPerms: options.requestedPerms ?? null, grantExpiresAtSec },
        });
      })
      .immediate();
    return { tokenId, perms };
  }

  /** NIP-46 logout: the client's tokens stop granting anything; explicit grants stay. */
  logout(clientPubkey: string): void {
    this.#db
      .transaction(() => {
        const changes = this.#db
          .prepare('UPDATE tokens SET revoked_at_sec = ? WHERE identity = ? AND redeemed_by = ? AND revoked_at_sec IS NULL')
          .run(this.#nowSec(), this.#identity, clientPubkey).changes;
        if (changes > 0) {
          this.#audit.append({ actor: `client:${clientPubkey}`, action: 'token.logout', target: `${this.#identity}/${clientPubkey}`, reason: 'logout', before: null, after: { tokens: changes } });
        }
      })
      .immediate();
  }
}

/** The grants a client holds through redeemed, unrevoked tokens, derived now from their perms. */
export function loadTokenGrants(db: AclDatabase, identity: string, clientPubkey: string): Grant[] {
  const rows = db
    .prepare<[string, string], TokenRow>('SELECT * FROM tokens WHERE identity = ? AND redeemed_by = ? AND revoked_at_sec IS NULL')
    .all(identity, clientPubkey);
  return rows.flatMap((row) =>
    grantTemplatesFromPerms(parsePerms(row.perms), row.grant_expires_at_sec === null ? {} : { expiresAtSec: row.grant_expires_at_sec }).map(
      (template, index): Grant => ({ ...template, grantId: `${row.token_id}:${index}`, clientPubkey, source: 'token' }),
    ),
  );
}

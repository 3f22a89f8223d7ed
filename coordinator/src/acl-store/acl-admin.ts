import { randomBytes } from 'node:crypto';
import type { Nip46MethodName } from '@frostbunker/shared/protocol';
import type { KindScope, TrustLevel, UsageCap } from '../acl/types.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { AclDatabase } from './database.js';

/** Who did it and why: every change carries both into its audit row. */
export interface Actor {
  actor: string;
  reason: string;
}

export interface GrantInput {
  clientPubkey: string;
  method: Nip46MethodName;
  kind?: KindScope;
  notBeforeSec?: number;
  expiresAtSec?: number;
  usageCap?: UsageCap;
}

export interface DenialInput {
  clientPubkey: string;
  method: Nip46MethodName | '*';
  kind?: KindScope;
  untilSec?: number;
}

/**
 * The operations that change the ACL of one identity. Each writes its rows and its audit row in
 * one transaction (STYLE.md 2.7: audit lives in the domain operation, not in a route handler), so
 * the CLI, the admin API and the dashboard cannot diverge, and nothing changes unaudited.
 */
export class AclAdmin {
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

  /** Creates the subject or changes its trust level. */
  setTrustLevel(clientPubkey: string, trustLevel: TrustLevel, by: Actor): void {
    this.#change(by, 'subject.trust', clientPubkey, () => {
      const before = this.#subject(clientPubkey);
      this.#db
        .prepare(`INSERT INTO subjects (identity, client_pubkey, trust_level, created_at_sec) VALUES (?, ?, ?, ?)
                  ON CONFLICT (identity, client_pubkey) DO UPDATE SET trust_level = excluded.trust_level`)
        .run(this.#identity, clientPubkey, trustLevel, this.#nowSec());
      return { before, after: this.#subject(clientPubkey) };
    });
  }

  revokeSubject(clientPubkey: string, by: Actor): void {
    this.#change(by, 'subject.revoke', clientPubkey, () => {
      const before = this.#requireSubject(clientPubkey);
      this.#db.prepare('UPDATE subjects SET revoked_at_sec = ? WHERE identity = ? AND client_pubkey = ?').run(this.#nowSec(), this.#identity, clientPubkey);
      return { before, after: this.#subject(clientPubkey) };
    });
  }

  suspendSubject(clientPubkey: string, untilSec: number, by: Actor): void {
    this.#change(by, 'subject.suspend', clientPubkey, () => {
      const before = this.#requireSubject(clientPubkey);
      this.#db
        .prepare('UPDATE subjects SET suspended_until_sec = ?, suspension_reason = ?, suspension_actor = ? WHERE identity = ? AND client_pubkey = ?')
        .run(untilSec, by.reason, by.actor, this.#identity, clientPubkey);
      return { before, after: this.#subject(clientPubkey) };
    });
  }

  grant(input: GrantInput, by: Actor): string {
    const grantId = `g_${randomBytes(8).toString('hex')}`;
    this.#change(by, 'grant.create', input.clientPubkey, () => {
      this.#db
        .prepare(`INSERT INTO grants (grant_id, identity, client_pubkey, method, kind, not_before_sec, expires_at_sec, usage_cap_max, usage_cap_window_sec, source, created_at_sec)
                  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'explicit', ?)`)
        .run(grantId, this.#identity, input.clientPubkey, input.method, input.kind === undefined ? null : String(input.kind),
          input.notBeforeSec ?? null, input.expiresAtSec ?? null, input.usageCap?.max ?? null, input.usageCap?.windowSec ?? null, this.#nowSec());
      return { before: null, after: { grantId, ...input } };
    });
    return grantId;
  }

  /** Soft revoke: the row stays for the audit trail and is never live again. */
  revokeGrant(grantId: string, clientPubkey: string, by: Actor): void {
    this.#change(by, 'grant.revoke', clientPubkey, () => {
      const changes = this.#db
        .prepare('UPDATE grants SET revoked_at_sec = ? WHERE grant_id = ? AND identity = ? AND client_pubkey = ? AND revoked_at_sec IS NULL')
        .run(this.#nowSec(), grantId, this.#identity, clientPubkey).changes;
      if (changes !== 1) throw new Error(`no live grant ${grantId} for ${clientPubkey}`);
      return { before: { grantId }, after: { grantId, revoked: true } };
    });
  }

  deny(input: DenialInput, by: Actor): string {
    const denialId = `d_${randomBytes(8).toString('hex')}`;
    this.#change(by, 'denial.create', input.clientPubkey, () => {
      this.#db
        .prepare(`INSERT INTO denials (denial_id, identity, client_pubkey, method, kind, until_sec, reason, actor, created_at_sec) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
        .run(denialId, this.#identity, input.clientPubkey, input.method, input.kind === undefined ? null : String(input.kind),
          input.untilSec ?? null, by.reason, by.actor, this.#nowSec());
      return { before: null, after: { denialId, ...input } };
    });
    return denialId;
  }

  #change(by: Actor, action: string, target: string, apply: () => { before: unknown; after: unknown }): void {
    this.#db
      .transaction(() => {
        const { before, after } = apply();
        this.#audit.append({ actor: by.actor, action, target: `${this.#identity}/${target}`, reason: by.reason, before, after });
      })
      .immediate();
  }

  #subject(clientPubkey: string): unknown {
    return this.#db.prepare('SELECT * FROM subjects WHERE identity = ? AND client_pubkey = ?').get(this.#identity, clientPubkey) ?? null;
  }

  #requireSubject(clientPubkey: string): unknown {
    const subject = this.#subject(clientPubkey);
    if (subject === null) throw new Error(`unknown client ${clientPubkey}`);
    return subject;
  }
}

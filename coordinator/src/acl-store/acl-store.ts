import type { Failpoints } from '@frostbunker/shared/config';
import type { Nip46MethodName } from '@frostbunker/shared/protocol';
import type { AclRows, Denial, Grant, KindScope, Subject, TrustLevel, Verdict } from '../acl/types.js';
import type { AclDatabase } from './database.js';
import { loadTokenGrants } from './token-store.js';

interface SubjectRow {
  client_pubkey: string;
  trust_level: string;
  revoked_at_sec: number | null;
  suspended_until_sec: number | null;
  suspension_reason: string | null;
  suspension_actor: string | null;
}
interface GrantRow {
  grant_id: string;
  client_pubkey: string;
  method: string;
  kind: string | null;
  not_before_sec: number | null;
  expires_at_sec: number | null;
  usage_cap_max: number | null;
  usage_cap_window_sec: number | null;
  revoked_at_sec: number | null;
  source: string;
}
interface DenialRow {
  denial_id: string;
  client_pubkey: string;
  method: string;
  kind: string | null;
  until_sec: number | null;
  reason: string;
  actor: string;
}

/** One NIP-46 request as the request log records it: metadata only, never content (RELIABILITY 2.5). */
export interface RequestLogEntry {
  identity: string;
  clientPubkey: string;
  requestId: string;
  method: Nip46MethodName;
  kind?: number;
  eventId?: string;
}

/** SQL as typed constants (STYLE.md: applesauce's SQL statements). */
const SQL = {
  subject: 'SELECT * FROM subjects WHERE identity = ? AND client_pubkey = ?',
  grants: 'SELECT * FROM grants WHERE identity = ? AND client_pubkey = ?',
  denials: 'SELECT * FROM denials WHERE identity = ? AND client_pubkey = ?',
  usage: 'SELECT count(*) AS n FROM request_log WHERE grant_id = ? AND decision = \'allow\' AND at_sec > ?',
  insertRequest: `INSERT INTO request_log (at_sec, identity, client_pubkey, request_id, method, kind, event_id, decision, rule, grant_id)
                  VALUES (@atSec, @identity, @clientPubkey, @requestId, @method, @kind, @eventId, @decision, @rule, @grantId)`,
} as const;

/**
 * Reads the ACL rows for one request and writes the request log. The verdict itself is computed by
 * the caller (pure `decideVerdict`) from what `loadRows` returns, inside `decideAndLog`'s
 * transaction, so a usage cap is counted and consumed atomically.
 */
export class AclStore {
  readonly #db: AclDatabase;
  readonly #nowSec: () => number;
  readonly #failpoints: Failpoints | undefined;

  constructor(db: AclDatabase, options: { nowSec: () => number; failpoints?: Failpoints }) {
    this.#db = db;
    this.#nowSec = options.nowSec;
    this.#failpoints = options.failpoints;
  }

  /** Rows for one client of one identity, with each capped grant's usage inside its window. */
  loadRows(identity: string, clientPubkey: string): AclRows {
    const nowSec = this.#nowSec();
    const subjectRow = this.#db.prepare<[string, string], SubjectRow>(SQL.subject).get(identity, clientPubkey);
    // Token grants are joined live from the token's perms, never copied into the grants table.
    const grants = [
      ...this.#db.prepare<[string, string], GrantRow>(SQL.grants).all(identity, clientPubkey).map(toGrant),
      ...loadTokenGrants(this.#db, identity, clientPubkey),
    ];
    const denials = this.#db.prepare<[string, string], DenialRow>(SQL.denials).all(identity, clientPubkey).map(toDenial);
    const usage = new Map<string, number>();
    const countUsage = this.#db.prepare<[string, number], { n: number }>(SQL.usage);
    for (const grant of grants) {
      if (grant.usageCap) usage.set(grant.grantId, countUsage.get(grant.grantId, nowSec - grant.usageCap.windowSec)!.n);
    }
    return { ...(subjectRow ? { subject: toSubject(subjectRow) } : {}), grants, denials, usage };
  }

  /**
   * Records a signature the coordinator asks for itself (the NIP-4e 10044 announcement), so the
   * request log holds every event the share nodes co-sign and `audit reconcile` can account for it.
   */
  logInternalSigning(identity: string, event: { kind: number; eventId: string }, rule: string): void {
    this.#insertRequestRow(
      { identity, clientPubkey: 'coordinator', requestId: `internal:${event.eventId}`, method: 'sign_event', kind: event.kind, eventId: event.eventId },
      { decision: 'allow', rule, grantId: null, atSec: this.#nowSec() },
    );
  }

  /** A client of this identity that is not revoked: its requests skip the unknown-sender budget. */
  isKnownClient(identity: string, clientPubkey: string): boolean {
    return this.#db
      .prepare<[string, string], { n: number }>('SELECT count(*) AS n FROM subjects WHERE identity = ? AND client_pubkey = ? AND revoked_at_sec IS NULL')
      .get(identity, clientPubkey)!.n > 0;
  }

  /** Records that an operator approved a request the ACL had answered with "ask". */
  logOperatorApproval(entry: RequestLogEntry): void {
    this.#insertRequestRow(entry, { decision: 'allow', rule: 'operator_approval', grantId: null, atSec: this.#nowSec() });
  }

  /** Every event id allowed for signing, for `audit reconcile`. */
  signedEventIds(): Set<string> {
    const rows = this.#db
      .prepare<[], { event_id: string }>("SELECT DISTINCT event_id FROM request_log WHERE method = 'sign_event' AND decision = 'allow' AND event_id IS NOT NULL")
      .all();
    return new Set(rows.map((row) => row.event_id));
  }

  /**
   * Loads the rows, asks `decide` for the verdict and appends the request-log row, all in one
   * IMMEDIATE transaction: concurrent requests under a capped grant cannot both see the last unit.
   */
  decideAndLog(entry: RequestLogEntry, decide: (rows: AclRows, nowSec: number) => Verdict): Verdict {
    return this.#db
      .transaction(() => {
        const nowSec = this.#nowSec();
        const verdict = decide(this.loadRows(entry.identity, entry.clientPubkey), nowSec);
        const grantId = 'grantId' in verdict.rule ? verdict.rule.grantId : null;
        this.#insertRequestRow(entry, { decision: verdict.decision, rule: verdict.rule.rule, grantId, atSec: nowSec });
        return verdict;
      })
      .immediate();
  }

  #insertRequestRow(entry: RequestLogEntry, outcome: { decision: string; rule: string; grantId: string | null; atSec: number }): void {
    this.#failpoints?.hit('request_log.insert');
    this.#db.prepare(SQL.insertRequest).run({
      atSec: outcome.atSec,
      identity: entry.identity,
      clientPubkey: entry.clientPubkey,
      requestId: entry.requestId,
      method: entry.method,
      kind: entry.kind ?? null,
      eventId: entry.eventId ?? null,
      decision: outcome.decision,
      rule: outcome.rule,
      grantId: outcome.grantId,
    });
  }
}

function toSubject(row: SubjectRow): Subject {
  return {
    clientPubkey: row.client_pubkey,
    trustLevel: row.trust_level as TrustLevel,
    ...(row.revoked_at_sec === null ? {} : { revokedAtSec: row.revoked_at_sec }),
    ...(row.suspended_until_sec === null
      ? {}
      : { suspension: { untilSec: row.suspended_until_sec, reason: row.suspension_reason ?? '', actor: row.suspension_actor ?? '' } }),
  };
}

function toKind(kind: string | null): KindScope | undefined {
  if (kind === null) return undefined;
  return kind === '*' ? '*' : Number(kind);
}

function toGrant(row: GrantRow): Grant {
  const kind = toKind(row.kind);
  return {
    grantId: row.grant_id,
    clientPubkey: row.client_pubkey,
    method: row.method as Nip46MethodName,
    source: row.source === 'token' ? 'token' : 'explicit',
    ...(kind === undefined ? {} : { kind }),
    ...(row.not_before_sec === null ? {} : { notBeforeSec: row.not_before_sec }),
    ...(row.expires_at_sec === null ? {} : { expiresAtSec: row.expires_at_sec }),
    ...(row.revoked_at_sec === null ? {} : { revokedAtSec: row.revoked_at_sec }),
    ...(row.usage_cap_max === null || row.usage_cap_window_sec === null
      ? {}
      : { usageCap: { max: row.usage_cap_max, windowSec: row.usage_cap_window_sec } }),
  };
}

function toDenial(row: DenialRow): Denial {
  const kind = toKind(row.kind);
  return {
    denialId: row.denial_id,
    clientPubkey: row.client_pubkey,
    method: row.method as Denial['method'],
    reason: row.reason,
    actor: row.actor,
    ...(kind === undefined ? {} : { kind }),
    ...(row.until_sec === null ? {} : { untilSec: row.until_sec }),
  };
}

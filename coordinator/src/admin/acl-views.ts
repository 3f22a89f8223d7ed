import { isInForce, isLive } from '../acl/liveness.js';
import type { AclStore } from '../acl-store/acl-store.js';
import type { AclDatabase } from '../acl-store/database.js';
import type { ClientView, RequestLogView } from './schemas.js';

interface RequestLogRow {
  request_seq: number;
  at_sec: number;
  identity: string;
  client_pubkey: string;
  request_id: string;
  method: string;
  kind: number | null;
  event_id: string | null;
  decision: string;
  rule: string;
  grant_id: string | null;
}

/** Read-only views of the ACL and the request log for the admin API (never request content). */
export class AclViews {
  readonly #db: AclDatabase;
  readonly #acl: AclStore;
  readonly #nowSec: () => number;

  constructor(options: { db: AclDatabase; acl: AclStore; nowSec: () => number }) {
    this.#db = options.db;
    this.#acl = options.acl;
    this.#nowSec = options.nowSec;
  }

  /** Every client the identity has a subject, grant or denial for, oldest subject first. */
  clients(identity: string): ClientView[] {
    const rows = this.#db
      .prepare<[string, string, string], { client_pubkey: string }>(
        `SELECT client_pubkey FROM (
           SELECT client_pubkey, created_at_sec FROM subjects WHERE identity = ?
           UNION ALL SELECT client_pubkey, created_at_sec FROM grants WHERE identity = ?
           UNION ALL SELECT client_pubkey, created_at_sec FROM denials WHERE identity = ?)
         GROUP BY client_pubkey ORDER BY min(created_at_sec), client_pubkey`,
      )
      .all(identity, identity, identity);
    return rows.map((row) => this.client(identity, row.client_pubkey));
  }

  hasSubject(identity: string, clientPubkey: string): boolean {
    return this.#db.prepare('SELECT 1 FROM subjects WHERE identity = ? AND client_pubkey = ?').get(identity, clientPubkey) !== undefined;
  }

  /** One client as the verdict sees it now: subject state, explicit and token grants, denials. */
  client(identity: string, clientPubkey: string): ClientView {
    const nowSec = this.#nowSec();
    const rows = this.#acl.loadRows(identity, clientPubkey);
    const subject = rows.subject;
    return {
      clientPubkey,
      ...(subject ? { trustLevel: subject.trustLevel } : {}),
      ...(subject?.revokedAtSec === undefined ? {} : { revokedAtSec: subject.revokedAtSec }),
      ...(subject?.suspension === undefined ? {} : { suspension: subject.suspension }),
      grants: rows.grants.map((grant) => ({
        ...grant,
        ...(grant.usageCap ? { usedInWindow: rows.usage.get(grant.grantId) ?? 0 } : {}),
        live: isLive(grant, nowSec),
      })),
      denials: rows.denials.map((denial) => ({ ...denial, live: isInForce(denial, nowSec) })),
    };
  }

  /** The newest `count` request log rows, oldest first; optionally one identity's or one client's. */
  requestLog(count: number, filter: { identity?: string; clientPubkey?: string }): RequestLogView[] {
    const rows = this.#db
      .prepare<[{ identity: string | null; client: string | null; count: number }], RequestLogRow>(
        `SELECT * FROM request_log WHERE (@identity IS NULL OR identity = @identity) AND (@client IS NULL OR client_pubkey = @client)
         ORDER BY request_seq DESC LIMIT @count`,
      )
      .all({ identity: filter.identity ?? null, client: filter.clientPubkey ?? null, count });
    return rows.reverse().map((row) => ({
      requestSeq: row.request_seq,
      atSec: row.at_sec,
      identity: row.identity,
      clientPubkey: row.client_pubkey,
      requestId: row.request_id,
      method: row.method,
      ...(row.kind === null ? {} : { kind: row.kind }),
      ...(row.event_id === null ? {} : { eventId: row.event_id }),
      decision: row.decision,
      rule: row.rule,
      ...(row.grant_id === null ? {} : { grantId: row.grant_id }),
    }));
  }
}

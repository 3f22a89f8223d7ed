import { randomBytes } from 'node:crypto';
import { FrostbunkerError } from '@frostbunker/shared/errors';
import type { Nip46MethodName } from '@frostbunker/shared/protocol';
import type { Actor } from '../acl-store/acl-admin.js';
import type { AclDatabase } from '../acl-store/database.js';
import type { AuditLog } from '../audit/audit-log.js';

export type ApprovalState = 'pending' | 'approved' | 'denied' | 'expired';
/** Who decides: this coordinator's operator, or the operator of the named share node. */
export type WaitingOn = 'operator' | `node:${string}`;
export type ReplyScheme = 'nip44' | 'nip04';

/** One request waiting for (or past) a decision; what the CLI, the API and the dashboard show. */
export interface ApprovalRecord {
  approvalId: string;
  identity: string;
  clientPubkey: string;
  requestId: string;
  method: Nip46MethodName;
  kind?: number;
  eventId?: string;
  /** The request's method and params, for the operator to read; gone once answered. */
  request?: { method: string; params: string[] };
  scheme: ReplyScheme;
  /** The ACL rule that asked (or `node_approval`). */
  rule: string;
  waitingOn: WaitingOn;
  createdAtSec: number;
  expiresAtSec: number;
  state: ApprovalState;
  decidedBy?: string;
  decidedAtSec?: number;
  decisionReason?: string;
  answeredAtSec?: number;
}

export interface OpenApprovalInput {
  identity: string;
  clientPubkey: string;
  requestId: string;
  method: Nip46MethodName;
  kind?: number;
  eventId?: string;
  request: { method: string; params: string[] };
  scheme: ReplyScheme;
  rule: string;
  waitingOn: WaitingOn;
  timeoutSec: number;
}

/** RELIABILITY.md 2.4 (G16): a bounded queue of pending approvals, so a client cannot fill it. */
export interface ApprovalLimits {
  maxOpen: number;
  maxOpenPerClient: number;
}

export const DEFAULT_APPROVAL_LIMITS: ApprovalLimits = { maxOpen: 64, maxOpenPerClient: 4 };

interface ApprovalRow {
  approval_id: string;
  identity: string;
  client_pubkey: string;
  request_id: string;
  method: string;
  kind: number | null;
  event_id: string | null;
  request_json: string | null;
  scheme: string;
  rule: string;
  waiting_on: string;
  created_at_sec: number;
  expires_at_sec: number;
  state: string;
  decided_by: string | null;
  decided_at_sec: number | null;
  decision_reason: string | null;
  answered_at_sec: number | null;
}

const APPROVAL_ID = /^apr_[0-9a-f]{16}$/;

export function isApprovalId(text: unknown): text is string {
  return typeof text === 'string' && APPROVAL_ID.test(text);
}

/**
 * Requests waiting for a decision, in the coordinator's database so that the CLI (another
 * process), the admin API and a restarted coordinator all see the same queue. A decision by an
 * operator is audited in the same transaction as the change of state.
 */
export class ApprovalStore {
  readonly #db: AclDatabase;
  readonly #audit: AuditLog;
  readonly #nowSec: () => number;
  readonly #limits: ApprovalLimits;

  constructor(options: { db: AclDatabase; audit: AuditLog; nowSec: () => number; limits?: ApprovalLimits }) {
    this.#db = options.db;
    this.#audit = options.audit;
    this.#nowSec = options.nowSec;
    this.#limits = options.limits ?? DEFAULT_APPROVAL_LIMITS;
  }

  /** Queues a request; throws ACL_DENIED when the queue (or this client's share of it) is full. */
  open(input: OpenApprovalInput): ApprovalRecord {
    const approvalId = `apr_${randomBytes(8).toString('hex')}`;
    return this.#db
      .transaction(() => {
        const nowSec = this.#nowSec();
        this.#expireDue(nowSec);
        const open = this.#db
          .prepare<[], { total: number }>("SELECT count(*) AS total FROM approvals WHERE state = 'pending'")
          .get()!.total;
        const mine = this.#db
          .prepare<[string, string], { total: number }>("SELECT count(*) AS total FROM approvals WHERE state = 'pending' AND identity = ? AND client_pubkey = ?")
          .get(input.identity, input.clientPubkey)!.total;
        if (open >= this.#limits.maxOpen || mine >= this.#limits.maxOpenPerClient) {
          throw new FrostbunkerError('ACL_DENIED', 'too many requests are waiting for approval; try again later');
        }
        this.#db
          .prepare(`INSERT INTO approvals (approval_id, identity, client_pubkey, request_id, method, kind, event_id, request_json, scheme, rule, waiting_on, created_at_sec, expires_at_sec, state)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending')`)
          .run(approvalId, input.identity, input.clientPubkey, input.requestId, input.method, input.kind ?? null, input.eventId ?? null,
            JSON.stringify(input.request), input.scheme, input.rule, input.waitingOn, nowSec, nowSec + input.timeoutSec);
        return this.get(approvalId)!;
      })
      .immediate();
  }

  get(approvalId: string): ApprovalRecord | undefined {
    const row = this.#db.prepare<[string], ApprovalRow>('SELECT * FROM approvals WHERE approval_id = ?').get(approvalId);
    return row && toRecord(row);
  }

  /** Requests still waiting (after expiring the overdue ones), oldest first; optionally one identity's. */
  listPending(identity?: string): ApprovalRecord[] {
    this.expireDue();
    const rows = identity === undefined
      ? this.#db.prepare<[], ApprovalRow>("SELECT * FROM approvals WHERE state = 'pending' ORDER BY created_at_sec, rowid").all()
      : this.#db.prepare<[string], ApprovalRow>("SELECT * FROM approvals WHERE state = 'pending' AND identity = ? ORDER BY created_at_sec, rowid").all(identity);
    return rows.map(toRecord);
  }

  /** Requests still waiting for a decision (past their deadline excluded), read-only: a metrics scrape writes nothing. */
  countPending(): number {
    return this.#db
      .prepare<[number], { n: number }>("SELECT count(*) AS n FROM approvals WHERE state = 'pending' AND expires_at_sec > ?")
      .get(this.#nowSec())!.n;
  }

  /** The most recent requests of any state, newest first (for the activity views). */
  listRecent(limit: number): ApprovalRecord[] {
    return this.#db.prepare<[number], ApprovalRow>('SELECT * FROM approvals ORDER BY created_at_sec DESC, rowid DESC LIMIT ?').all(limit).map(toRecord);
  }

  /** Requests of `identity` not yet answered: what a restarted coordinator must finish. */
  unanswered(identity: string): ApprovalRecord[] {
    this.expireDue();
    return this.#db
      .prepare<[string], ApprovalRow>('SELECT * FROM approvals WHERE identity = ? AND answered_at_sec IS NULL ORDER BY created_at_sec, rowid')
      .all(identity)
      .map(toRecord);
  }

  /**
   * An operator's decision on a request waiting on this coordinator's operator. Throws when the
   * request is unknown, already decided, expired, or waiting on a share node's operator instead.
   */
  decide(approvalId: string, decision: 'approve' | 'deny', by: Actor): ApprovalRecord {
    return this.#db
      .transaction(() => {
        const nowSec = this.#nowSec();
        this.#expireDue(nowSec);
        const before = this.get(approvalId);
        if (!before) throw new FrostbunkerError('PROTOCOL_INVALID', `no request ${approvalId} is waiting for approval`);
        if (before.waitingOn !== 'operator') {
          const node = before.waitingOn.slice('node:'.length);
          throw new FrostbunkerError('PROTOCOL_INVALID', `${approvalId} waits on share node ${node}: its operator decides there (pnpm share-node approve|deny)`);
        }
        if (before.state !== 'pending') throw new FrostbunkerError('PROTOCOL_INVALID', `${approvalId} is already ${before.state}`);
        const state: ApprovalState = decision === 'approve' ? 'approved' : 'denied';
        this.#db
          .prepare("UPDATE approvals SET state = ?, decided_by = ?, decided_at_sec = ?, decision_reason = ? WHERE approval_id = ? AND state = 'pending'")
          .run(state, by.actor, nowSec, by.reason, approvalId);
        this.#audit.append({
          actor: by.actor,
          action: `approval.${decision}`,
          target: `${before.identity}/${before.clientPubkey}`,
          reason: by.reason,
          before: summary(before),
          after: { ...summary(before), state },
        });
        return this.get(approvalId)!;
      })
      .immediate();
  }

  /** Records how a request waiting on a share node ended (the node's operator decided there). */
  settleNodeWait(approvalId: string, outcome: 'approved' | 'denied' | 'expired', reason: string): void {
    this.#db
      .prepare("UPDATE approvals SET state = ?, decided_by = waiting_on, decided_at_sec = ?, decision_reason = ? WHERE approval_id = ? AND state = 'pending' AND waiting_on != 'operator'")
      .run(outcome, this.#nowSec(), reason, approvalId);
  }

  /** The client has its answer: forget the request's content (secure_delete clears the pages). */
  markAnswered(approvalId: string): void {
    this.#db.prepare('UPDATE approvals SET answered_at_sec = ?, request_json = NULL WHERE approval_id = ?').run(this.#nowSec(), approvalId);
  }

  /** Marks every pending request past its deadline as expired; returns how many. */
  expireDue(): number {
    return this.#expireDue(this.#nowSec());
  }

  #expireDue(nowSec: number): number {
    return this.#db.prepare("UPDATE approvals SET state = 'expired' WHERE state = 'pending' AND expires_at_sec <= ?").run(nowSec).changes;
  }
}

/** What the audit row keeps of a request: metadata, never its content (RELIABILITY.md 2.5). */
function summary(record: ApprovalRecord): Record<string, unknown> {
  return {
    approvalId: record.approvalId,
    requestId: record.requestId,
    method: record.method,
    ...(record.kind === undefined ? {} : { kind: record.kind }),
    ...(record.eventId === undefined ? {} : { eventId: record.eventId }),
    state: record.state,
  };
}

function toRecord(row: ApprovalRow): ApprovalRecord {
  return {
    approvalId: row.approval_id,
    identity: row.identity,
    clientPubkey: row.client_pubkey,
    requestId: row.request_id,
    method: row.method as Nip46MethodName,
    ...(row.kind === null ? {} : { kind: row.kind }),
    ...(row.event_id === null ? {} : { eventId: row.event_id }),
    ...(row.request_json === null ? {} : { request: JSON.parse(row.request_json) as { method: string; params: string[] } }),
    scheme: row.scheme as ReplyScheme,
    rule: row.rule,
    waitingOn: row.waiting_on as WaitingOn,
    createdAtSec: row.created_at_sec,
    expiresAtSec: row.expires_at_sec,
    state: row.state as ApprovalState,
    ...(row.decided_by === null ? {} : { decidedBy: row.decided_by }),
    ...(row.decided_at_sec === null ? {} : { decidedAtSec: row.decided_at_sec }),
    ...(row.decision_reason === null ? {} : { decisionReason: row.decision_reason }),
    ...(row.answered_at_sec === null ? {} : { answeredAtSec: row.answered_at_sec }),
  };
}

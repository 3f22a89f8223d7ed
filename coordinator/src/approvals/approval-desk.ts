import { FrostbunkerError } from '@frostbunker/shared/errors';
import type { Nip46MethodName } from '@frostbunker/shared/protocol';
import type { AclStore } from '../acl-store/acl-store.js';
import type { ApprovalRecord, ApprovalStore, ReplyScheme } from './approval-store.js';
import type { ApprovalWaiter } from './approval-waiter.js';

/** What the CLI and the API record when the operator gives no reason: not worth telling the client. */
const DEFAULT_REASONS: ReadonlySet<string> = new Set(['cli', 'api']);

/** The request a decision is about, as the NIP-46 layer knows it. */
export interface ApprovalSubject {
  clientPubkey: string;
  requestId: string;
  method: Nip46MethodName;
  kind?: number;
  eventId?: string;
  /** Method and params as received, for the operator to read before deciding. */
  request: { method: string; params: string[] };
  scheme: ReplyScheme;
}

/**
 * NIP-46 `auth_url` for one identity (INTEROP.md): a request the ACL answers with "ask" is queued,
 * the client is told where it can be approved, and the request goes on once an operator approves
 * (logged as allowed by `operator_approval`) or ends with an error on denial or expiry. Requests a
 * share node holds for its own operator are shown the same way, though only that operator decides.
 */
export class ApprovalDesk {
  readonly #identity: string;
  readonly #store: ApprovalStore;
  readonly #waiter: ApprovalWaiter;
  readonly #acl: AclStore;
  readonly #urlFor: (approvalId: string) => string;
  readonly #timeoutSec: number;

  constructor(options: {
    identity: string;
    store: ApprovalStore;
    waiter: ApprovalWaiter;
    acl: AclStore;
    /** Where an operator can decide: the admin API / dashboard page for this approval. */
    urlFor: (approvalId: string) => string;
    timeoutSec: number;
  }) {
    this.#identity = options.identity;
    this.#store = options.store;
    this.#waiter = options.waiter;
    this.#acl = options.acl;
    this.#urlFor = options.urlFor;
    this.#timeoutSec = options.timeoutSec;
  }

  /**
   * Queues the request, calls `tellClient` with the approval URL, and resolves once it is approved
   * (and logged as allowed); throws ACL_DENIED on denial, TIMEOUT when nobody decides in time.
   */
  async awaitOperator(subject: ApprovalSubject, rule: string, tellClient: (url: string) => Promise<void>): Promise<string> {
    const record = this.#store.open({ identity: this.#identity, ...subject, rule, waitingOn: 'operator', timeoutSec: this.#timeoutSec });
    await tellClient(this.#urlFor(record.approvalId));
    await this.#settle(record.approvalId);
    return record.approvalId;
  }

  /** Finishes a request a restarted coordinator found queued: resolves if approved, else throws. */
  async resume(approvalId: string): Promise<void> {
    await this.#settle(approvalId);
  }

  /** Shows a request a share node holds for its operator; returns the approval URL for the client. */
  openNodeWait(subject: ApprovalSubject, node: string, timeoutSec: number, reason: string): { approvalId: string; url: string } {
    const record = this.#store.open({ identity: this.#identity, ...subject, rule: `node_approval: ${reason}`, waitingOn: `node:${node}`, timeoutSec });
    return { approvalId: record.approvalId, url: this.#urlFor(record.approvalId) };
  }

  settleNodeWait(approvalId: string, outcome: 'approved' | 'denied' | 'expired', reason: string): void {
    this.#store.settleNodeWait(approvalId, outcome, reason);
  }

  /** The client got its final answer. */
  markAnswered(approvalId: string): void {
    this.#store.markAnswered(approvalId);
  }

  /** Requests a crash left without an answer, oldest first. */
  unanswered(): ApprovalRecord[] {
    return this.#store.unanswered(this.#identity);
  }

  async #settle(approvalId: string): Promise<void> {
    const record = await this.#waiter.wait(approvalId);
    if (record.state === 'approved') {
      this.#acl.logOperatorApproval({
        identity: this.#identity,
        clientPubkey: record.clientPubkey,
        requestId: record.requestId,
        method: record.method,
        ...(record.kind === undefined ? {} : { kind: record.kind }),
        ...(record.eventId === undefined ? {} : { eventId: record.eventId }),
      });
      return;
    }
    if (record.state === 'denied') {
      throw new FrostbunkerError('ACL_DENIED', `denied by the operator${record.decisionReason && !DEFAULT_REASONS.has(record.decisionReason) ? `: ${record.decisionReason}` : ''}`);
    }
    throw new FrostbunkerError('TIMEOUT', `no operator decision within ${record.expiresAtSec - record.createdAtSec} s`);
  }
}

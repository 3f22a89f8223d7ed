import { FrostbunkerError } from '@frostbunker/shared/errors';
import type { Nip46MethodName } from '@frostbunker/shared/protocol';
import type { RuleRef } from '../acl/types.js';
import { decideVerdict } from '../acl/verdict.js';
import type { AclStore } from '../acl-store/acl-store.js';
import type { TokenStore } from '../acl-store/token-store.js';

export type GateDecision = { decision: 'allow' } | { decision: 'ask'; reason: string };

export interface GateRequest {
  clientPubkey: string;
  requestId: string;
  method: Nip46MethodName;
  kind?: number;
  eventId?: string;
}

/**
 * Where NIP-46 meets the live ACL: every request is decided afresh by the pure verdict over the
 * rows as they are now, and logged in the same transaction (no signature without its log row).
 * Deny becomes an error the client can read; ask goes to the approval desk (auth_url).
 */
export class AclGate {
  readonly #identity: string;
  readonly #store: AclStore;
  readonly #tokens: TokenStore;
  readonly #onDecision: ((decision: 'allow' | 'deny' | 'ask') => void) | undefined;

  constructor(options: { identity: string; store: AclStore; tokens: TokenStore; onDecision?: (decision: 'allow' | 'deny' | 'ask') => void }) {
    this.#identity = options.identity;
    this.#store = options.store;
    this.#tokens = options.tokens;
    this.#onDecision = options.onDecision;
  }

  /** NIP-46 connect: redeem the token, or welcome back a known client that sends none. */
  connect(clientPubkey: string, secret: string): void {
    if (secret !== '') {
      this.#tokens.redeem(secret, clientPubkey);
      return;
    }
    const subject = this.#store.loadRows(this.#identity, clientPubkey).subject;
    if (!subject || subject.revokedAtSec !== undefined) {
      throw new FrostbunkerError('ACL_DENIED', 'unknown client: connect with a bunker:// connection token');
    }
  }

  logout(clientPubkey: string): void {
    this.#tokens.logout(clientPubkey);
  }

  /**
   * Throws ACL_DENIED unless the live ACL allows the request or asks an operator; `ask` comes
   * with the reason the operator will read.
   */
  authorize(request: GateRequest): GateDecision {
    const aclRequest = { clientPubkey: request.clientPubkey, method: request.method, ...(request.kind === undefined ? {} : { kind: request.kind }) };
    const verdict = this.#store.decideAndLog({ identity: this.#identity, ...request }, (rows, nowSec) => decideVerdict(rows, aclRequest, nowSec));
    this.#onDecision?.(verdict.decision);
    if (verdict.decision === 'deny') throw new FrostbunkerError('ACL_DENIED', `denied: ${describeRule(verdict.rule, request)}`);
    if (verdict.decision === 'ask') return { decision: 'ask', reason: describeRule(verdict.rule, request) };
    return { decision: 'allow' };
  }
}

/** Operator- and client-readable reason; never leaks other clients' data. */
function describeRule(rule: RuleRef, request: GateRequest): string {
  switch (rule.rule) {
    case 'trust_level':
      return rule.kindRisk === 'sensitive'
        ? `kind ${request.kind} is sensitive and needs an explicit grant`
        : `${request.method}${request.kind === undefined ? '' : ` kind ${request.kind}`} is not granted to this client`;
    case 'subject_suspended':
      return `client suspended until ${new Date(rule.untilSec * 1000).toISOString()}: ${rule.reason}`;
    case 'subject_revoked':
      return 'client revoked';
    case 'unknown_subject':
      return 'unknown client: connect with a bunker:// connection token';
    case 'denial':
      return `${request.method} is denied for this client`;
    case 'usage_cap_exhausted':
      return 'usage limit reached';
    case 'invalid_request':
      return `invalid request (${rule.problem})`;
    default:
      return rule.rule;
  }
}

import { FrostbunkerError } from '@frostbunker/shared/errors';
import type { Nip46MethodName } from '@frostbunker/shared/protocol';
import type { RuleRef, Verdict } from '../acl/types.js';
import { decideVerdict } from '../acl/verdict.js';
import type { AclStore } from '../acl-store/acl-store.js';
import type { TokenStore } from '../acl-store/token-store.js';

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
 * Deny and ask become errors the client can read. @TODO(issue 3) `ask` answers auth_url and waits.
 */
export class AclGate {
  readonly #identity: string;
  readonly #store: AclStore;
  readonly #tokens: TokenStore;

  constructor(options: { identity: string; store: AclStore; tokens: TokenStore }) {
    this.#identity = options.identity;
    this.#store = options.store;
    this.#tokens = options.tokens;
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

  /** Throws ACL_DENIED or ACL_ASK unless the live ACL allows the request. */
  authorize(request: GateRequest): Verdict {
    const aclRequest = { clientPubkey: request.clientPubkey, method: request.method, ...(request.kind === undefined ? {} : { kind: request.kind }) };
    const verdict = this.#store.decideAndLog({ identity: this.#identity, ...request }, (rows, nowSec) => decideVerdict(rows, aclRequest, nowSec));
    if (verdict.decision === 'deny') throw new FrostbunkerError('ACL_DENIED', `denied: ${describeRule(verdict.rule, request)}`);
    if (verdict.decision === 'ask') throw new FrostbunkerError('ACL_ASK', `needs operator approval: ${describeRule(verdict.rule, request)}`);
    return verdict;
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

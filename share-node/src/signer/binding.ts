import { computeEventId } from '@frostbunker/shared/crypto';
import type { RefusalCode, Round1Request } from '@frostbunker/shared/protocol';

/** What binding reads from a round-1 or one-round request. */
export type BoundRequest = Pick<Round1Request, 'groupId' | 'epoch' | 'eventId' | 'event'>;

export type BindingDecision = { ok: true } | { ok: false; code: RefusalCode; reason: string };

export interface BindingContext {
  groupId: string;
  epoch: number;
  /** x(Q): the only pubkey this node co-signs for. */
  groupPubkey: string;
}

/**
 * Binds a round-1 request to the event it claims to sign, before any policy or nonce (issue 4,
 * RELIABILITY.md 2.1): known group and epoch, pubkey = x(Q), and the NIP-01 id recomputed from the
 * full event equal to the session message. A coordinator cannot show one event and sign another.
 * One-round requests (issue 9) pass through the same function before any commitment is consumed.
 * What the event may say (kinds, created_at window, content rules) is the veto policy's business.
 */
export function decideRound1Binding(request: BoundRequest, ctx: BindingContext): BindingDecision {
  if (request.groupId !== ctx.groupId) return { ok: false, code: 'unknown_group', reason: 'unknown group' };
  if (request.epoch !== ctx.epoch) {
    return { ok: false, code: 'wrong_epoch', reason: `epoch ${request.epoch}, this node is at ${ctx.epoch}` };
  }
  if (request.event.pubkey !== ctx.groupPubkey) {
    return { ok: false, code: 'pubkey_mismatch', reason: 'event pubkey is not the group key' };
  }
  if (computeEventId(request.event) !== request.eventId) {
    return { ok: false, code: 'event_mismatch', reason: 'event id does not match the event' };
  }
  return { ok: true };
}

import { FrostbunkerError, ProtocolError } from '@frostbunker/shared/errors';
import {
  eventTemplateSchema,
  LIMITS,
  Nip46Method,
  type Nip46Request,
  type Nip46Response,
  type UnsignedEventMessage,
  type XOnlyPubkey,
} from '@frostbunker/shared/protocol';
import { computeEventId } from '@frostbunker/shared/crypto';
import type { ApprovalDesk, ApprovalSubject } from '../approvals/approval-desk.js';
import type { ReplyScheme } from '../approvals/approval-store.js';
import type { SignedEvent, SignHooks } from '../signing/signing-coordinator.js';
import type { GateDecision, GateRequest } from './acl-gate.js';
import { authUrlReply, errorReply, resultReply } from './reply.js';

/** What dispatch needs from the rest of the coordinator, injected so it can be tested alone. */
export interface Nip46Context {
  readonly transportPubkey: XOnlyPubkey;
  /** x(Q): what `get_public_key` returns and the only `pubkey` a template may carry. */
  readonly userPubkey: XOnlyPubkey;
  readonly relays: readonly string[];
  /** The live ACL (nip46/acl-gate.ts): token redemption, per-request verdict and log, logout. */
  readonly acl: {
    connect(clientPubkey: string, secret: string): void;
    authorize(request: GateRequest): GateDecision;
    logout(clientPubkey: string): void;
  };
  /** auth_url (approvals/approval-desk.ts): requests that wait for an operator's decision. */
  readonly approvals: Pick<ApprovalDesk, 'awaitOperator' | 'resume' | 'openNodeWait' | 'settleNodeWait' | 'markAnswered' | 'unanswered'>;
  sign(event: UnsignedEventMessage, hooks?: SignHooks): Promise<SignedEvent>;
  /** The identity's NIP-4e encryption key(s); never the shares. */
  readonly encryption: {
    nip44Encrypt(peerPubkey: string, plaintext: string): string;
    nip44Decrypt(peerPubkey: string, payload: string): string;
    nip04Encrypt(peerPubkey: string, plaintext: string): string;
    nip04Decrypt(peerPubkey: string, payload: string): string;
  };
}

/** How the endpoint can reach the client before the final reply. */
export interface ReplyChannel {
  readonly scheme: ReplyScheme;
  /** Sends an interim reply (NIP-46 auth_url) carrying the request's id. */
  sendInterim(response: Nip46Response): Promise<void>;
  /**
   * Told once the request got past the ACL: whatever happens next (a veto, a quorum failure, an
   * operator's refusal) is worth a reply whatever the client's error budget (flood-guard.ts).
   */
  authorized?(): void;
}

/**
 * Answers one parsed NIP-46 request. Every path returns a response (INTEROP.md: never silent); a
 * request that needs approval first sends `auth_url` through the channel, then waits (bounded).
 */
export async function dispatchNip46(
  request: Nip46Request,
  clientPubkey: XOnlyPubkey,
  ctx: Nip46Context,
  channel: ReplyChannel,
): Promise<Nip46Response> {
  const { requestId } = request;
  let approvalId: string | undefined;
  channel = interimOnce(channel);
  try {
    if (request.method === Nip46Method.connect) return resultReply(requestId, connect(request.params, clientPubkey, ctx));
    // sign_event is decided and logged with the exact event before any signing round (issue 3).
    const event = request.method === Nip46Method.signEvent ? buildEvent(request.params[0], ctx.userPubkey) : undefined;
    const subject = approvalSubject(request, event, clientPubkey, channel.scheme);
    // NIP-46/DESIGN.md: every method is gated, get_public_key and switch_relays included.
    const decision = ctx.acl.authorize(subject);
    channel.authorized?.();
    if (decision.decision === 'ask') {
      approvalId = await ctx.approvals.awaitOperator(subject, decision.reason, (url) => channel.sendInterim(authUrlReply(requestId, url)));
    }
    return await perform(request, subject, event, clientPubkey, ctx, channel);
  } catch (error) {
    return errorReply(requestId, error);
  } finally {
    if (approvalId !== undefined) ctx.approvals.markAnswered(approvalId);
  }
}

/**
 * Finishes a request that was waiting for approval when the coordinator stopped: performs it once
 * approved, or answers with the denial or expiry. The request was authorized (ask) before the crash.
 */
export async function resumeNip46(
  request: Nip46Request,
  approvalId: string,
  clientPubkey: XOnlyPubkey,
  ctx: Nip46Context,
  channel: ReplyChannel,
): Promise<Nip46Response> {
  channel = interimOnce(channel);
  try {
    const event = request.method === Nip46Method.signEvent ? buildEvent(request.params[0], ctx.userPubkey) : undefined;
    await ctx.approvals.resume(approvalId);
    const subject = approvalSubject(request, event, clientPubkey, channel.scheme);
    return await perform(request, subject, event, clientPubkey, ctx, channel);
  } catch (error) {
    return errorReply(request.requestId, error);
  } finally {
    ctx.approvals.markAnswered(approvalId);
  }
}

/**
 * At most one auth_url per request: nostr-tools takes only the first as a notice and a second as
 * the final (failed) reply, so a share node's hold after an operator's approval is not announced.
 */
function interimOnce(channel: ReplyChannel): ReplyChannel {
  let sent = false;
  return {
    scheme: channel.scheme,
    ...(channel.authorized ? { authorized: channel.authorized } : {}),
    sendInterim: async (response) => {
      if (sent) return;
      sent = true;
      await channel.sendInterim(response);
    },
  };
}

/** The request as the ACL logs it and an operator reads it. */
function approvalSubject(request: Nip46Request, event: UnsignedEventMessage | undefined, clientPubkey: XOnlyPubkey, scheme: ReplyScheme): ApprovalSubject {
  return {
    clientPubkey,
    requestId: request.requestId,
    method: request.method,
    ...(event ? { kind: event.kind, eventId: computeEventId(event) } : {}),
    request: { method: request.method, params: storedParams(request) },
    scheme,
  };
}

/**
 * What the approval queue keeps until the request is answered: everything, except the text of an
 * encryption request, which stays in memory (RELIABILITY.md 2.5: no message content at rest). Such
 * a request cannot be resumed after a restart; its client gets an error and asks again.
 */
function storedParams(request: Nip46Request): string[] {
  const params = request.params.map((p) => (typeof p === 'string' ? p : JSON.stringify(p)));
  return ENCRYPTION_METHODS.has(request.method) ? params.slice(0, 1) : params;
}

const ENCRYPTION_METHODS: ReadonlySet<string> = new Set([Nip46Method.nip44Encrypt, Nip46Method.nip44Decrypt, Nip46Method.nip04Encrypt, Nip46Method.nip04Decrypt]);

/** Runs an authorized (or approved) request. */
async function perform(
  request: Nip46Request,
  subject: ApprovalSubject,
  event: UnsignedEventMessage | undefined,
  clientPubkey: XOnlyPubkey,
  ctx: Nip46Context,
  channel: ReplyChannel,
): Promise<Nip46Response> {
  const { requestId } = request;
  switch (request.method) {
    case Nip46Method.connect:
      // dispatchNip46 answers connect before the ACL; nothing gated or approved is a connect.
      throw new FrostbunkerError('INTERNAL', 'connect reached perform()');
    case Nip46Method.signEvent:
      return resultReply(requestId, JSON.stringify(await signShowingNodeWaits(event!, subject, ctx, channel)));
    case Nip46Method.getPublicKey:
      return resultReply(requestId, ctx.userPubkey);
    case Nip46Method.ping:
      return resultReply(requestId, 'pong');
    case Nip46Method.switchRelays:
      // RELIABILITY.md 2.4: answer with our own list, never adopt one from a client.
      return resultReply(requestId, JSON.stringify(ctx.relays));
    case Nip46Method.logout:
      ctx.acl.logout(clientPubkey);
      return resultReply(requestId, 'ack');
    // DESIGN.md Encryption: the identity's separate NIP-4e key, never the shares.
    case Nip46Method.nip44Encrypt:
      return resultReply(requestId, ctx.encryption.nip44Encrypt(...request.params));
    case Nip46Method.nip44Decrypt:
      return resultReply(requestId, ctx.encryption.nip44Decrypt(...request.params));
    case Nip46Method.nip04Encrypt:
      return resultReply(requestId, ctx.encryption.nip04Encrypt(...request.params));
    case Nip46Method.nip04Decrypt:
      return resultReply(requestId, ctx.encryption.nip04Decrypt(...request.params));
  }
}

/**
 * Signs; when a share node holds the request for its own operator (veto policy "ask"), the client
 * is told at once with an auth_url for the waiting request instead of hearing nothing (issue 4).
 */
async function signShowingNodeWaits(
  event: UnsignedEventMessage,
  subject: ApprovalSubject,
  ctx: Nip46Context,
  channel: ReplyChannel,
): Promise<SignedEvent> {
  let nodeWait: string | undefined;
  const hooks: SignHooks = {
    onNodeAwaitingApproval: (node, timeoutSec, reason) => {
      if (nodeWait !== undefined) return;
      try {
        const opened = ctx.approvals.openNodeWait(subject, node, timeoutSec, reason);
        nodeWait = opened.approvalId;
        void channel.sendInterim(authUrlReply(subject.requestId, opened.url));
      } catch {
        // A full approval queue only costs the client the early notice; the request goes on.
      }
    },
  };
  try {
    const signed = await ctx.sign(event, hooks);
    if (nodeWait !== undefined) ctx.approvals.settleNodeWait(nodeWait, 'approved', 'signed');
    return signed;
  } catch (error) {
    if (nodeWait !== undefined) {
      const outcome = error instanceof FrostbunkerError && error.code === 'VETOED' ? 'denied' : 'expired';
      ctx.approvals.settleNodeWait(nodeWait, outcome, error instanceof Error ? error.message : String(error));
    }
    throw error;
  } finally {
    if (nodeWait !== undefined) ctx.approvals.markAnswered(nodeWait);
  }
}

function connect(params: readonly string[], clientPubkey: XOnlyPubkey, ctx: Nip46Context): string {
  const [target, secret = ''] = params;
  // INTEROP.md: accept params[0] of "", the transport pubkey or the user pubkey.
  if (target !== '' && target !== ctx.transportPubkey && target !== ctx.userPubkey) {
    throw new ProtocolError('PROTOCOL_INVALID', 'connect names another signer');
  }
  // INTEROP.md: a reused secret from the same client gets "ack", from another client an error.
  ctx.acl.connect(clientPubkey, secret);
  return 'ack';
}

function buildEvent(templateJson: string, userPubkey: XOnlyPubkey): UnsignedEventMessage {
  if (Buffer.byteLength(templateJson) > LIMITS.signableEventBytes) {
    throw new ProtocolError(
      'PROTOCOL_TOO_LARGE',
      `event too large for signing transport (max ${LIMITS.signableEventBytes} bytes)`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(templateJson);
  } catch {
    throw new ProtocolError('PROTOCOL_INVALID', 'sign_event: event is not JSON');
  }
  const parsed = eventTemplateSchema.safeParse(json);
  if (!parsed.success) throw new ProtocolError('PROTOCOL_INVALID', 'sign_event: invalid event template');
  const template = parsed.data;
  // INTEROP.md: refuse a supplied pubkey that is not the group key; ignore a supplied id.
  if (template.pubkey !== undefined && template.pubkey !== userPubkey) {
    throw new ProtocolError('PROTOCOL_INVALID', 'sign_event: pubkey is not this bunker\'s user pubkey');
  }
  // Never change created_at, tags or content given by the client (DESIGN.md Signing 1).
  return {
    pubkey: userPubkey,
    created_at: template.created_at,
    kind: template.kind,
    tags: template.tags,
    content: template.content,
  };
}

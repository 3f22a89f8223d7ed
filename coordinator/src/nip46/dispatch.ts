import { ProtocolError } from '@frostbunker/shared/errors';
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
import type { SignedEvent } from '../signing/signing-coordinator.js';
import { errorReply, resultReply } from './reply.js';

/** What dispatch needs from the rest of the coordinator, injected so it can be tested alone. */
export interface Nip46Context {
  readonly transportPubkey: XOnlyPubkey;
  /** x(Q): what `get_public_key` returns and the only `pubkey` a template may carry. */
  readonly userPubkey: XOnlyPubkey;
  readonly relays: readonly string[];
  /** The live ACL (nip46/acl-gate.ts): token redemption, per-request verdict and log, logout. */
  readonly acl: {
    connect(clientPubkey: string, secret: string): void;
    authorize(request: { clientPubkey: string; requestId: string; method: Nip46Request['method']; kind?: number; eventId?: string }): unknown;
    logout(clientPubkey: string): void;
  };
  sign(event: UnsignedEventMessage): Promise<SignedEvent>;
  /** The identity's NIP-4e encryption key(s); never the shares. */
  readonly encryption: {
    nip44Encrypt(peerPubkey: string, plaintext: string): string;
    nip44Decrypt(peerPubkey: string, payload: string): string;
    nip04Encrypt(peerPubkey: string, plaintext: string): string;
    nip04Decrypt(peerPubkey: string, payload: string): string;
  };
}

/** Answers one parsed NIP-46 request. Every path returns a response (INTEROP.md: never silent). */
export async function dispatchNip46(
  request: Nip46Request,
  clientPubkey: XOnlyPubkey,
  ctx: Nip46Context,
): Promise<Nip46Response> {
  const { requestId } = request;
  try {
    if (request.method === Nip46Method.connect) return resultReply(requestId, connect(request.params, clientPubkey, ctx));
    if (request.method === Nip46Method.signEvent) {
      const event = buildEvent(request.params[0], ctx.userPubkey);
      // Decided and logged with the exact event before any signing round (issue 3).
      ctx.acl.authorize({ clientPubkey, requestId, method: request.method, kind: event.kind, eventId: computeEventId(event) });
      return resultReply(requestId, JSON.stringify(await ctx.sign(event)));
    }
    // NIP-46/DESIGN.md: every method is gated, get_public_key and switch_relays included.
    ctx.acl.authorize({ clientPubkey, requestId, method: request.method });
    switch (request.method) {
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
  } catch (error) {
    return errorReply(requestId, error);
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

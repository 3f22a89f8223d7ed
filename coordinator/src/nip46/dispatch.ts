import { timingSafeEqual } from 'node:crypto';
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
import { classifyKind } from '../acl/kind-risk.js';
import type { SignedEvent } from '../signing/signing-coordinator.js';
import { errorReply, resultReply } from './reply.js';

/** What dispatch needs from the rest of the coordinator, injected so it can be tested alone. */
export interface Nip46Context {
  readonly transportPubkey: XOnlyPubkey;
  /** x(Q): what `get_public_key` returns and the only `pubkey` a template may carry. */
  readonly userPubkey: XOnlyPubkey;
  readonly connectSecret: string;
  readonly relays: readonly string[];
  readonly sessions: {
    has(clientPubkey: XOnlyPubkey): boolean;
    add(clientPubkey: XOnlyPubkey): void;
    delete(clientPubkey: XOnlyPubkey): void;
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
    if (!ctx.sessions.has(clientPubkey)) {
      throw new FrostbunkerError('ACL_DENIED', 'not connected: send connect with the connection secret first');
    }
    switch (request.method) {
      case Nip46Method.getPublicKey:
        return resultReply(requestId, ctx.userPubkey);
      case Nip46Method.ping:
        return resultReply(requestId, 'pong');
      case Nip46Method.signEvent:
        return resultReply(requestId, JSON.stringify(await ctx.sign(buildEvent(request.params[0], ctx.userPubkey))));
      case Nip46Method.switchRelays:
        // RELIABILITY.md 2.4: answer with our own list, never adopt one from a client.
        return resultReply(requestId, JSON.stringify(ctx.relays));
      case Nip46Method.logout:
        ctx.sessions.delete(clientPubkey);
        return resultReply(requestId, 'ack');
      // DESIGN.md Encryption: the identity's separate NIP-4e key, never the shares.
      // @TODO(issue 3) per-method grants and a per-client cap on decryption (RELIABILITY.md T17).
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
  if (ctx.sessions.has(clientPubkey)) return 'ack';
  if (!secretsEqual(secret, ctx.connectSecret)) {
    throw new FrostbunkerError('ACL_DENIED', 'invalid or missing connection secret');
  }
  ctx.sessions.add(clientPubkey);
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
  if (classifyKind(template.kind) === 'sensitive') {
    // @TODO(issue 3) an explicit grant in the live ACL lets these through.
    throw new FrostbunkerError('ACL_DENIED', `kind ${template.kind} is sensitive and needs an explicit grant`);
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

function secretsEqual(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return expected.length > 0 && a.length === b.length && timingSafeEqual(a, b);
}

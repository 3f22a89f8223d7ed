import { z } from 'zod';
import { ProtocolError } from '../errors.js';
import { LIMITS } from './limits.js';

/** NIP-46 methods this bunker knows; anything else gets an error reply (NIP-46: MUST). */
export const Nip46Method = {
  connect: 'connect',
  getPublicKey: 'get_public_key',
  signEvent: 'sign_event',
  ping: 'ping',
  nip44Encrypt: 'nip44_encrypt',
  nip44Decrypt: 'nip44_decrypt',
  nip04Encrypt: 'nip04_encrypt',
  nip04Decrypt: 'nip04_decrypt',
  switchRelays: 'switch_relays',
  logout: 'logout',
} as const;
export type Nip46MethodName = (typeof Nip46Method)[keyof typeof Nip46Method];

const hex64 = z.string().regex(/^[0-9a-f]{64}$/);

/** Stage 1: loose enough to recover `id` for an error reply whatever else is wrong. */
const envelopeSchema = z.object({
  id: z.string().min(1).max(LIMITS.requestIdChars),
  method: z.string().max(LIMITS.methodChars),
  params: z.array(z.unknown()).max(LIMITS.params).optional(),
});

const text = z.string().max(LIMITS.nip46PlaintextBytes);
/** Methods without params: anything a client adds is ignored (clients differ). */
const noParams = z.array(z.unknown()).max(LIMITS.params);

/** Stage 2: strict params per method. Extra trailing params are tolerated (clients differ). */
const paramsByMethod = {
  // INTEROP.md: NDK sends params[0] = ""; nostr-tools sends ["<pubkey>", ""] when no secret.
  connect: z.tuple([z.union([z.literal(''), hex64])], z.string().max(4_096)),
  get_public_key: noParams,
  sign_event: z.tuple([z.string().max(LIMITS.nip46PlaintextBytes)]),
  ping: noParams,
  nip44_encrypt: z.tuple([hex64, text]),
  nip44_decrypt: z.tuple([hex64, text]),
  nip04_encrypt: z.tuple([hex64, text]),
  nip04_decrypt: z.tuple([hex64, text]),
  switch_relays: noParams,
  logout: noParams,
} as const satisfies Record<Nip46MethodName, z.ZodType>;

export type Nip46Request = {
  [M in Nip46MethodName]: { requestId: string; method: M; params: z.infer<(typeof paramsByMethod)[M]> };
}[Nip46MethodName];

export type Nip46Parse =
  | { ok: true; request: Nip46Request }
  /** `requestId` null: nothing identifies the request, so there is nothing to reply to. */
  | { ok: false; requestId: string | null; error: ProtocolError };

function isKnownMethod(method: string): method is Nip46MethodName {
  return Object.hasOwn(paramsByMethod, method);
}

/** Parses decrypted NIP-46 request content in two stages so every failure can still be answered. */
export function parseNip46Request(content: string): Nip46Parse {
  if (content.length > LIMITS.nip46PlaintextBytes) {
    return { ok: false, requestId: null, error: new ProtocolError('PROTOCOL_TOO_LARGE', 'request too large') };
  }
  let json: unknown;
  try {
    json = JSON.parse(content);
  } catch {
    return { ok: false, requestId: null, error: new ProtocolError('PROTOCOL_INVALID', 'request is not JSON') };
  }
  const envelope = envelopeSchema.safeParse(json);
  if (!envelope.success) {
    const requestId = recoverRequestId(json);
    return { ok: false, requestId, error: new ProtocolError('PROTOCOL_INVALID', 'malformed request envelope') };
  }
  const { id: requestId, method } = envelope.data;
  if (!isKnownMethod(method)) {
    return { ok: false, requestId, error: new ProtocolError('METHOD_UNKNOWN', `unknown method: ${sanitize(method)}`) };
  }
  const params = paramsByMethod[method].safeParse(envelope.data.params ?? []);
  if (!params.success) {
    return { ok: false, requestId, error: new ProtocolError('PROTOCOL_INVALID', `invalid params for ${method}`) };
  }
  return { ok: true, request: { requestId, method, params: params.data } as Nip46Request };
}

function recoverRequestId(json: unknown): string | null {
  if (typeof json !== 'object' || json === null || !('id' in json)) return null;
  const { id } = json;
  return typeof id === 'string' && id.length > 0 && id.length <= LIMITS.requestIdChars ? id : null;
}

/** Client-supplied strings go into error messages and logs: printable ASCII only, bounded. */
export function sanitize(value: string, maxChars = 64): string {
  return value.replace(/[^\x20-\x7e]/g, '?').slice(0, maxChars);
}

/** A NIP-46 response. INTEROP.md: always carry `result` (use "") and, on failure, `error`. */
export interface Nip46Response {
  id: string;
  result: string;
  error?: string;
}

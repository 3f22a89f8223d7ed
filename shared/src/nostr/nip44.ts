import { createCipheriv, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { decrypt, getConversationKey, v2 } from 'nostr-tools/nip44';

/**
 * NIP-44 v2 (DESIGN.md: nostr-tools is the reference; `@vbyte/nostr-sdk` is not wire compatible),
 * with the conversation key cached per peer: the ECDH is the expensive part (RELIABILITY.md §2.3).
 * Per message, HKDF-expand, ChaCha20, HMAC-SHA256 and base64 run on Node's native crypto rather
 * than nostr-tools' pure JS (issue 9: five times faster, and a signature costs eight of them at the
 * coordinator); padding is nostr-tools' own, and any payload the native path does not take as
 * plainly valid goes to nostr-tools, so every error is nostr-tools' error. The NIP's vectors and a
 * byte-for-byte comparison with nostr-tools pin it (nip44.vectors.test.ts, nip44-native.test.ts).
 */

/** NIP-44 v2: "plaintext ... 1 to 65535 bytes" (the u16 length prefix). */
export const NIP44_MAX_PLAINTEXT_BYTES = 65_535;

const DEFAULT_MAX_CACHED_PEERS = 1_024;
// NIP-44 v2 payload: version (1) + nonce (32) + u16 length prefix (2) + padded plaintext + MAC (32).
const PAYLOAD_OVERHEAD_BYTES = 1 + 32 + 2 + 32;

/**
 * Length in base64 characters of the NIP-44 v2 payload for a plaintext of `plaintextBytes` UTF-8
 * bytes; lets a receiver bound `content` before it spends an ECDH on it.
 */
export function nip44PayloadChars(plaintextBytes: number): number {
  if (!Number.isSafeInteger(plaintextBytes) || plaintextBytes < 1 || plaintextBytes > NIP44_MAX_PLAINTEXT_BYTES) {
    throw new RangeError(`plaintextBytes: expected 1..${NIP44_MAX_PLAINTEXT_BYTES}, got ${plaintextBytes}`);
  }
  const payloadBytes = PAYLOAD_OVERHEAD_BYTES + v2.utils.calcPaddedLen(plaintextBytes);
  return 4 * Math.ceil(payloadBytes / 3);
}

const VERSION = Uint8Array.of(2);
const COUNTERS = [Uint8Array.of(1), Uint8Array.of(2), Uint8Array.of(3)] as const;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
// nostr-tools' decodePayload bounds: 132 base64 characters, 99 bytes.
const MIN_PAYLOAD_CHARS = 132;
const MIN_PAYLOAD_BYTES = 99;

/** NIP-44 get_message_keys: RFC 5869 HKDF-Expand(PRK = conversation key, info = nonce, L = 76). */
function messageKeys(conversationKey: Uint8Array, nonce: Uint8Array): { chachaKey: Buffer; chachaNonce: Buffer; hmacKey: Buffer } {
  const blocks: Buffer[] = [];
  let previous: Uint8Array = new Uint8Array(0);
  for (const counter of COUNTERS) {
    previous = createHmac('sha256', conversationKey).update(previous).update(nonce).update(counter).digest();
    blocks.push(previous as Buffer);
  }
  const okm = Buffer.concat(blocks);
  return { chachaKey: okm.subarray(0, 32), chachaNonce: okm.subarray(32, 44), hmacKey: okm.subarray(44, 76) };
}

/** ChaCha20 (RFC 8439) from block counter 0; OpenSSL takes the IV as counter (4 bytes, LE) || nonce. */
function chacha20(key: Buffer, nonce: Buffer, data: Uint8Array): Buffer {
  const iv = Buffer.alloc(16);
  nonce.copy(iv, 4);
  const cipher = createCipheriv('chacha20', key, iv);
  return Buffer.concat([cipher.update(data), cipher.final()]);
}

/** NIP-44 v2 encrypt; `nonce` only for tests against known answers. Throws on a size NIP-44 refuses. */
export function nip44Encrypt(plaintext: string, conversationKey: Uint8Array, nonce: Uint8Array = randomBytes(32)): string {
  const padded = v2.utils.pad(plaintext);
  const keys = messageKeys(conversationKey, nonce);
  const ciphertext = chacha20(keys.chachaKey, keys.chachaNonce, padded);
  const mac = createHmac('sha256', keys.hmacKey).update(nonce).update(ciphertext).digest();
  return Buffer.concat([VERSION, nonce, ciphertext, mac]).toString('base64');
}

/** NIP-44 v2 decrypt. Throws nostr-tools' errors (bad MAC, padding, version or encoding). */
export function nip44Decrypt(payload: string, conversationKey: Uint8Array): string {
  if (typeof payload !== 'string' || payload.length < MIN_PAYLOAD_CHARS || payload.length % 4 !== 0 || !BASE64.test(payload)) {
    return decrypt(payload, conversationKey);
  }
  const data = Buffer.from(payload, 'base64');
  // Only canonical base64 (the decoder ignores non-zero trailing bits; nostr-tools refuses them).
  if (data.length < MIN_PAYLOAD_BYTES || data[0] !== 2 || data.toString('base64') !== payload) return decrypt(payload, conversationKey);
  const nonce = data.subarray(1, 33);
  const ciphertext = data.subarray(33, -32);
  const keys = messageKeys(conversationKey, nonce);
  const mac = createHmac('sha256', keys.hmacKey).update(nonce).update(ciphertext).digest();
  if (!timingSafeEqual(mac, data.subarray(-32))) throw new Error('invalid MAC');
  return v2.utils.unpad(chacha20(keys.chachaKey, keys.chachaNonce, ciphertext));
}

export interface Nip44Codec {
  /** Encrypts `plaintext` to `peerPubkey` (x-only hex). Throws on an invalid pubkey or size. */
  encrypt(peerPubkey: string, plaintext: string): string;
  /** Decrypts a payload from `peerPubkey`. Throws on a bad MAC, padding, version or encoding. */
  decrypt(peerPubkey: string, payload: string): string;
}

export interface Nip44CodecOptions {
  /** Peers whose conversation key stays cached (least recently used evicted). Default 1,024. */
  maxCachedPeers?: number;
}

/**
 * A NIP-44 v2 codec for one secret key. The secret is held by reference (the caller owns its
 * lifecycle); conversation keys live in a bounded LRU cache keyed by peer pubkey.
 *
 * @example
 * const codec = createNip44Codec(secretKey);
 * const payload = codec.encrypt(peerPubkey, '{"v":1}');
 */
export function createNip44Codec(secretKey: Uint8Array, options: Nip44CodecOptions = {}): Nip44Codec {
  if (!(secretKey instanceof Uint8Array) || secretKey.length !== 32) {
    throw new TypeError('secretKey: expected 32 bytes');
  }
  const maxCachedPeers = options.maxCachedPeers ?? DEFAULT_MAX_CACHED_PEERS;
  if (!Number.isSafeInteger(maxCachedPeers) || maxCachedPeers < 1) {
    throw new RangeError('maxCachedPeers: expected a positive integer');
  }
  const conversationKeys = new Map<string, Uint8Array>();

  const conversationKeyFor = (peerPubkey: string): Uint8Array => {
    const cached = conversationKeys.get(peerPubkey);
    if (cached !== undefined) {
      // Map iteration order is insertion order: re-inserting marks it most recently used.
      conversationKeys.delete(peerPubkey);
      conversationKeys.set(peerPubkey, cached);
      return cached;
    }
    const conversationKey = getConversationKey(secretKey, peerPubkey);
    conversationKeys.set(peerPubkey, conversationKey);
    if (conversationKeys.size > maxCachedPeers) {
      const oldest = conversationKeys.keys().next();
      if (oldest.done !== true) conversationKeys.delete(oldest.value);
    }
    return conversationKey;
  };

  return {
    encrypt: (peerPubkey, plaintext) => nip44Encrypt(plaintext, conversationKeyFor(peerPubkey)),
    decrypt: (peerPubkey, payload) => nip44Decrypt(payload, conversationKeyFor(peerPubkey)),
  };
}

import { decrypt, encrypt, getConversationKey, v2 } from 'nostr-tools/nip44';

/**
 * NIP-44 v2 through nostr-tools (DESIGN.md: `@vbyte/nostr-sdk` is not wire compatible), with the
 * conversation key cached per peer: the ECDH is the expensive part (RELIABILITY.md §2.3).
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
    encrypt: (peerPubkey, plaintext) => encrypt(plaintext, conversationKeyFor(peerPubkey)),
    decrypt: (peerPubkey, payload) => decrypt(payload, conversationKeyFor(peerPubkey)),
  };
}

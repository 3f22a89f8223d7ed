import { describe, expect, it } from 'vitest';
import { generateSecretKey, getPublicKey } from 'nostr-tools/pure';
import * as nip44 from 'nostr-tools/nip44';
import { createNip44Codec, nip44PayloadChars, NIP44_MAX_PLAINTEXT_BYTES } from '../../src/nostr/nip44.js';

// The transport's NIP-44 wrapper (shared/src/nostr/nip44.ts); the NIP-44 vectors themselves are
// nostr-tools' to pass.
describe('createNip44Codec', () => {
  const aliceSecret = generateSecretKey();
  const bobSecret = generateSecretKey();
  const alicePubkey = getPublicKey(aliceSecret);
  const bobPubkey = getPublicKey(bobSecret);

  it('round-trips and interoperates with plain nostr-tools nip44', () => {
    const alice = createNip44Codec(aliceSecret);
    const bob = createNip44Codec(bobSecret);
    const payload = alice.encrypt(bobPubkey, 'hello bob');
    expect(bob.decrypt(alicePubkey, payload)).toBe('hello bob');
    const raw = nip44.encrypt('raw', nip44.getConversationKey(bobSecret, alicePubkey));
    expect(alice.decrypt(bobPubkey, raw)).toBe('raw');
  });

  it('rejects a payload with a flipped bit (MAC check)', () => {
    const payload = createNip44Codec(aliceSecret).encrypt(bobPubkey, 'x');
    const flipped = `${payload.slice(0, 10)}${payload[10] === 'A' ? 'B' : 'A'}${payload.slice(11)}`;
    expect(() => createNip44Codec(bobSecret).decrypt(alicePubkey, flipped)).toThrow();
  });

  it('keeps working past the cache bound (evicted peers are recomputed)', () => {
    const codec = createNip44Codec(aliceSecret, { maxCachedPeers: 2 });
    const peers = [generateSecretKey(), generateSecretKey(), generateSecretKey()];
    for (let round = 0; round < 2; round += 1) {
      for (const peerSecret of peers) {
        const payload = codec.encrypt(getPublicKey(peerSecret), `round ${round}`);
        expect(createNip44Codec(peerSecret).decrypt(alicePubkey, payload)).toBe(`round ${round}`);
      }
    }
  });

  it('refuses a secret key that is not 32 bytes', () => {
    expect(() => createNip44Codec(new Uint8Array(31))).toThrow(/secretKey/);
  });
});

describe('nip44PayloadChars', () => {
  const aliceSecretForLength = generateSecretKey();

  it('matches the length of real payloads at padding boundaries', () => {
    const conversationKey = nip44.getConversationKey(aliceSecretForLength, getPublicKey(generateSecretKey()));
    for (const bytes of [1, 32, 33, 256, 257, 1_000, 60_000, NIP44_MAX_PLAINTEXT_BYTES]) {
      expect(nip44.encrypt('a'.repeat(bytes), conversationKey).length, `${bytes} bytes`).toBe(nip44PayloadChars(bytes));
    }
  });

  it('rejects sizes NIP-44 v2 cannot carry', () => {
    expect(() => nip44PayloadChars(0)).toThrow(RangeError);
    expect(() => nip44PayloadChars(NIP44_MAX_PLAINTEXT_BYTES + 1)).toThrow(RangeError);
  });
});

import { readFileSync } from 'node:fs';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import fc from 'fast-check';
import { decrypt, encrypt } from 'nostr-tools/nip44';
import { describe, expect, it } from 'vitest';
import { nip44Decrypt, nip44Encrypt } from '../../src/nostr/nip44.js';

interface Row {
  conversation_key: string;
  nonce: string;
  plaintext: string;
  payload: string;
  note?: string;
}
interface LongRow {
  conversation_key: string;
  nonce: string;
  pattern: string;
  repeat: number;
  payload_sha256: string;
}
const vectors = JSON.parse(readFileSync(new URL('../vectors/nip44/nip44.vectors.json', import.meta.url), 'utf8')) as {
  v2: { valid: { encrypt_decrypt: Row[]; encrypt_decrypt_long_msg: LongRow[] }; invalid: { decrypt: Row[] } };
};
const { valid, invalid } = vectors.v2;

/** Runs `f`, returning its value or its error message, so two implementations compare outcome for outcome. */
function outcome(f: () => string): { ok: string } | { error: string } {
  try {
    return { ok: f() };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

// The native NIP-44 path (node:crypto HKDF/ChaCha20/HMAC/base64, shared/src/nostr/nip44.ts)
// against the NIP's vectors and, byte for byte, against nostr-tools (the reference).
describe('NIP-44 v2 on native crypto', () => {
  it('produces every encrypt_decrypt vector payload from its nonce, and decrypts it', () => {
    for (const v of valid.encrypt_decrypt) {
      const key = hexToBytes(v.conversation_key);
      expect(nip44Encrypt(v.plaintext, key, hexToBytes(v.nonce))).toBe(v.payload);
      expect(nip44Decrypt(v.payload, key)).toBe(v.plaintext);
    }
  });

  it('matches the encrypt_decrypt_long_msg payload checksums (up to the 65,535-byte limit of the u16 prefix)', () => {
    for (const v of valid.encrypt_decrypt_long_msg) {
      const plaintext = v.pattern.repeat(v.repeat);
      const payload = nip44Encrypt(plaintext, hexToBytes(v.conversation_key), hexToBytes(v.nonce));
      expect(bytesToHex(sha256(new TextEncoder().encode(payload)))).toBe(v.payload_sha256);
      expect(nip44Decrypt(payload, hexToBytes(v.conversation_key))).toBe(plaintext);
    }
  });

  it('refuses every invalid decrypt vector with the error nostr-tools gives', () => {
    for (const v of invalid.decrypt) {
      const key = hexToBytes(v.conversation_key);
      expect(outcome(() => nip44Decrypt(v.payload, key)), v.note).toEqual(outcome(() => decrypt(v.payload, key)));
      expect(outcome(() => nip44Decrypt(v.payload, key))).toHaveProperty('error');
    }
  });

  it('equals nostr-tools for random plaintexts (extended lengths included), both directions', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 300 }), fc.string({ unit: 'binary', minLength: 1, maxLength: 2_000 }), fc.integer({ min: 65_530, max: 70_000 }).map((n) => 'z'.repeat(n))),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        (plaintext, key, nonce) => {
          const ours = nip44Encrypt(plaintext, key, nonce);
          expect(ours).toBe(encrypt(plaintext, key, nonce));
          expect(decrypt(ours, key)).toBe(plaintext);
          expect(nip44Decrypt(encrypt(plaintext, key), key)).toBe(plaintext);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('gives the same outcome as nostr-tools for every one-character change of a payload (base64, version, MAC, padding)', () => {
    const key = hexToBytes(valid.encrypt_decrypt[0]!.conversation_key);
    const payload = nip44Encrypt('a message of some length for the tamper test', key);
    const alphabet = 'AB+/=#a9';
    let refused = 0;
    for (let i = 0; i < payload.length; i++) {
      for (const c of alphabet) {
        if (payload[i] === c) continue;
        const tampered = payload.slice(0, i) + c + payload.slice(i + 1);
        const ours = outcome(() => nip44Decrypt(tampered, key));
        expect(ours, `position ${i}, '${c}'`).toEqual(outcome(() => decrypt(tampered, key)));
        if ('error' in ours) refused++;
      }
    }
    expect(refused).toBeGreaterThan(payload.length * (alphabet.length - 1) * 0.9);
  });
});

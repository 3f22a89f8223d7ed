import { readFileSync } from 'node:fs';
import { chacha20 } from '@noble/ciphers/chacha.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, concatBytes, hexToBytes } from '@noble/hashes/utils.js';
import { decrypt, encrypt, getConversationKey, v2 } from 'nostr-tools/nip44';
import { getPublicKey } from 'nostr-tools/pure';
import { describe, expect, it } from 'vitest';
import { createNip44Codec } from '../../src/nostr/nip44.js';

/**
 * The official NIP-44 v2 vectors (paulmillr/nip44, shared/test/vectors/nip44, see PROVENANCE.md)
 * through nostr-tools 2.25.2 `nostr-tools/nip44` and through our wrapper `createNip44Codec`.
 *
 * NIP-44 changed after the vectors were published: nostr-protocol/nips 733a0471 (#1907, 2026-06-28)
 * "allow NIP-44 to encrypt more than 65535 bytes" adds an extended length prefix
 * (`[0x00, 0x00][plaintext_length: u32]` for 65,536 ≤ length ≤ 2^32 − 1), drops the 87,472-char /
 * 65,603-byte upper bounds in `decode_payload`, and lists extended-length checksums. nostr-tools
 * implements it (8260e62, #527; 2.25.2 ships `maxPlaintextSize = 4294967295`, `writeU32BE`, and
 * no upper bound in `decodePayload`). Three vector entries change meaning; they are not run as
 * invalid, and their new meaning is tested instead. Every other entry means what it did.
 */

interface Vectors {
  v2: {
    valid: {
      get_conversation_key: { sec1: string; pub2: string; conversation_key: string }[];
      get_message_keys: {
        conversation_key: string;
        keys: { nonce: string; chacha_key: string; chacha_nonce: string; hmac_key: string }[];
      };
      calc_padded_len: [number, number][];
      encrypt_decrypt: {
        sec1: string;
        sec2: string;
        conversation_key: string;
        nonce: string;
        plaintext: string;
        payload: string;
      }[];
      encrypt_decrypt_long_msg: {
        conversation_key: string;
        nonce: string;
        pattern: string;
        repeat: number;
        plaintext_sha256: string;
        payload_sha256: string;
      }[];
    };
    invalid: {
      encrypt_msg_lengths: number[];
      get_conversation_key: { sec1: string; pub2: string; note: string }[];
      decrypt: { conversation_key: string; nonce: string; plaintext: string; payload: string; note: string }[];
    };
  };
}

const vectorBytes = readFileSync(new URL('../vectors/nip44/nip44.vectors.json', import.meta.url));
const { v2: vec } = JSON.parse(vectorBytes.toString('utf8')) as Vectors;

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);
const sha256Hex = (text: string): string => bytesToHex(sha256(utf8(text)));

describe('NIP-44 vector file', () => {
  it('is the file whose checksum the NIP prints', () => {
    // NIP-44 "Tests and code": "269ed0f69e4c…3ce25040  nip44.vectors.json"
    expect(bytesToHex(sha256(vectorBytes))).toBe('269ed0f69e4c192512cc779e78c555090cebc7c785b609e338a62afc3ce25040');
  });
});

describe('NIP-44 v2 valid vectors (nostr-tools)', () => {
  it('get_conversation_key: all 35', () => {
    expect(vec.valid.get_conversation_key).toHaveLength(35);
    for (const v of vec.valid.get_conversation_key) {
      expect(bytesToHex(getConversationKey(hexToBytes(v.sec1), v.pub2)), v.sec1).toBe(v.conversation_key);
      expect(bytesToHex(v2.utils.getConversationKey(hexToBytes(v.sec1), v.pub2))).toBe(v.conversation_key);
    }
  });

  it('get_message_keys: all 32, observed through encrypt (nostr-tools does not export getMessageKeys)', () => {
    // The keys are internal to nostr-tools, so check what they produce: with the vector's
    // conversation key and nonce, nostr-tools' payload must decrypt under the vector's chacha_key
    // and chacha_nonce to pad(plaintext), and carry HMAC-SHA256(hmac_key, nonce ‖ ciphertext).
    const conversationKey = hexToBytes(vec.valid.get_message_keys.conversation_key);
    const plaintext = 'message keys';
    expect(vec.valid.get_message_keys.keys).toHaveLength(32);
    for (const keys of vec.valid.get_message_keys.keys) {
      const nonce = hexToBytes(keys.nonce);
      const raw = Buffer.from(encrypt(plaintext, conversationKey, nonce), 'base64');
      expect(raw[0]).toBe(2);
      expect(bytesToHex(raw.subarray(1, 33))).toBe(keys.nonce);
      const ciphertext = new Uint8Array(raw.subarray(33, -32));
      const mac = new Uint8Array(raw.subarray(-32));
      expect(chacha20(hexToBytes(keys.chacha_key), hexToBytes(keys.chacha_nonce), ciphertext)).toEqual(
        v2.utils.pad(plaintext),
      );
      expect(bytesToHex(hmac(sha256, hexToBytes(keys.hmac_key), concatBytes(nonce, ciphertext)))).toBe(bytesToHex(mac));
    }
  });

  it('calc_padded_len: all 24', () => {
    expect(vec.valid.calc_padded_len).toHaveLength(24);
    for (const [length, padded] of vec.valid.calc_padded_len) {
      expect(v2.utils.calcPaddedLen(length), `${length}`).toBe(padded);
    }
  });

  it('encrypt_decrypt: all 10, both directions, as the NIP describes', () => {
    expect(vec.valid.encrypt_decrypt).toHaveLength(10);
    for (const v of vec.valid.encrypt_decrypt) {
      const pub2 = getPublicKey(hexToBytes(v.sec2));
      const keyFrom1 = getConversationKey(hexToBytes(v.sec1), pub2);
      expect(bytesToHex(keyFrom1)).toBe(v.conversation_key);
      expect(encrypt(v.plaintext, keyFrom1, hexToBytes(v.nonce))).toBe(v.payload);
      const pub1 = getPublicKey(hexToBytes(v.sec1));
      const keyFrom2 = getConversationKey(hexToBytes(v.sec2), pub1);
      expect(bytesToHex(keyFrom2)).toBe(v.conversation_key);
      expect(decrypt(v.payload, keyFrom2)).toBe(v.plaintext);
      expect(v2.decrypt(v.payload, keyFrom2)).toBe(v.plaintext);
    }
  });

  it('encrypt_decrypt_long_msg: all 3, by sha256 of the plaintext and of the base64 payload', () => {
    expect(vec.valid.encrypt_decrypt_long_msg).toHaveLength(3);
    for (const v of vec.valid.encrypt_decrypt_long_msg) {
      const plaintext = v.pattern.repeat(v.repeat);
      expect(sha256Hex(plaintext)).toBe(v.plaintext_sha256);
      const conversationKey = hexToBytes(v.conversation_key);
      const payload = encrypt(plaintext, conversationKey, hexToBytes(v.nonce));
      expect(sha256Hex(payload)).toBe(v.payload_sha256);
      expect(decrypt(payload, conversationKey)).toBe(plaintext);
    }
  });
});

/** NIP-44 "Extended length prefix test vectors" (nostr-protocol/nips 733a0471, 44.md). */
const EXTENDED_LENGTH = {
  // "All vectors use the same conversation_key and nonce as above" (the NIP's example vector,
  // sec1 = 1, sec2 = 2: encrypt_decrypt[0] in the file). "Plaintext is the byte 0x61 ('a')."
  conversationKey: 'c41c775356fd92eadc63ff5a0dc1da211b268cbea22316767095b2871ea1412d',
  nonce: '0000000000000000000000000000000000000000000000000000000000000001',
  rows: [
    {
      length: 65_535,
      prefix: 'u16',
      paddedLength: 65_536,
      plaintextSha256: '6e1bebca6a8229364a162a72ef064826c4cd7457bf54f190ef782bd9deff3e42',
      payloadSha256: '6d8c2810d1e870fbaa1f0a0937126cca837a15f9260e27060c331d70a3c0bc84',
    },
    {
      length: 65_536,
      prefix: 'extended',
      paddedLength: 65_536,
      plaintextSha256: 'bf718b6f653bebc184e1479f1935b8da974d701b893afcf49e701f3e2f9f9c5a',
      payloadSha256: 'b7b4edb36ba92e267d322d56d9aebc22e7fa96ff52e3c12adc07f07a43cbc616',
    },
    {
      length: 65_537,
      prefix: 'extended',
      paddedLength: 81_920,
      plaintextSha256: '008ffc88d3c96a9f307524eb361e47c5222a887fc45fa0c1fb8d429c5c23b430',
      payloadSha256: 'eeb7c7c5373894ea2c1547cfd3ccb15d5a0b2d619da852e5c79df792dcc9e435',
    },
  ],
} as const;

describe('NIP-44 extended length prefix (large payloads), nostr-tools 2.25.2', () => {
  const conversationKey = hexToBytes(EXTENDED_LENGTH.conversationKey);

  it('uses the example vector keys (sec1 = 1, sec2 = 2)', () => {
    const example = vec.valid.encrypt_decrypt[0]!;
    expect(example.conversation_key).toBe(EXTENDED_LENGTH.conversationKey);
    expect(example.nonce).toBe(EXTENDED_LENGTH.nonce);
  });

  it.each(EXTENDED_LENGTH.rows)('$length bytes: $prefix prefix, padded to $paddedLength, checksums match', (row) => {
    const plaintext = 'a'.repeat(row.length);
    expect(sha256Hex(plaintext)).toBe(row.plaintextSha256);
    expect(v2.utils.calcPaddedLen(row.length)).toBe(row.paddedLength);
    const padded = v2.utils.pad(plaintext);
    const prefixBytes = row.prefix === 'u16' ? 2 : 6;
    expect(padded.length).toBe(prefixBytes + row.paddedLength);
    if (row.prefix === 'u16') {
      expect(new DataView(padded.buffer, padded.byteOffset).getUint16(0)).toBe(row.length);
    } else {
      // "[0x00, 0x00][plaintext_length: u32]"
      expect([padded[0], padded[1]]).toEqual([0, 0]);
      expect(new DataView(padded.buffer, padded.byteOffset).getUint32(2)).toBe(row.length);
    }
    const payload = encrypt(plaintext, conversationKey, hexToBytes(EXTENDED_LENGTH.nonce));
    expect(sha256Hex(payload)).toBe(row.payloadSha256);
    expect(decrypt(payload, conversationKey)).toBe(plaintext);
  });

  it('refuses a non-canonical extended prefix for a length below 65,536', () => {
    // NIP-44 unpad: "if unpadded_len < c.extended_prefix_threshold: raise Exception('invalid padding')"
    const padded = new Uint8Array(6 + 32);
    new DataView(padded.buffer).setUint32(2, 1);
    padded[6] = 0x61;
    expect(() => v2.utils.unpad(padded)).toThrow(/invalid padding/);
  });
});

describe('NIP-44 v2 invalid vectors (nostr-tools)', () => {
  const [zeroLength, ...madeValid] = vec.invalid.encrypt_msg_lengths;

  it('encrypt_msg_lengths[0] = 0: still refused ("Minimum is 1 byte")', () => {
    expect(zeroLength).toBe(0);
    expect(() => encrypt('', new Uint8Array(32).fill(1))).toThrow(/invalid plaintext size/);
  });

  // The three entries the large-payload change made valid. The vectors (2023) call them invalid
  // because the u16 prefix capped plaintext at 65,535 bytes; NIP-44 now says "Minimum is 1 byte,
  // maximum is 4,294,967,295 bytes", and nostr-tools 2.25.2 encrypts them.
  // They are not run as "invalid"; the test below asserts their new meaning instead.
  it('encrypt_msg_lengths[1..3] (65,536, 100,000, 10,000,000), invalid in 2023, are valid since NIP-44 #1907: 65,536 and 100,000 round-trip; 10,000,000 pads with the u32 prefix', () => {
    expect(madeValid).toEqual([65_536, 100_000, 10_000_000]);
    const conversationKey = new Uint8Array(32).fill(7);
    for (const length of [65_536, 100_000]) {
      const plaintext = 'b'.repeat(length);
      expect(decrypt(encrypt(plaintext, conversationKey), conversationKey).length).toBe(length);
    }
    // A full 10 MB encrypt/decrypt takes about 6 s here; padding shows the length is accepted.
    const padded = v2.utils.pad('c'.repeat(10_000_000));
    expect(new DataView(padded.buffer, padded.byteOffset).getUint32(2)).toBe(10_000_000);
    expect(padded.length).toBe(6 + v2.utils.calcPaddedLen(10_000_000));
  });

  it('get_conversation_key: all 8 throw', () => {
    expect(vec.invalid.get_conversation_key).toHaveLength(8);
    for (const v of vec.invalid.get_conversation_key) {
      expect(() => getConversationKey(hexToBytes(v.sec1), v.pub2), v.note).toThrow();
    }
  });

  it('a zero or out-of-range secret throws with a valid peer key too', () => {
    // The vectors' "sec1 is 0" entry pairs it with an off-curve pub2, so it throws for that reason
    // first; check the secret-key range on its own.
    const validPub = getPublicKey(hexToBytes(`${'00'.repeat(31)}02`));
    for (const sec of ['00'.repeat(32), 'fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141']) {
      expect(() => getConversationKey(hexToBytes(sec), validPub), sec).toThrow();
    }
  });

  it('decrypt: all 12 throw the error the vector names', () => {
    expect(vec.invalid.decrypt).toHaveLength(12);
    for (const v of vec.invalid.decrypt) {
      expect(() => decrypt(v.payload, hexToBytes(v.conversation_key)), v.note).toThrow(new RegExp(v.note));
    }
  });
});

describe('NIP-44 vectors through createNip44Codec (shared/src/nostr/nip44.ts)', () => {
  // The codec takes a secret key and a peer pubkey, so it applies where the vectors give secret
  // keys: encrypt_decrypt, invalid get_conversation_key, and the extended-length rows (sec1 = 1,
  // sec2 = 2). invalid.decrypt, get_message_keys and encrypt_decrypt_long_msg give only a
  // conversation key; the codec's encryption is randomised, so it is checked by round trips.
  it('decrypts every encrypt_decrypt payload, from either side', () => {
    for (const v of vec.valid.encrypt_decrypt) {
      const pub1 = getPublicKey(hexToBytes(v.sec1));
      const pub2 = getPublicKey(hexToBytes(v.sec2));
      expect(createNip44Codec(hexToBytes(v.sec2)).decrypt(pub1, v.payload)).toBe(v.plaintext);
      expect(createNip44Codec(hexToBytes(v.sec1)).decrypt(pub2, v.payload)).toBe(v.plaintext);
    }
  });

  it('round-trips every vector plaintext, interoperating with nostr-tools', () => {
    const plaintexts = [
      ...vec.valid.encrypt_decrypt.map((v) => v.plaintext),
      ...vec.valid.encrypt_decrypt_long_msg.map((v) => v.pattern.repeat(v.repeat)),
    ];
    const v = vec.valid.encrypt_decrypt[0]!;
    const alice = createNip44Codec(hexToBytes(v.sec1));
    const bob = createNip44Codec(hexToBytes(v.sec2));
    const alicePub = getPublicKey(hexToBytes(v.sec1));
    const bobPub = getPublicKey(hexToBytes(v.sec2));
    for (const plaintext of plaintexts) {
      const payload = alice.encrypt(bobPub, plaintext);
      expect(bob.decrypt(alicePub, payload)).toBe(plaintext);
      expect(decrypt(payload, hexToBytes(v.conversation_key))).toBe(plaintext);
    }
  });

  it('throws for every invalid get_conversation_key pair (on first use)', () => {
    for (const v of vec.invalid.get_conversation_key) {
      const codec = createNip44Codec(hexToBytes(v.sec1));
      expect(() => codec.encrypt(v.pub2, 'x'), v.note).toThrow();
      expect(() => codec.decrypt(v.pub2, vec.valid.encrypt_decrypt[0]!.payload), v.note).toThrow();
    }
  });

  it('decrypts the extended-length rows: the codec does not cap size, its callers do', () => {
    // createNip44Codec passes payloads straight to nostr-tools, which has no upper bound since
    // #1907; NIP44_MAX_PLAINTEXT_BYTES (65,535) is enforced by callers through nip44PayloadChars
    // and content-length checks before decrypting.
    const v = vec.valid.encrypt_decrypt[0]!;
    const bob = createNip44Codec(hexToBytes(v.sec2));
    const alicePub = getPublicKey(hexToBytes(v.sec1));
    for (const row of EXTENDED_LENGTH.rows) {
      const plaintext = 'a'.repeat(row.length);
      const payload = encrypt(plaintext, hexToBytes(EXTENDED_LENGTH.conversationKey), hexToBytes(EXTENDED_LENGTH.nonce));
      expect(sha256Hex(payload)).toBe(row.payloadSha256);
      expect(bob.decrypt(alicePub, payload)).toBe(plaintext);
    }
  });
});

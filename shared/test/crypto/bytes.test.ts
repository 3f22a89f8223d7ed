import { describe, expect, it } from 'vitest';
import { assertBytes, bytesToHex, equalBytes, hexToBytes, randomBytes } from '../../src/crypto/bytes.js';

describe('byte helpers', () => {
  it('round-trips lower-case hex and enforces an expected length, naming the field', () => {
    expect(bytesToHex(hexToBytes('00ff10'))).toBe('00ff10');
    expect(hexToBytes('ab'.repeat(32), 32)).toHaveLength(32);
    expect(() => hexToBytes('ab', 32, 'eventId')).toThrow(/eventId: expected 32 bytes/);
    expect(() => hexToBytes('AB', undefined, 'pubkey')).toThrow(/pubkey: expected lower-case hex/);
    expect(() => hexToBytes('abc')).toThrow(/hex/);
    expect(() => hexToBytes(12)).toThrow(expect.objectContaining({ code: 'PROTOCOL_INVALID' }));
  });

  it('asserts byte arrays and their length', () => {
    expect(assertBytes(new Uint8Array(4), 4, 'x')).toHaveLength(4);
    expect(() => assertBytes(new Uint8Array(3), 4, 'nonce')).toThrow(/nonce: expected 4 bytes, got 3/);
    expect(() => assertBytes('00', undefined, 'sig')).toThrow(/sig: expected Uint8Array/);
  });

  it('compares bytes by content and length', () => {
    expect(equalBytes(Uint8Array.of(1, 2, 3), Uint8Array.of(1, 2, 3))).toBe(true);
    expect(equalBytes(Uint8Array.of(1, 2, 3), Uint8Array.of(1, 2, 4))).toBe(false);
    expect(equalBytes(Uint8Array.of(1, 2), Uint8Array.of(1, 2, 3))).toBe(false);
    expect(equalBytes(new Uint8Array(0), new Uint8Array(0))).toBe(true);
  });

  it('returns fresh random bytes of the requested length', () => {
    const a = randomBytes(32);
    expect(a).toHaveLength(32);
    expect(equalBytes(a, randomBytes(32))).toBe(false);
  });
});

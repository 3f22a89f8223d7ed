import { describe, expect, it } from 'vitest';
import { hexToBytes } from '../../src/crypto/bytes.js';
import { verifySchnorr } from '../../src/crypto/schnorr.js';
import { readVectorText } from './vectors.js';

interface Row {
  index: string;
  publicKey: string;
  message: string;
  signature: string;
  expected: boolean;
  comment: string;
}

// BIP-340 test-vectors.csv: index,secret key,public key,aux_rand,message,signature,verification result,comment
const rows: Row[] = readVectorText('bip340/test-vectors.csv')
  .trim()
  .split('\n')
  .slice(1)
  .map((line) => {
    const [index, , publicKey, , message, signature, result, ...comment] = line.trim().split(',');
    return {
      index: index ?? '',
      publicKey: (publicKey ?? '').toLowerCase(),
      message: (message ?? '').toLowerCase(),
      signature: (signature ?? '').toLowerCase(),
      expected: result === 'TRUE',
      comment: comment.join(','),
    };
  });

describe('BIP-340 test vectors through verifySchnorr', () => {
  it('reads every row of the vendored CSV', () => {
    expect(rows).toHaveLength(19);
    expect(rows.filter((r) => r.expected)).toHaveLength(9);
  });

  it.each(rows)('row $index returns the expected verification result ($comment)', (row) => {
    // Row 5 has a public key that is not on the curve: hexToBytes still decodes it, verify says no.
    const result = verifySchnorr(hexToBytes(row.signature), hexToBytes(row.message), hexToBytes(row.publicKey));
    expect(result).toBe(row.expected);
  });

  it('answers false instead of throwing on wrong lengths and types', () => {
    const good = rows[0] as Row;
    const sig = hexToBytes(good.signature);
    const msg = hexToBytes(good.message);
    const pub = hexToBytes(good.publicKey);
    expect(verifySchnorr(sig, msg, pub)).toBe(true);
    expect(verifySchnorr(sig.subarray(0, 63), msg, pub)).toBe(false);
    expect(verifySchnorr(sig, msg, Uint8Array.of(2, ...pub))).toBe(false);
    expect(verifySchnorr('00' as unknown as Uint8Array, msg, pub)).toBe(false);
    expect(verifySchnorr(sig, undefined as unknown as Uint8Array, pub)).toBe(false);
  });
});

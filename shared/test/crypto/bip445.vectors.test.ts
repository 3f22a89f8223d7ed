import { schnorr } from '@noble/curves/secp256k1.js';
import { describe, expect, it } from 'vitest';
import { hexToBytes } from '../../src/crypto/bytes.js';
import { groupXOnlyKey, identifierFromIndex, parseGroupPackage, SigningShare } from '../../src/crypto/frost.js';
import { commitmentsFromVerifyingShares } from '../../src/crypto/vss.js';
import { Fn, isOddY, Point, signWith } from './frost-helpers.js';
import { readVectorJson } from './vectors.js';

interface Bip445Group {
  tg_id: string;
  t: number;
  n: number;
  thresh_pk: string;
  pubshares: string[];
  secshares: string[];
}

// BIP-445 sign_verify_vectors.json: one test group per (t, n); signer i (0-based) holds f(i + 1);
// a bogus pubshare and a zero secshare are appended after the n real ones. Upper-case hex.
const groups = readVectorJson<{ test_groups: Bip445Group[] }>('bip445/sign_verify_vectors.json').test_groups;
const h = (hex: string) => BigInt('0x' + hex);
const lower = (hex: string) => hex.toLowerCase();

/** All k-element subsets of 0..n-1. */
function subsets(n: number, k: number): number[][] {
  if (k === 0) return [[]];
  if (n < k) return [];
  return [...subsets(n - 1, k - 1).map((s) => [...s, n - 1]), ...subsets(n - 1, k)];
}

function interpolateAtZero(points: { x: bigint; y: bigint }[]): bigint {
  return points.reduce((acc, { x: xi, y }) => {
    let num = Fn.ONE;
    let den = Fn.ONE;
    for (const { x } of points) {
      if (x === xi) continue;
      num = Fn.mul(num, x);
      den = Fn.mul(den, Fn.sub(x, xi));
    }
    return Fn.add(acc, Fn.mul(y, Fn.div(num, den)));
  }, Fn.ZERO);
}

describe('BIP-445 key material', () => {
  it('covers the four key setups, two of them with an odd-y threshold public key', () => {
    expect(groups.map((g) => g.tg_id)).toEqual(['2of3', '1of3', '3of3', '3of5']);
    expect(groups.filter((g) => isOddY(lower(g.thresh_pk))).map((g) => g.tg_id)).toEqual(['1of3', '3of5']);
  });

  describe.each(groups)('group $tg_id', (g) => {
    it('has public shares equal to secret share times G (full point, parity included)', () => {
      for (let i = 0; i < g.n; i++) {
        expect(Point.BASE.multiply(h(g.secshares[i] as string)).toHex(true)).toBe(lower(g.pubshares[i] as string));
      }
    });

    it('interpolates to the threshold public key from every t-subset of secret shares, at x = id + 1', () => {
      for (const subset of subsets(g.n, g.t)) {
        const secret = interpolateAtZero(subset.map((i) => ({ x: BigInt(i + 1), y: h(g.secshares[i] as string) })));
        expect(Point.BASE.multiply(secret).toHex(true)).toBe(lower(g.thresh_pk));
      }
    });

    it('rebuilds VSS commitments from the public shares whose constant term is the threshold public key', () => {
      const points = Array.from({ length: g.n }, (_, i) => ({ x: BigInt(i + 1), point: Point.fromHex(lower(g.pubshares[i] as string)) }));
      const commitments = commitmentsFromVerifyingShares(g.t, points);
      expect(commitments[0]?.toHex(true)).toBe(lower(g.thresh_pk));
    });
  });

  // FROST (noble, like ZF) needs t ≥ 2; BIP-445's 1-of-3 group is key material only.
  describe.each(groups.filter((g) => g.t >= 2))('group $tg_id through our FROST', (g) => {
    it('loads as a GroupPackage, accepts every secret share, and signs under x(thresh_pk)', () => {
      const points = Array.from({ length: g.n }, (_, i) => ({ x: BigInt(i + 1), point: Point.fromHex(lower(g.pubshares[i] as string)) }));
      const group = parseGroupPackage({
        threshold: g.t,
        maxSigners: g.n,
        groupKey: lower(g.thresh_pk),
        commitments: commitmentsFromVerifyingShares(g.t, points).map((c) => c.toHex(true)),
        verifyingShares: Object.fromEntries(points.map((p, i) => [identifierFromIndex(i + 1), lower(g.pubshares[i] as string)])),
      });
      const shares = g.secshares.slice(0, g.n).map((s, i) => SigningShare.fromHex(identifierFromIndex(i + 1), lower(s), group));
      // The appended zero share is refused by the verifying constructor.
      expect(() => SigningShare.fromHex(identifierFromIndex(1), lower(g.secshares[g.n] as string), group)).toThrow(
        expect.objectContaining({ code: 'SHARE_INVALID' }),
      );
      const eventId = hexToBytes('f9'.repeat(32));
      const signature = signWith(group, shares.slice(-g.t), eventId);
      expect(groupXOnlyKey(group)).toBe(lower(g.thresh_pk).slice(2));
      expect(schnorr.verify(hexToBytes(signature), eventId, hexToBytes(groupXOnlyKey(group)))).toBe(true);
    });
  });
});

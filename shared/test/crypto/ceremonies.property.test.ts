import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dealerKeygen, identifierFromIndex, SigningShare } from '../../src/crypto/frost.js';
import { dealRefresh, finishRefresh, verifyRefresh } from '../../src/crypto/refresh.js';
import { dealReshare, finishReshare, verifyReshare } from '../../src/crypto/reshare.js';
import { byId, deliver, expectSigns, interpolateInExponent, othersEchoes } from './ceremony-helpers.js';
import { groupShape, seededRng } from './frost-helpers.js';

const shape = groupShape(5);

describe('key ceremony properties', () => {
  it('refresh keeps the group key, renews every share, and a random k-subset of new shares signs', () => {
    fc.assert(
      fc.property(shape, fc.integer(), ([n, k, signerIdx], seed) => {
        const { group, shares } = dealerKeygen({ threshold: k, maxSigners: n, rng: seededRng(seed) });
        const ids = shares.map((s) => s.identifier);
        const dealt = shares.map((share, i) => dealRefresh({ share, group, rng: seededRng(seed + 1 + i) }));
        const commitments = byId(ids, dealt.map((d) => d.message));
        const inboxes = deliver(dealt.map((d) => d.subShares));
        const pendings = shares.map((share) =>
          verifyRefresh({ share, group, commitments, subShares: inboxes[share.identifier] }),
        );
        const results = pendings.map((p) => finishRefresh(p, othersEchoes(p.identifier, pendings)));
        const next = results[0]!.group;
        expect(next.groupKey).toBe(group.groupKey);
        for (const [i, r] of results.entries()) {
          expect(r.group).toEqual(next);
          expect(() => SigningShare.fromHex(ids[i]!, shares[i]!.toHex(), next)).toThrow();
        }
        expectSigns(next, signerIdx.map((i) => results[i]!.share), seed);
      }),
      { numRuns: 8 },
    );
  });

  it('reshare to random (k′, n′) from a random dealer set keeps the key; k′ sign, k′−1 do not determine it', () => {
    const target = fc
      .integer({ min: 2, max: 5 })
      .chain((n2) => fc.tuple(fc.constant(n2), fc.integer({ min: 2, max: n2 })));
    fc.assert(
      fc.property(shape, target, fc.integer(), ([n, k, dealerIdx], [n2, k2], seed) => {
        const { group, shares } = dealerKeygen({ threshold: k, maxSigners: n, rng: seededRng(seed) });
        const dealers = dealerIdx.map((i) => shares[i]!);
        const dealerIds = dealers.map((s) => s.identifier);
        const next = { threshold: k2, maxSigners: n2 };
        const dealt = dealers.map((share, i) =>
          dealReshare({ share, group, dealers: dealerIds, next, rng: seededRng(seed + 1 + i) }),
        );
        const commitments = byId(dealerIds, dealt.map((d) => d.message));
        const inboxes = deliver(dealt.map((d) => d.subShares));
        const members = Array.from({ length: n2 }, (_, i) => identifierFromIndex(i + 1));
        const pendings = members.map((identifier) =>
          verifyReshare({ group, dealers: dealerIds, next, identifier, commitments, subShares: inboxes[identifier] }),
        );
        const results = pendings.map((p) => finishReshare(p, othersEchoes(p.identifier, pendings)));
        const g = results[0]!.group;
        expect([g.threshold, g.maxSigners, g.groupKey]).toEqual([k2, n2, group.groupKey]);
        expectSigns(g, results.slice(n2 - k2).map((r) => r.share), seed);
        expect(interpolateInExponent(g, members.slice(0, k2)).toHex(true)).toBe(g.groupKey);
        expect(interpolateInExponent(g, members.slice(0, k2 - 1)).toHex(true)).not.toBe(g.groupKey);
      }),
      { numRuns: 8 },
    );
  });
});

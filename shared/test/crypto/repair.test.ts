import { describe, expect, it } from 'vitest';
import {
  CeremonyError,
  CommitmentMismatchError,
  type CommitmentMessage,
  type SubShareMessage,
} from '../../src/crypto/ceremony.js';
import { dealerKeygen, type GroupPackage, type SigningShare } from '../../src/crypto/frost.js';
import { combineRepair, dealRepair, finishRepair } from '../../src/crypto/repair.js';
import type { FrostIdentifier } from '../../src/protocol/brands.js';
import { addToScalarHex, byId, deliver, editShare, expectSigns, thrown, type Inboxes } from './ceremony-helpers.js';
import { Point, seededRng } from './frost-helpers.js';

type Commitments = Record<FrostIdentifier, CommitmentMessage>;

interface Edits {
  /** What a helper or the new holder (`lost`) is shown as the helpers' commitment messages. */
  commitmentsFor?: (recipient: FrostIdentifier, commitments: Commitments) => Commitments;
  piecesFor?: (helper: FrostIdentifier, inbox: Inboxes[FrostIdentifier]) => Inboxes[FrostIdentifier];
  sigmas?: (sigmas: Record<FrostIdentifier, SubShareMessage>) => Record<FrostIdentifier, SubShareMessage>;
}

/** A whole repair in memory: helpers deal and combine, the new holder of `lost` finishes. */
function runRepair(
  group: GroupPackage,
  helperShares: readonly SigningShare[],
  lost: FrostIdentifier,
  seed: number,
  edits: Edits = {},
) {
  const helpers = helperShares.map((s) => s.identifier);
  const dealt = helperShares.map((share, i) => dealRepair({ share, group, helpers, lost, rng: seededRng(seed * 1000 + i) }));
  const commitments = byId(helpers, dealt.map((d) => d.message));
  const seen = (who: FrostIdentifier) => edits.commitmentsFor?.(who, commitments) ?? commitments;
  const inboxes = deliver(dealt.map((d) => d.deltas));
  const combined = helpers.map((identifier) =>
    combineRepair({
      identifier,
      group,
      helpers,
      lost,
      commitments: seen(identifier),
      deltas: edits.piecesFor?.(identifier, { ...inboxes[identifier] }) ?? inboxes[identifier],
    }),
  );
  const sigmas = byId(helpers, combined.map((c) => c.sigma.toMessage()));
  const echoes = byId(helpers, combined.map((c) => c.echo));
  const finish = () =>
    finishRepair({ group, helpers, lost, commitments: seen(lost), sigmas: edits.sigmas?.(sigmas) ?? sigmas, echoes });
  return { inboxes, sigmas, finish };
}

describe('share repair (repairable threshold scheme)', () => {
  it.each([
    [2, 3, 3, [1, 2]],
    [3, 5, 2, [1, 3, 5]],
    [2, 4, 1, [2, 3, 4]],
  ])('%i-of-%i: member %i rebuilt from helpers %j is the original share and signs', (k, n, lostIndex, helperIndices) => {
    const { group, shares } = dealerKeygen({ threshold: k, maxSigners: n, rng: seededRng(k * 10 + n) });
    const original = shares[lostIndex - 1]!;
    const helpers = helperIndices.map((i) => shares[i - 1]!);
    const rebuilt = runRepair(group, helpers, original.identifier, 1).finish();
    expect(rebuilt.identifier).toBe(original.identifier);
    expect(rebuilt.publicShare()).toBe(group.verifyingShares[original.identifier]);
    expect(rebuilt.toHex()).toBe(original.toHex());
    expectSigns(group, [rebuilt, ...helpers.slice(0, k - 1)], lostIndex);
  });

  it('helpers only see fresh random pieces: other randomness gives other pieces and sums, the same share', () => {
    const { group, shares } = dealerKeygen({ threshold: 2, maxSigners: 3, rng: seededRng(2) });
    const lost = shares[2]!;
    const a = runRepair(group, [shares[0]!, shares[1]!], lost.identifier, 2);
    const b = runRepair(group, [shares[0]!, shares[1]!], lost.identifier, 3);
    const helper = shares[0]!.identifier;
    expect(a.inboxes[helper]![shares[1]!.identifier]!.share).not.toBe(b.inboxes[helper]![shares[1]!.identifier]!.share);
    expect(a.sigmas[helper]!.share).not.toBe(b.sigmas[helper]!.share);
    for (const sigma of Object.values(a.sigmas)) expect(sigma.share).not.toBe(lost.toHex());
    expect(a.finish().toHex()).toBe(b.finish().toHex());
  });

  describe('a bad contribution names its helper', () => {
    const { group, shares } = dealerKeygen({ threshold: 3, maxSigners: 5, rng: seededRng(4) });
    const helpers = [shares[0]!, shares[1]!, shares[3]!];
    const [one, two] = helpers.map((h) => h.identifier) as [FrostIdentifier, FrostIdentifier, FrostIdentifier];
    const lost = shares[4]!.identifier;

    it('a tampered piece, at the helper that received it', () => {
      const run = () =>
        runRepair(group, helpers, lost, 4, {
          piecesFor: (h, inbox) => (h === one ? editShare(inbox, two, (hex) => addToScalarHex(hex, 1n)) : inbox),
        });
      const error = thrown(run);
      expect(error).toBeInstanceOf(CeremonyError);
      expect((error as CeremonyError).culprits).toEqual([two]);
      expect(error.message).toMatch(/helper 2 sent a piece that does not match its commitment/);
    });

    it('a tampered σ, at the new holder', () => {
      const { finish } = runRepair(group, helpers, lost, 5, {
        sigmas: (all) => editShare(all, two, (hex) => addToScalarHex(hex, 1n)),
      });
      const error = thrown(finish);
      expect((error as CeremonyError).culprits).toEqual([two]);
      expect(error.message).toMatch(/helper 2 sent a σ that does not match the piece commitments/);
    });

    it('pieces that do not add up to the helper’s true term, at every helper', () => {
      // Helper 2 shifts its last piece (and its commitment): consistent pieces of a wrong term.
      const shift = (all: Commitments) => {
        const vector = [...all[two]!.commitments];
        vector[2] = Point.fromHex(vector[2]!).add(Point.BASE).toHex(true);
        return { ...all, [two]: { commitments: vector } };
      };
      const error = thrown(() =>
        runRepair(group, helpers, lost, 6, {
          commitmentsFor: (_r, all) => shift(all),
          piecesFor: (h, inbox) =>
            h === helpers[2]!.identifier ? editShare(inbox, two, (hex) => addToScalarHex(hex, 1n)) : inbox,
        }),
      );
      expect((error as CeremonyError).culprits).toEqual([two]);
      expect(error.message).toMatch(/helper 2 sent piece commitments that do not add up/);
    });

    it('commitments shown to the new holder that differ from the helpers’: commitment mismatch, nobody blamed', () => {
      const ids = helpers.map((h) => h.identifier);
      const other = dealRepair({ share: helpers[0]!, group, helpers: ids, lost, rng: seededRng(77) });
      const { finish } = runRepair(group, helpers, lost, 7, {
        commitmentsFor: (r, all) => (r === lost ? { ...all, [one]: other.message } : all),
      });
      const error = thrown(finish);
      expect(error).toBeInstanceOf(CommitmentMismatchError);
      expect(error.message).toMatch(/commitment mismatch \(helper 1\)/);
    });
  });

  it('refuses fewer than k helpers, and a lost member among the helpers', () => {
    const { group, shares } = dealerKeygen({ threshold: 3, maxSigners: 4, rng: seededRng(8) });
    const lost = shares[3]!.identifier;
    const two = [shares[0]!.identifier, shares[1]!.identifier];
    expect(() => dealRepair({ share: shares[0]!, group, helpers: two, lost })).toThrow(
      expect.objectContaining({ code: 'PROTOCOL_INVALID' }),
    );
    const withLost = [shares[0]!.identifier, shares[1]!.identifier, lost];
    expect(thrown(() => dealRepair({ share: shares[0]!, group, helpers: withLost, lost })).message).toMatch(
      /helpers other than opts.lost/,
    );
  });
});

import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { hexToBytes } from '../../src/crypto/bytes.js';
import {
  CeremonyError,
  CommitmentMismatchError,
  commitmentEcho,
  type CommitmentMessage,
} from '../../src/crypto/ceremony.js';
import {
  aggregateSignature,
  commit,
  createSigningPackage,
  dealerKeygen,
  signShare,
  SigningShare,
  type GroupPackage,
} from '../../src/crypto/frost.js';
import { dealRefresh, finishRefresh, verifyRefresh } from '../../src/crypto/refresh.js';
import { CheaterError } from '../../src/errors.js';
import type { FrostIdentifier } from '../../src/protocol/brands.js';
import {
  addToScalarHex,
  byId,
  deliver,
  editShare,
  expectSigns,
  hexOf,
  othersEchoes,
  someSubsets,
  thrown,
  type Inboxes,
} from './ceremony-helpers.js';
import { Fn, Point, seededRng } from './frost-helpers.js';

type Commitments = Record<FrostIdentifier, CommitmentMessage>;
type Outcome = { group: GroupPackage; share: SigningShare } | Error;

interface Edits {
  /** What the coordinator shows `recipient` as everyone's commitment messages. */
  commitmentsFor?: (recipient: FrostIdentifier, commitments: Commitments) => Commitments;
  /** The sub-shares `recipient` decrypts, keyed by dealer. */
  inboxFor?: (recipient: FrostIdentifier, inbox: Inboxes[FrostIdentifier]) => Inboxes[FrostIdentifier];
}

/** A whole refresh in memory: deal, verify, echo, finish at every member. */
function runRefresh(group: GroupPackage, shares: readonly SigningShare[], seed: number, edits: Edits = {}) {
  const ids = shares.map((s) => s.identifier);
  const dealt = shares.map((share, i) => dealRefresh({ share, group, rng: seededRng(seed * 1000 + i) }));
  const commitments = byId(ids, dealt.map((d) => d.message));
  const inboxes = deliver(dealt.map((d) => d.subShares));
  const pendings = shares.map((share) =>
    verifyRefresh({
      share,
      group,
      commitments: edits.commitmentsFor?.(share.identifier, commitments) ?? commitments,
      subShares: edits.inboxFor?.(share.identifier, { ...inboxes[share.identifier] }) ?? inboxes[share.identifier],
    }),
  );
  const echoes = pendings.map((p) => ({ identifier: p.identifier, echo: p.echo }));
  const outcomes: Outcome[] = pendings.map((p) => {
    try {
      return finishRefresh(p, othersEchoes(p.identifier, echoes));
    } catch (error) {
      return error as Error;
    }
  });
  return { ids, commitments, inboxes, pendings, outcomes };
}

function succeeded(outcomes: readonly Outcome[]): { group: GroupPackage; share: SigningShare }[] {
  return outcomes.map((o) => {
    if (o instanceof Error) throw o;
    return o;
  });
}

describe('proactive share refresh', () => {
  it.each([
    [2, 3],
    [3, 5],
  ])('%i-of-%i: same group key and (k, n), every share new, k-subsets covering all members sign', (k, n) => {
    const { group, shares } = dealerKeygen({ threshold: k, maxSigners: n, rng: seededRng(k * 10 + n) });
    const results = succeeded(runRefresh(group, shares, 1).outcomes);
    const next = results[0]!.group;
    for (const r of results) expect(r.group).toEqual(next);
    expect(next.groupKey).toBe(group.groupKey);
    expect(next.commitments[0]).toBe(group.commitments[0]);
    expect([next.threshold, next.maxSigners]).toEqual([k, n]);
    for (const [i, r] of results.entries()) {
      expect(r.share.identifier).toBe(shares[i]!.identifier);
      expect(r.share.toHex()).not.toBe(shares[i]!.toHex());
      expect(next.verifyingShares[r.share.identifier]).not.toBe(group.verifyingShares[r.share.identifier]);
    }
    for (const [i, signers] of someSubsets(results.map((r) => r.share), k).entries()) expectSigns(next, signers, i);
  });

  it('an old share in a round with a new share fails, and the old share’s holder is named (G12)', () => {
    const { group, shares } = dealerKeygen({ threshold: 2, maxSigners: 3, rng: seededRng(21) });
    const results = succeeded(runRefresh(group, shares, 2).outcomes);
    const next = results[0]!.group;
    const [oldOne, newTwo] = [shares[0]!, results[1]!.share];
    // The old share no longer fits the new group at all.
    expect(() => SigningShare.fromHex(oldOne.identifier, oldOne.toHex(), next)).toThrow(
      expect.objectContaining({ code: 'SHARE_INVALID' }),
    );
    // A node that kept its old share signs under the old package (same group key, same challenge).
    const a = commit(oldOne);
    const b = commit(newTwo);
    const pkg = createSigningPackage(hexToBytes('33'.repeat(32)), [a.commitments, b.commitments]);
    const partials = {
      [oldOne.identifier]: signShare(oldOne, group, a.nonces, pkg),
      [newTwo.identifier]: signShare(newTwo, next, b.nonces, pkg),
    };
    const error = thrown(() => aggregateSignature(next, pkg, partials));
    expect(error).toBeInstanceOf(CheaterError);
    expect((error as CheaterError).culprits).toEqual([oldOne.identifier]);
    expect(() => aggregateSignature(group, pkg, partials)).toThrow(CheaterError);
  });

  describe('tampered contributions are rejected and the dealer is named; the old epoch still signs (G12b)', () => {
    const { group, shares } = dealerKeygen({ threshold: 3, maxSigners: 5, rng: seededRng(31) });
    const ids = shares.map((s) => s.identifier);
    const dealer = ids[2]!; // dealer 3
    const victim = ids[0]!;
    const c = 0x1234n;
    const cG = Point.BASE.multiply(c).toHex(true);

    it.each<[string, Edits, FrostIdentifier[], RegExp]>([
      [
        'non-zero constant term (k commitments)',
        {
          commitmentsFor: (_r, all) => ({ ...all, [dealer]: { commitments: [cG, ...all[dealer]!.commitments] } }),
          inboxFor: (_r, inbox) => editShare(inbox, dealer, (hex) => addToScalarHex(hex, c)),
        },
        ids,
        /dealer 3 sent 3 commitments: refresh leaves out the constant term, which must be zero/,
      ],
      [
        'non-zero constant term hidden in the sub-shares',
        {
          inboxFor: (_r, inbox) => editShare(inbox, dealer, (hex) => addToScalarHex(hex, c)),
        },
        ids,
        /dealer 3 sent a sub-share that does not match its commitments/,
      ],
      [
        'wrong commitment count',
        { commitmentsFor: (_r, all) => ({ ...all, [dealer]: { commitments: all[dealer]!.commitments.slice(0, 1) } }) },
        ids,
        /dealer 3 sent 1 commitments, expected 2/,
      ],
      [
        'wrong value',
        {
          inboxFor: (r, inbox) => (r === victim ? editShare(inbox, dealer, (hex) => addToScalarHex(hex, 1n)) : inbox),
        },
        [victim],
        /dealer 3 sent a sub-share that does not match its commitments/,
      ],
      [
        'negated value',
        {
          inboxFor: (r, inbox) => (r === victim ? editShare(inbox, dealer, (hex) => hexOf(Fn.neg(BigInt('0x' + hex)))) : inbox),
        },
        [victim],
        /dealer 3 sent a sub-share that does not match its commitments/,
      ],
    ])('%s', (_variant, edits, rejecting, reason) => {
      const { outcomes } = runRefresh(group, shares, 3, edits);
      for (const [i, outcome] of outcomes.entries()) {
        if (!rejecting.includes(ids[i]!)) {
          expect(outcome).not.toBeInstanceOf(Error);
          continue;
        }
        expect(outcome).toBeInstanceOf(CeremonyError);
        expect((outcome as CeremonyError).culprits).toEqual([dealer]);
        expect((outcome as Error).message).toMatch(reason);
      }
      // Nothing in the old epoch changed: it still signs under the same key.
      expectSigns(group, shares.slice(1, 4), 3);
    });

    it('a negated sub-share has the same x coordinate as the honest one (an x-only check would pass it)', () => {
      const { inboxes } = runRefresh(group, shares, 4);
      const honest = BigInt('0x' + inboxes[victim]![dealer]!.share);
      const negated = Fn.neg(honest);
      expect(Point.BASE.multiply(negated).toAffine().x).toBe(Point.BASE.multiply(honest).toAffine().x);
      expect(Point.BASE.multiply(negated).equals(Point.BASE.multiply(honest))).toBe(false);
    });
  });

  describe('coordinator equivocation: different commitment vectors to different nodes (G12c)', () => {
    const { group, shares } = dealerKeygen({ threshold: 2, maxSigners: 3, rng: seededRng(41) });
    const ids = shares.map((s) => s.identifier);
    const dealer = ids[2]!;
    // A second, internally consistent contribution by dealer 3.
    const second = dealRefresh({ share: shares[2]!, group, rng: seededRng(4242) });
    const secondInbox = deliver([second.subShares]);

    it.each<[string, Edits]>([
      [
        'a second consistent contribution shown to node 1',
        {
          commitmentsFor: (r, all) => (r === ids[0] ? { ...all, [dealer]: second.message } : all),
          inboxFor: (r, inbox) => (r === ids[0] ? { ...inbox, [dealer]: secondInbox[r]![dealer]! } : inbox),
        },
      ],
      [
        'an altered vector shown to node 1 only',
        { commitmentsFor: (r, all) => (r === ids[0] ? { ...all, [dealer]: second.message } : all) },
      ],
    ])('%s: every node aborts with "commitment mismatch (dealer 3)"', (_variant, edits) => {
      const { pendings, outcomes } = runRefresh(group, shares, 5, edits);
      expect(pendings[0]!.echo.digest).not.toBe(pendings[1]!.echo.digest);
      expect(pendings[0]!.echo.dealers[dealer]).not.toBe(pendings[1]!.echo.dealers[dealer]);
      expect(pendings[0]!.echo.dealers[ids[1]!]).toBe(pendings[1]!.echo.dealers[ids[1]!]);
      expect(pendings[1]!.echo).toEqual(pendings[2]!.echo);
      for (const outcome of outcomes) {
        expect(outcome).toBeInstanceOf(CommitmentMismatchError);
        expect((outcome as CommitmentMismatchError).dealers).toEqual([dealer]);
        expect((outcome as Error).message).toMatch(/commitment mismatch \(dealer 3\)/);
      }
      expectSigns(group, shares.slice(0, 2), 5);
    });
  });

  it('the echo digest ignores delivery order and is bound to the ceremony kind and every point', () => {
    const { group, shares } = dealerKeygen({ threshold: 3, maxSigners: 3, rng: seededRng(51) });
    const { ids, commitments } = runRefresh(group, shares, 6);
    const vectors = Object.fromEntries(ids.map((id) => [id, commitments[id]!.commitments]));
    const reversed = Object.fromEntries([...ids].reverse().map((id) => [id, commitments[id]!.commitments]));
    const echo = commitmentEcho('refresh', vectors);
    expect(commitmentEcho('refresh', reversed)).toEqual(echo);
    expect(commitmentEcho('reshare', vectors).digest).not.toBe(echo.digest);
    const swapped = { ...vectors, [ids[0]!]: [...vectors[ids[0]!]!].reverse() };
    expect(commitmentEcho('refresh', swapped).digest).not.toBe(echo.digest);
  });

  it('refuses a refresh that is missing a member’s contribution (refresh needs all n)', () => {
    const { group, shares } = dealerKeygen({ threshold: 2, maxSigners: 3, rng: seededRng(61) });
    const ids = shares.map((s) => s.identifier);
    const dealt = shares.map((share) => dealRefresh({ share, group }));
    const commitments = byId(ids, dealt.map((d) => d.message));
    delete commitments[ids[2]!];
    const inbox = deliver(dealt.map((d) => d.subShares))[ids[0]!];
    const error = thrown(() => verifyRefresh({ share: shares[0]!, group, commitments, subShares: inbox }));
    expect(error).toMatchObject({ code: 'PROTOCOL_INVALID' });
    expect(error.message).toContain(ids[2]);
  });

  it('a pending refresh is single-use and prints <redacted>', () => {
    const { group, shares } = dealerKeygen({ threshold: 2, maxSigners: 2, rng: seededRng(71) });
    const dealt = shares.map((share) => dealRefresh({ share, group }));
    const ids = shares.map((s) => s.identifier);
    const inboxes = deliver(dealt.map((d) => d.subShares));
    const commitments = byId(ids, dealt.map((d) => d.message));
    const pending = verifyRefresh({ share: shares[0]!, group, commitments, subShares: inboxes[ids[0]!] });
    const other = verifyRefresh({ share: shares[1]!, group, commitments, subShares: inboxes[ids[1]!] });
    expect(String(pending)).toBe('<redacted>');
    expect(inspect({ pending }, { depth: 10, showHidden: true })).not.toContain(inboxes[ids[0]!]![ids[0]!]!.share);
    const { share } = finishRefresh(pending, { [ids[1]!]: other.echo });
    expect(JSON.stringify({ share })).toBe('{"share":"<redacted>"}');
    expect(() => finishRefresh(pending, { [ids[1]!]: other.echo })).toThrow(
      expect.objectContaining({ code: 'PROTOCOL_INVALID' }),
    );
  });
});

import { describe, expect, it } from 'vitest';
import { hexToBytes } from '../../src/crypto/bytes.js';
import { CeremonyError, type CommitmentMessage, type SubShareMessage } from '../../src/crypto/ceremony.js';
import {
  aggregateSignature,
  commit,
  createSigningPackage,
  dealerKeygen,
  identifierFromIndex,
  SigningShare,
  type GroupPackage,
} from '../../src/crypto/frost.js';
import { dealReshare, finishReshare, verifyReshare, type ReshareTarget } from '../../src/crypto/reshare.js';
import type { FrostIdentifier } from '../../src/protocol/brands.js';
import {
  addToScalarHex,
  byId,
  deliver,
  editShare,
  expectSigns,
  hexOf,
  interpolateInExponent,
  othersEchoes,
  someSubsets,
  subsets,
  thrown,
  type Inboxes,
} from './ceremony-helpers.js';
import { Fn, Point, seededRng } from './frost-helpers.js';

type Outcome = { group: GroupPackage; share: SigningShare } | Error;

interface Edits {
  /** Replaces one dealer's whole contribution (commitments and every sub-share). */
  forge?: { dealer: FrostIdentifier; message: CommitmentMessage; subShares: Record<FrostIdentifier, SubShareMessage> };
  inboxFor?: (recipient: FrostIdentifier, inbox: Inboxes[FrostIdentifier]) => Inboxes[FrostIdentifier];
}

/** A whole reshare in memory: old `dealerShares` deal, every new member 1..n′ verifies, echoes, finishes. */
function runReshare(
  group: GroupPackage,
  dealerShares: readonly SigningShare[],
  next: ReshareTarget,
  seed: number,
  edits: Edits = {},
) {
  const dealers = dealerShares.map((s) => s.identifier);
  const dealt = dealerShares.map((share, i) =>
    dealReshare({ share, group, dealers, next, rng: seededRng(seed * 1000 + i) }),
  );
  const commitments = byId(dealers, dealt.map((d) => d.message));
  const inboxes = deliver(dealt.map((d) => d.subShares));
  const forge = edits.forge;
  if (forge !== undefined) {
    commitments[forge.dealer] = forge.message;
    for (const [recipient, message] of Object.entries(forge.subShares))
      inboxes[recipient as FrostIdentifier]![forge.dealer] = message;
  }
  const members = Array.from({ length: next.maxSigners }, (_, i) => identifierFromIndex(i + 1));
  const pendings = members.map((identifier) =>
    verifyReshare({
      group,
      dealers,
      next,
      identifier,
      commitments,
      subShares: edits.inboxFor?.(identifier, { ...inboxes[identifier] }) ?? inboxes[identifier],
    }),
  );
  const echoes = pendings.map((p) => ({ identifier: p.identifier, echo: p.echo }));
  const outcomes: Outcome[] = pendings.map((p) => {
    try {
      return finishReshare(p, othersEchoes(p.identifier, echoes));
    } catch (error) {
      return error as Error;
    }
  });
  return { members, outcomes };
}

function succeeded(outcomes: readonly Outcome[]) {
  return outcomes.map((o) => {
    if (o instanceof Error) throw o;
    return o;
  });
}

/**
 * A dealer that follows the protocol except for its constant term: a polynomial of degree k′−1
 * with constant `constant`, committed and evaluated consistently (plain noble maths).
 */
function dealWithConstant(constant: bigint, next: ReshareTarget, seed: number) {
  const rng = seededRng(seed);
  const random = () => Fn.create(BigInt('0x' + Buffer.from(rng(32)).toString('hex')));
  const coefficients = [Fn.create(constant), ...Array.from({ length: next.threshold - 1 }, random)];
  const message = { commitments: coefficients.map((a) => Point.BASE.multiply(a).toHex(true)) };
  const subShares: Record<FrostIdentifier, SubShareMessage> = {};
  for (let j = 1; j <= next.maxSigners; j++) {
    const x = BigInt(j);
    const value = coefficients.reduceRight((acc, a) => Fn.add(Fn.mul(acc, x), a), 0n);
    subShares[identifierFromIndex(j)] = { recipient: identifierFromIndex(j), share: hexOf(value) };
  }
  return { message, subShares };
}

describe('resharing to a new threshold and size', () => {
  it('2-of-3 → 3-of-5 → 2-of-3 keeps the group key; k′ new shares sign and k′−1 do not', () => {
    const start = dealerKeygen({ threshold: 2, maxSigners: 3, rng: seededRng(1) });
    const toThreeOfFive = { threshold: 3, maxSigners: 5 };
    const step1 = succeeded(runReshare(start.group, [start.shares[0]!, start.shares[2]!], toThreeOfFive, 1).outcomes);
    const g1 = step1[0]!.group;
    for (const r of step1) expect(r.group).toEqual(g1);
    expect([g1.threshold, g1.maxSigners, g1.groupKey]).toEqual([3, 5, start.group.groupKey]);
    const shares1 = step1.map((r) => r.share);
    for (const [i, signers] of someSubsets(shares1, 3).entries()) expectSigns(g1, signers, i);
    const ids1 = shares1.map((s) => s.identifier);
    for (const few of subsets(ids1, 2)) expect(interpolateInExponent(g1, few).toHex(true)).not.toBe(g1.groupKey);
    const round1 = shares1.slice(0, 2).map((s) => commit(s));
    const pkg = createSigningPackage(hexToBytes('44'.repeat(32)), round1.map((r) => r.commitments));
    expect(() => aggregateSignature(g1, pkg, {})).toThrow(expect.objectContaining({ code: 'PROTOCOL_INVALID' }));

    const toTwoOfThree = { threshold: 2, maxSigners: 3 };
    const step2 = succeeded(runReshare(g1, [shares1[1]!, shares1[3]!, shares1[4]!], toTwoOfThree, 2).outcomes);
    const g2 = step2[0]!.group;
    expect([g2.threshold, g2.maxSigners, g2.groupKey]).toEqual([2, 3, start.group.groupKey]);
    for (const [i, signers] of subsets(step2.map((r) => r.share), 2).entries()) expectSigns(g2, signers, 10 + i);
    for (const id of Object.keys(g2.verifyingShares) as FrostIdentifier[])
      expect(g2.verifyingShares[id]).not.toBe(g2.groupKey);
    // Shares of the first group do not fit the last one.
    for (const old of start.shares)
      expect(() => SigningShare.fromHex(old.identifier, old.toHex(), g2)).toThrow(
        expect.objectContaining({ code: 'SHARE_INVALID' }),
      );
  });

  it('works with more than k dealers', () => {
    const start = dealerKeygen({ threshold: 2, maxSigners: 4, rng: seededRng(3) });
    const results = succeeded(runReshare(start.group, start.shares, { threshold: 3, maxSigners: 3 }, 3).outcomes);
    expect(results[0]!.group.groupKey).toBe(start.group.groupKey);
    expectSigns(results[0]!.group, results.map((r) => r.share), 3);
  });

  describe('a dealer whose constant term is not λ_i·s_i is rejected at every new member and named', () => {
    const start = dealerKeygen({ threshold: 2, maxSigners: 3, rng: seededRng(4) });
    const dealers = [start.shares[0]!, start.shares[1]!];
    const next = { threshold: 2, maxSigners: 3 };
    const cheat = dealers[1]!;

    it.each([
      ['its raw share s_i (no Lagrange weight)', () => BigInt('0x' + cheat.toHex())],
      ['a constant of its own choosing (a new key)', () => 0xabcdefn],
      // λ_2 over {2, 3} is 3 / (3 − 2) = 3: right form, wrong dealer set.
    ['the weight for another dealer set', () => Fn.mul(BigInt('0x' + cheat.toHex()), 3n)],
    ])('%s', (_variant, constant) => {
      const forged = dealWithConstant(constant(), next, 44);
      const { outcomes } = runReshare(start.group, dealers, next, 4, { forge: { dealer: cheat.identifier, ...forged } });
      for (const outcome of outcomes) {
        expect(outcome).toBeInstanceOf(CeremonyError);
        expect((outcome as CeremonyError).culprits).toEqual([cheat.identifier]);
        expect((outcome as Error).message).toMatch(/dealer 2 sent a constant-term commitment that is not λ/);
      }
      expectSigns(start.group, dealers, 4);
    });

    it('while the correctly weighted constant passes (the forging helper is sound)', () => {
      // λ_2 over {1, 2} at 0 is 1 / (1 − 2) = −1.
      const forged = dealWithConstant(Fn.neg(BigInt('0x' + cheat.toHex())), next, 45);
      const { outcomes } = runReshare(start.group, dealers, next, 5, { forge: { dealer: cheat.identifier, ...forged } });
      const results = succeeded(outcomes);
      expect(results[0]!.group.groupKey).toBe(start.group.groupKey);
    });
  });

  it('names the dealer of a tampered sub-share, at its recipient only', () => {
    const start = dealerKeygen({ threshold: 2, maxSigners: 3, rng: seededRng(6) });
    const dealers = [start.shares[1]!, start.shares[2]!];
    const victim = identifierFromIndex(4);
    const { outcomes } = runReshare(start.group, dealers, { threshold: 3, maxSigners: 4 }, 6, {
      inboxFor: (r, inbox) =>
        r === victim ? editShare(inbox, dealers[0]!.identifier, (hex) => addToScalarHex(hex, 1n)) : inbox,
    });
    expect(outcomes.slice(0, 3).every((o) => !(o instanceof Error))).toBe(true);
    expect((outcomes[3] as CeremonyError).culprits).toEqual([dealers[0]!.identifier]);
    expect((outcomes[3] as Error).message).toMatch(/dealer 2 sent a sub-share that does not match its commitments/);
  });

  it('refuses fewer than k dealers, and a dealer outside its own dealer set', () => {
    const { group, shares } = dealerKeygen({ threshold: 3, maxSigners: 4, rng: seededRng(7) });
    const next = { threshold: 2, maxSigners: 2 };
    const two = [shares[0]!.identifier, shares[1]!.identifier];
    expect(() => dealReshare({ share: shares[0]!, group, dealers: two, next })).toThrow(
      expect.objectContaining({ code: 'PROTOCOL_INVALID' }),
    );
    const others = [shares[1]!.identifier, shares[2]!.identifier, shares[3]!.identifier];
    const error = thrown(() => dealReshare({ share: shares[0]!, group, dealers: others, next }));
    expect(error.message).toMatch(/includes this share/);
  });
});

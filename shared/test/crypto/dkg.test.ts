import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { hexToBytes } from '../../src/crypto/bytes.js';
import { CeremonyError, CommitmentMismatchError, commitmentEcho } from '../../src/crypto/ceremony.js';
import { dealDkg, finishDkg, startDkg, type DkgRound1Message } from '../../src/crypto/dkg.js';
import {
  aggregateSignature,
  commit,
  createSigningPackage,
  dkgProofIsValid,
  identifierFromIndex,
  parseGroupPackage,
  type GroupPackage,
} from '../../src/crypto/frost.js';
import type { FrostIdentifier } from '../../src/protocol/brands.js';
import {
  addToScalarHex,
  byId,
  culpritsOf,
  deliver,
  expectSigns,
  hexOf,
  interpolateInExponent,
  othersEchoes,
  someSubsets,
  subsets,
  thrown,
} from './ceremony-helpers.js';
import { coefficientBytes, Fn, Point, queueRng, seededRng } from './frost-helpers.js';
import { readVectorJson } from './vectors.js';

function startAll(k: number, n: number, seed: number) {
  const ids = Array.from({ length: n }, (_, i) => identifierFromIndex(i + 1));
  const started = ids.map((identifier, i) =>
    startDkg({ identifier, threshold: k, maxSigners: n, rng: seededRng(seed * 1000 + i) }),
  );
  return { ids, states: started.map((s) => s.state), messages: byId(ids, started.map((s) => s.message)) };
}

/** A whole DKG in memory; every participant sees the same round-one messages. */
function runDkg(k: number, n: number, seed: number) {
  const { ids, states, messages } = startAll(k, n, seed);
  const dealt = states.map((s) => dealDkg(s, messages));
  const inboxes = deliver(dealt.map((d) => d.subShares));
  const echoes = ids.map((identifier, i) => ({ identifier, echo: dealt[i]!.echo }));
  const results = states.map((s, i) => finishDkg(s, inboxes[ids[i]!], othersEchoes(ids[i]!, echoes)));
  return { ids, messages, results };
}

describe('distributed key generation', () => {
  it.each([
    [2, 3],
    [3, 5],
  ])('%i-of-%i: every participant gets the same parseable group; k-subsets covering all members sign', (k, n) => {
    const { results } = runDkg(k, n, k * 10 + n);
    const group = results[0]!.group;
    for (const r of results) expect(r.group).toEqual(group);
    expect(parseGroupPackage(JSON.parse(JSON.stringify(group)))).toEqual(group);
    expect(group.threshold).toBe(k);
    expect(group.maxSigners).toBe(n);
    const shares = results.map((r) => r.share);
    for (const [i, share] of shares.entries()) expect(share.identifier).toBe(identifierFromIndex(i + 1));
    for (const [i, signers] of someSubsets(shares, k).entries()) expectSigns(group, signers, i);
  });

  it('is untweaked: the group key is the sum of the participants’ constant-term commitments', () => {
    const { messages, results } = runDkg(2, 3, 7);
    const sum = Object.values(messages).reduce(
      (acc, m: DkgRound1Message) => acc.add(Point.fromHex(m.commitments[0]!)),
      Point.ZERO,
    );
    expect(results[0]!.group.groupKey).toBe(sum.toHex(true));
  });

  it('k shares determine the group key and k−1 do not; signing with k−1 is refused', () => {
    const { ids, results } = runDkg(3, 5, 8);
    const group = results[0]!.group;
    expect(interpolateInExponent(group, ids.slice(0, 3)).toHex(true)).toBe(group.groupKey);
    for (const few of subsets(ids, 2)) expect(interpolateInExponent(group, few).toHex(true)).not.toBe(group.groupKey);
    const round1 = results.slice(0, 2).map((r) => commit(r.share));
    const pkg = createSigningPackage(hexToBytes('22'.repeat(32)), round1.map((r) => r.commitments));
    expect(() => aggregateSignature(group, pkg, {})).toThrow(expect.objectContaining({ code: 'PROTOCOL_INVALID' }));
  });

  it('names the participant whose proof of knowledge was tampered with, and deals nothing', () => {
    const { ids, states, messages } = startAll(2, 3, 11);
    const pok = messages[ids[1]!]!.proofOfKnowledge;
    const proofOfKnowledge = pok.slice(0, 64) + addToScalarHex(pok.slice(64), 1n);
    const tampered = { ...messages, [ids[1]!]: { ...messages[ids[1]!]!, proofOfKnowledge } };
    const error = thrown(() => dealDkg(states[0]!, tampered));
    expect(error).toBeInstanceOf(CeremonyError);
    expect((error as CeremonyError).culprits).toEqual([ids[1]]);
    expect(error.message).toMatch(/participant 2 sent an invalid proof of knowledge/);
    // The failed step ended the ceremony for this participant.
    expect(() => dealDkg(states[0]!, messages)).toThrow(expect.objectContaining({ code: 'PROTOCOL_INVALID' }));
  });

  it('names a participant that commits to a polynomial of the wrong degree', () => {
    const { ids, states, messages } = startAll(3, 4, 12);
    const m = messages[ids[3]!]!;
    const short = { ...messages, [ids[3]!]: { ...m, commitments: m.commitments.slice(0, 2) } };
    expect(culpritsOf(() => dealDkg(states[0]!, short))).toEqual([ids[3]]);
  });

  it.each([
    ['off by one', (hex: string) => addToScalarHex(hex, 1n)],
    ['negated', (hex: string) => hexOf(Fn.neg(BigInt('0x' + hex)))],
  ])('names the participant whose sub-share was %s', (_variant, tamper) => {
    const { ids, states, messages } = startAll(2, 3, 13);
    const dealt = states.map((s) => dealDkg(s, messages));
    const inboxes = deliver(dealt.map((d) => d.subShares));
    const mine = inboxes[ids[0]!]!;
    mine[ids[2]!] = { ...mine[ids[2]!]!, share: tamper(mine[ids[2]!]!.share) };
    const echoes = ids.map((identifier, i) => ({ identifier, echo: dealt[i]!.echo }));
    const error = thrown(() => finishDkg(states[0]!, mine, othersEchoes(ids[0]!, echoes)));
    expect((error as CeremonyError).culprits).toEqual([ids[2]]);
    expect(error.message).toMatch(/participant 3 sent a sub-share that does not match its commitments/);
    // The other participants are unaffected.
    expect(() => finishDkg(states[1]!, inboxes[ids[1]!], othersEchoes(ids[1]!, echoes))).not.toThrow();
  });

  it('every participant aborts with a commitment mismatch when one of them saw another round-one message', () => {
    const { ids, states, messages } = startAll(2, 3, 14);
    // Participant 3 (or the coordinator) shows participant 1 a second, equally valid commitment.
    const other = startDkg({ identifier: ids[2]!, threshold: 2, maxSigners: 3, rng: seededRng(99) });
    const forOne = { ...messages, [ids[2]!]: other.message };
    const dealt = states.map((s, i) => dealDkg(s, i === 0 ? forOne : messages));
    expect(dealt[0]!.echo.digest).not.toBe(dealt[1]!.echo.digest);
    const inboxes = deliver(dealt.map((d) => d.subShares));
    const echoes = ids.map((identifier, i) => ({ identifier, echo: dealt[i]!.echo }));
    for (const [i, state] of states.entries()) {
      const error = thrown(() => finishDkg(state, inboxes[ids[i]!], othersEchoes(ids[i]!, echoes)));
      expect(error).toBeInstanceOf(CommitmentMismatchError);
      expect(error.message).toMatch(/commitment mismatch \(participant 3\)/);
    }
    other.state.discard();
  });

  it('keeps its secrets out of every rendering', () => {
    const { ids, states, messages } = startAll(2, 2, 15);
    const { subShares } = dealDkg(states[0]!, messages);
    const hex = subShares[1]!.toMessage().share;
    for (const secret of [states[0]!, subShares[1]!]) {
      expect(String(secret)).toBe('<redacted>');
      expect(JSON.stringify({ secret })).not.toContain(hex);
      expect(inspect({ secret }, { depth: 10, showHidden: true })).not.toContain(hex);
    }
    subShares[1]!.discard();
    expect(() => subShares[1]!.toMessage()).toThrow();
    expect(ids).toHaveLength(2);
  });
});

interface ZfDkgParticipant {
  identifier: number;
  signing_key: string;
  coefficient: string;
  vss_commitments: string[];
  proof_of_knowledge: string;
  signing_shares: Record<string, string>;
}

describe('DKG against the ZF frost-secp256k1-tr vectors (vectors_dkg.json)', () => {
  const dkg = readVectorJson<{ inputs: Record<string, ZfDkgParticipant | string> }>(
    'zf-frost/frost-secp256k1-tr/vectors_dkg.json',
  );
  const participants = Object.values(dkg.inputs).filter((p): p is ZfDkgParticipant => typeof p === 'object');
  const id = (p: ZfDkgParticipant) => identifierFromIndex(p.identifier);

  it('accepts every vector proof of knowledge and rejects each one altered or moved to another identifier', () => {
    for (const p of participants) {
      expect(dkgProofIsValid(id(p), p.vss_commitments[0], p.proof_of_knowledge)).toBe(true);
      const flipped = p.proof_of_knowledge.slice(0, 64) + addToScalarHex(p.proof_of_knowledge.slice(64), 1n);
      expect(dkgProofIsValid(id(p), p.vss_commitments[0], flipped)).toBe(false);
      expect(dkgProofIsValid(identifierFromIndex(p.identifier + 1), p.vss_commitments[0], p.proof_of_knowledge)).toBe(false);
    }
  });

  it('participant 1, dealing the vector polynomial, checks 2 and 3 and ends with the untweaked vector key', () => {
    const [one, ...others] = participants as [ZfDkgParticipant, ...ZfDkgParticipant[]];
    // noble draws a_0, a_1, then the proof nonce, each from 48 rng bytes (frost-helpers coefficientBytes).
    const { state, message } = startDkg({
      identifier: id(one),
      threshold: 2,
      maxSigners: 3,
      rng: queueRng([coefficientBytes(one.signing_key), coefficientBytes(one.coefficient), new Uint8Array(48).fill(5)]),
    });
    expect(message.commitments).toEqual(one.vss_commitments);
    const round1 = {
      [id(one)]: message,
      ...Object.fromEntries(
        others.map((p) => [id(p), { commitments: p.vss_commitments, proofOfKnowledge: p.proof_of_knowledge }]),
      ),
    };
    const { subShares } = dealDkg(state, round1);
    // In entry i, signing_shares[j] is f_j(i): what i received from j (PROVENANCE.md format notes).
    const inbox: Record<FrostIdentifier, unknown> = { [id(one)]: subShares[0]!.toMessage() };
    for (const p of others) inbox[id(p)] = { recipient: id(one), share: one.signing_shares[String(p.identifier)] };
    const vectors = Object.fromEntries(participants.map((p) => [id(p), p.vss_commitments]));
    const echo = commitmentEcho('dkg', vectors);
    const { group, share } = finishDkg(state, inbox, Object.fromEntries(others.map((p) => [id(p), echo])));
    const C0 = participants.reduce((acc, p) => acc.add(Point.fromHex(p.vss_commitments[0]!)), Point.ZERO);
    expect(group.groupKey).toBe(C0.toHex(true));
    // The vector's own (tweaked) key is different: ours is the untweaked sum.
    expect(group.groupKey).not.toBe(dkg.inputs.verifying_key);
    expect(share.publicShare()).toBe((group as GroupPackage).verifyingShares[id(one)]);
  });
});

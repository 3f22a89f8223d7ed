import { schnorr } from '@noble/curves/secp256k1.js';
import { describe, expect, it } from 'vitest';
import { bytesToHex, hexToBytes } from '../../src/crypto/bytes.js';
import {
  aggregateSignature,
  commit,
  createSigningPackageForVectors,
  dealerKeygen,
  groupXOnlyKey,
  identifierFromIndex,
  parseGroupPackage,
  signShare,
  SigningShare,
  verifySignatureShare,
  type SigningCommitments,
} from '../../src/crypto/frost.js';
import { verifySchnorr } from '../../src/crypto/schnorr.js';
import type { FrostIdentifier } from '../../src/protocol/brands.js';
import { bindingFactors, coefficientBytes, Fn, isOddY, Point, queueRng, signWith } from './frost-helpers.js';
import { readVectorJson } from './vectors.js';

interface ZfVectors {
  config: { MAX_PARTICIPANTS: string; MIN_PARTICIPANTS: string; NUM_PARTICIPANTS: string };
  inputs: {
    participant_list: number[];
    group_secret_key: string;
    verifying_key_key: string;
    message: string;
    share_polynomial_coefficients: string[];
    participant_shares: { identifier: number; participant_share: string }[];
  };
  round_one_outputs: {
    outputs: {
      identifier: number;
      hiding_nonce_randomness: string;
      binding_nonce_randomness: string;
      hiding_nonce_commitment: string;
      binding_nonce_commitment: string;
      binding_factor_input: string;
      binding_factor: string;
    }[];
  };
  round_two_outputs: { outputs: { identifier: number; sig_share: string }[] };
  final_output: { sig: string };
}

const v = readVectorJson<ZfVectors>('zf-frost/frost-secp256k1-tr/vectors.json');
const threshold = Number(v.config.MIN_PARTICIPANTS);
const maxSigners = Number(v.config.MAX_PARTICIPANTS);
const message = hexToBytes(v.inputs.message);

/** Deals the vector's key material through our dealerKeygen: same secret, same polynomial. */
function dealVectorKeys() {
  return dealerKeygen({
    threshold,
    maxSigners,
    secretKey: hexToBytes(v.inputs.group_secret_key),
    rng: queueRng(v.inputs.share_polynomial_coefficients.map(coefficientBytes)),
  });
}

function shareOf(shares: SigningShare[], index: number): SigningShare {
  const share = shares.find((s) => s.identifier === identifierFromIndex(index));
  if (share === undefined) throw new Error(`no share ${index}`);
  return share;
}

/** Round one for the vector's signers, fed the vector's nonce randomness (hiding first, as RFC 9591 §5.1). */
function vectorRoundOne(shares: SigningShare[]) {
  return v.round_one_outputs.outputs.map((out) => {
    const share = shareOf(shares, out.identifier);
    const rng = queueRng([hexToBytes(out.hiding_nonce_randomness), hexToBytes(out.binding_nonce_randomness)]);
    return { out, share, ...commit(share, rng) };
  });
}

describe('ZF frost-secp256k1-tr vectors (FROST-secp256k1-SHA256-TR-v1) through our wrapper', () => {
  it('deals the vector group key and participant shares from its secret and polynomial', () => {
    const { group, shares } = dealVectorKeys();
    expect(group.threshold).toBe(2);
    expect(group.maxSigners).toBe(3);
    expect(group.groupKey).toBe(v.inputs.verifying_key_key);
    expect(groupXOnlyKey(group)).toBe(v.inputs.verifying_key_key.slice(2));
    for (const p of v.inputs.participant_shares) {
      const share = shareOf(shares, p.identifier);
      expect(share.toHex()).toBe(p.participant_share);
      expect(share.publicShare()).toBe(Point.BASE.multiply(BigInt('0x' + p.participant_share)).toHex(true));
      expect(group.verifyingShares[share.identifier]).toBe(share.publicShare());
    }
  });

  it('accepts every vector share through the verifying constructor and rejects a share of another index', () => {
    const { group } = dealVectorKeys();
    for (const p of v.inputs.participant_shares) {
      expect(SigningShare.fromHex(identifierFromIndex(p.identifier), p.participant_share, group).identifier).toBe(
        identifierFromIndex(p.identifier),
      );
    }
    const [first, second] = v.inputs.participant_shares;
    expect(() =>
      SigningShare.fromHex(identifierFromIndex(second!.identifier), first!.participant_share, group),
    ).toThrow(expect.objectContaining({ code: 'SHARE_INVALID' }));
  });

  it('produces the vector round-one commitments from the vector nonce randomness', () => {
    const { shares } = dealVectorKeys();
    for (const r of vectorRoundOne(shares)) {
      expect(r.commitments.identifier).toBe(identifierFromIndex(r.out.identifier));
      expect(r.commitments.hiding).toBe(r.out.hiding_nonce_commitment);
      expect(r.commitments.binding).toBe(r.out.binding_nonce_commitment);
      expect(r.nonces.commitments).toEqual(r.commitments);
    }
  });

  it('matches the vector binding factors with an independent RFC 9591 §4.4 transcription', () => {
    const commitments: SigningCommitments[] = v.round_one_outputs.outputs.map((out) => ({
      identifier: identifierFromIndex(out.identifier),
      hiding: out.hiding_nonce_commitment,
      binding: out.binding_nonce_commitment,
    }));
    const { inputs, factors } = bindingFactors(v.inputs.verifying_key_key, commitments, message);
    for (const out of v.round_one_outputs.outputs) {
      const id = identifierFromIndex(out.identifier);
      expect(bytesToHex(inputs[id] as Uint8Array)).toBe(out.binding_factor_input);
      expect(bytesToHex(Fn.toBytes(factors[id] as bigint))).toBe(out.binding_factor);
    }
  });

  it('produces the vector signature shares, verifies them, and aggregates the vector signature', () => {
    const { group, shares } = dealVectorKeys();
    const round1 = vectorRoundOne(shares);
    const pkg = createSigningPackageForVectors(
      message,
      round1.map((r) => r.commitments),
    );
    const sigShares: Record<FrostIdentifier, string> = {};
    for (const r of round1) {
      const z = signShare(r.share, group, r.nonces, pkg);
      const expected = v.round_two_outputs.outputs.find((o) => o.identifier === r.out.identifier);
      expect(z).toBe(expected?.sig_share);
      expect(r.nonces.isConsumed()).toBe(true);
      expect(verifySignatureShare(group, pkg, r.share.identifier, z)).toBe(true);
      sigShares[r.share.identifier] = z;
    }
    const signature = aggregateSignature(group, pkg, sigShares);
    expect(signature).toBe(v.final_output.sig);
    // Independent verifiers: our BIP-340 wrapper and noble's schnorr directly.
    const xOnly = hexToBytes(groupXOnlyKey(group));
    expect(verifySchnorr(hexToBytes(signature), message, xOnly)).toBe(true);
    expect(schnorr.verify(hexToBytes(signature), message, xOnly)).toBe(true);
  });
});

interface ZfDkgParticipant {
  identifier: number;
  signing_key: string;
  coefficient: string;
  vss_commitments: string[];
  signing_shares: Record<string, string>;
  verifying_share: string;
  signing_share: string;
}

describe('ZF frost-secp256k1-tr DKG vectors (key material only)', () => {
  const dkg = readVectorJson<{ inputs: Record<string, ZfDkgParticipant | string> }>(
    'zf-frost/frost-secp256k1-tr/vectors_dkg.json',
  );
  const verifyingKey = dkg.inputs.verifying_key as string;
  const participants = Object.values(dkg.inputs).filter((p): p is ZfDkgParticipant => typeof p === 'object');
  const h = (hex: string) => BigInt('0x' + hex);

  // Untweaked DKG result: sum of every participant's polynomial.
  const C0 = participants.reduce((acc, p) => acc.add(Point.fromHex(p.vss_commitments[0] as string)), Point.ZERO);
  const C1 = participants.reduce((acc, p) => acc.add(Point.fromHex(p.vss_commitments[1] as string)), Point.ZERO);
  const odd = isOddY(C0);
  const tweak = h(bytesToHex(schnorr.utils.taggedHash('TapTweak', schnorr.utils.pointToBytes(odd ? C0.negate() : C0))));

  it('has an odd-y untweaked key whose Taproot tweak (empty merkle root) is the vector verifying key', () => {
    expect(participants).toHaveLength(3);
    expect(odd).toBe(true);
    expect((odd ? C0.negate() : C0).add(Point.BASE.multiply(tweak)).toHex(true)).toBe(verifyingKey);
  });

  it('sums each signing share from the shares received (signing_shares[j] is what i got from j), then tweaks it', () => {
    for (const p of participants) {
      const x = BigInt(p.identifier);
      let s = Fn.add(h(p.signing_key), Fn.mul(h(p.coefficient), x));
      for (const other of participants) {
        if (other.identifier !== p.identifier) s = Fn.add(s, h(p.signing_shares[String(other.identifier)] as string));
      }
      expect(Point.BASE.multiply(s).equals(C0.add(C1.multiply(x)))).toBe(true);
      const tweaked = Fn.add(odd ? Fn.neg(s) : s, tweak);
      expect(bytesToHex(Fn.toBytes(tweaked))).toBe(p.signing_share);
      expect(Point.BASE.multiply(tweaked).toHex(true)).toBe(p.verifying_share);
    }
  });

  it('loads the tweaked DKG output as a GroupPackage whose shares verify and sign under the vector key', () => {
    const negate = (p: InstanceType<typeof Point>) => (odd ? p.negate() : p);
    const group = parseGroupPackage({
      threshold: 2,
      maxSigners: 3,
      groupKey: verifyingKey,
      commitments: [negate(C0).add(Point.BASE.multiply(tweak)).toHex(true), negate(C1).toHex(true)],
      verifyingShares: Object.fromEntries(participants.map((p) => [identifierFromIndex(p.identifier), p.verifying_share])),
    });
    const shares = participants.map((p) => SigningShare.fromHex(identifierFromIndex(p.identifier), p.signing_share, group));
    const eventId = hexToBytes('11'.repeat(32));
    const signature = signWith(group, [shares[0]!, shares[2]!], eventId);
    expect(schnorr.verify(hexToBytes(signature), eventId, hexToBytes(verifyingKey.slice(2)))).toBe(true);
  });
});

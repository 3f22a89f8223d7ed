import { schnorr, schnorr_FROST } from '@noble/curves/secp256k1.js';
import { describe, expect, it } from 'vitest';
import { CheaterError, FrostbunkerError } from '../../src/errors.js';
import { bytesToHex, hexToBytes } from '../../src/crypto/bytes.js';
import {
  aggregateSignature,
  commit,
  createSigningPackage,
  dealerKeygen,
  groupPackageSchema,
  groupXOnlyKey,
  identifierFromIndex,
  parseGroupPackage,
  signShare,
  SigningShare,
  verifySignatureShare,
  type GroupPackage,
} from '../../src/crypto/frost.js';
import { groupKey33Schema, type FrostIdentifier } from '../../src/protocol/brands.js';
import {
  Fn,
  groupCommitment,
  isOddY,
  negateScalarHex,
  Point,
  runRounds,
  seededRng,
  signWith,
} from './frost-helpers.js';

const eventId = hexToBytes('ab'.repeat(32));
const dealt = dealerKeygen({ threshold: 2, maxSigners: 3, rng: seededRng(1) });
const { group } = dealt;
const [alice, bob, carol] = dealt.shares as [SigningShare, SigningShare, SigningShare];
const GROUP_ORDER_HEX = Fn.ORDER.toString(16);

function expectCode(fn: () => unknown, code: string): void {
  expect(fn).toThrow(expect.objectContaining({ code }));
}

function culpritsOf(fn: () => unknown): readonly string[] {
  try {
    fn();
  } catch (error) {
    if (error instanceof CheaterError) return error.culprits;
    throw error;
  }
  throw new Error('expected a CheaterError');
}

describe('signature shares that must fail verification (BIP-445 verify_fail style, from our own sessions)', () => {
  it('rejects a negated signature share even though its point has the same x as the honest one', () => {
    const { pkg, shares } = runRounds(group, [alice, bob], eventId);
    const honest = shares[alice.identifier] as string;
    const negated = negateScalarHex(honest);
    // An x-only comparison (bifrost's verify_partial_sig) cannot tell these apart:
    const honestPoint = Point.BASE.multiply(BigInt('0x' + honest));
    const negatedPoint = Point.BASE.multiply(BigInt('0x' + negated));
    expect(negatedPoint.toAffine().x).toBe(honestPoint.toAffine().x);
    expect(verifySignatureShare(group, pkg, alice.identifier, honest)).toBe(true);
    expect(verifySignatureShare(group, pkg, alice.identifier, negated)).toBe(false);
    expect(culpritsOf(() => aggregateSignature(group, pkg, { ...shares, [alice.identifier]: negated }))).toEqual([
      alice.identifier,
    ]);
  });

  it('rejects out-of-range signature shares (n, n + 1, 2^256 - 1) with false, never an exception, and blames the sender', () => {
    const { pkg, shares } = runRounds(group, [alice, bob], eventId);
    const outOfRange = [GROUP_ORDER_HEX, (Fn.ORDER + 1n).toString(16), 'ff'.repeat(32)];
    for (const z of outOfRange) {
      expect(verifySignatureShare(group, pkg, bob.identifier, z)).toBe(false);
      expect(culpritsOf(() => aggregateSignature(group, pkg, { ...shares, [bob.identifier]: z }))).toEqual([
        bob.identifier,
      ]);
    }
    for (const malformed of ['', 'zz', '00'.repeat(31), 'AB'.repeat(32), 42 as unknown as string]) {
      expect(verifySignatureShare(group, pkg, bob.identifier, malformed)).toBe(false);
      expect(culpritsOf(() => aggregateSignature(group, pkg, { ...shares, [bob.identifier]: malformed }))).toEqual([
        bob.identifier,
      ]);
    }
  });

  it('rejects a valid signature share presented as another signer’s, and names exactly the misattributed ones', () => {
    const { pkg, shares } = runRounds(group, [alice, bob], eventId);
    const za = shares[alice.identifier] as string;
    const zb = shares[bob.identifier] as string;
    expect(verifySignatureShare(group, pkg, bob.identifier, za)).toBe(false);
    expect(culpritsOf(() => aggregateSignature(group, pkg, { [alice.identifier]: za, [bob.identifier]: za }))).toEqual([
      bob.identifier,
    ]);
    // Swapping two honest shares leaves their sum, hence the signature, valid: aggregate-then-verify
    // returns it (nothing invalid is ever returned), although each share alone fails its check.
    const swapped = { [alice.identifier]: zb, [bob.identifier]: za };
    expect(verifySignatureShare(group, pkg, alice.identifier, zb)).toBe(false);
    const signature = aggregateSignature(group, pkg, swapped);
    expect(schnorr.verify(hexToBytes(signature), eventId, hexToBytes(groupXOnlyKey(group)))).toBe(true);
  });

  it('rejects a signature share for an identifier outside the package or the group', () => {
    const { pkg, shares } = runRounds(group, [alice, bob], eventId);
    expect(verifySignatureShare(group, pkg, carol.identifier, shares[alice.identifier] as string)).toBe(false);
    expect(verifySignatureShare(group, pkg, identifierFromIndex(9), shares[alice.identifier] as string)).toBe(false);
    expect(verifySignatureShare(group, pkg, 'nope' as FrostIdentifier, shares[alice.identifier] as string)).toBe(false);
  });

  it('aggregates and returns a signature only when every share is honest', () => {
    const { pkg, shares } = runRounds(group, [alice, carol], eventId);
    const signature = aggregateSignature(group, pkg, shares);
    expect(schnorr.verify(hexToBytes(signature), eventId, hexToBytes(groupXOnlyKey(group)))).toBe(true);
  });
});

describe('nonce misuse', () => {
  it('refuses a second sign with the same nonces', () => {
    const a = commit(alice);
    const b = commit(bob);
    const pkg = createSigningPackage(eventId, [a.commitments, b.commitments]);
    expect(a.nonces.isConsumed()).toBe(false);
    signShare(alice, group, a.nonces, pkg);
    expect(a.nonces.isConsumed()).toBe(true);
    expectCode(() => signShare(alice, group, a.nonces, pkg), 'NONCE_REUSED');
    const other = createSigningPackage(hexToBytes('cd'.repeat(32)), [a.commitments, b.commitments]);
    expectCode(() => signShare(alice, group, a.nonces, other), 'NONCE_REUSED');
  });

  it('refuses a package whose commitment for the signer differs from its nonces, and burns the nonces', () => {
    const a = commit(alice);
    const fresh = commit(alice);
    const b = commit(bob);
    const pkg = createSigningPackage(eventId, [fresh.commitments, b.commitments]);
    expectCode(() => signShare(alice, group, a.nonces, pkg), 'PROTOCOL_INVALID');
    // Any signShare call spends the nonces, so a coordinator cannot probe with them.
    expect(a.nonces.isConsumed()).toBe(true);
    expectCode(() => signShare(alice, group, a.nonces, pkg), 'NONCE_REUSED');
    // The swapped-in hiding/binding of a third party are refused the same way.
    const c = commit(alice);
    const mixed = createSigningPackage(eventId, [{ ...c.commitments, binding: b.commitments.binding }, b.commitments]);
    expectCode(() => signShare(alice, group, c.nonces, mixed), 'PROTOCOL_INVALID');
  });

  it('refuses a package without the signer, and nonces made by another share', () => {
    const a = commit(alice);
    const b = commit(bob);
    const c = commit(carol);
    expectCode(() => signShare(alice, group, a.nonces, createSigningPackage(eventId, [b.commitments, c.commitments])), 'PROTOCOL_INVALID');
    const b2 = commit(bob);
    expectCode(() => signShare(alice, group, b2.nonces, createSigningPackage(eventId, [b2.commitments, c.commitments])), 'PROTOCOL_INVALID');
  });

  it('refuses to build a package with duplicate identifiers, a bad point or a message that is not 32 bytes', () => {
    const a = commit(alice);
    const b = commit(bob);
    expectCode(() => createSigningPackage(eventId, [a.commitments, a.commitments]), 'PROTOCOL_INVALID');
    expectCode(() => createSigningPackage(eventId, [a.commitments, { ...b.commitments, hiding: '02' + '00'.repeat(32) }]), 'PROTOCOL_INVALID');
    // x ≥ p, an uncompressed prefix, and a valid x-coordinate with the 0x04 prefix: all refused.
    expectCode(() => createSigningPackage(eventId, [a.commitments, { ...b.commitments, binding: '03' + 'ff'.repeat(32) }]), 'PROTOCOL_INVALID');
    expectCode(() => createSigningPackage(eventId, [a.commitments, { ...b.commitments, binding: '04' + b.commitments.binding.slice(2) }]), 'PROTOCOL_INVALID');
    expectCode(() => createSigningPackage(eventId.subarray(1), [a.commitments, b.commitments]), 'PROTOCOL_INVALID');
    expectCode(() => createSigningPackage(eventId, []), 'PROTOCOL_INVALID');
  });

  it('rejects an rng whose output has the wrong length, naming it', () => {
    expect(() => commit(alice, () => new Uint8Array(31))).toThrow(/rng\(\) output/);
  });
});

describe('threshold misuse', () => {
  const big = dealerKeygen({ threshold: 3, maxSigners: 5, rng: seededRng(2) });
  const [s1, s2, s3] = big.shares as [SigningShare, SigningShare, SigningShare];

  it('refuses to sign or aggregate a package with fewer than threshold signers', () => {
    const a = commit(s1);
    const b = commit(s2);
    const pkg = createSigningPackage(eventId, [a.commitments, b.commitments]);
    expectCode(() => signShare(s1, big.group, a.nonces, pkg), 'PROTOCOL_INVALID');
    expectCode(() => aggregateSignature(big.group, pkg, {}), 'PROTOCOL_INVALID');
  });

  it('refuses to aggregate when a signer of the package sent no share', () => {
    const { pkg, shares } = runRounds(big.group, [s1, s2, s3], eventId);
    const { [s3.identifier]: _missing, ...partial } = shares;
    expectCode(() => aggregateSignature(big.group, pkg, partial), 'PROTOCOL_INVALID');
    expectCode(() => aggregateSignature(big.group, pkg, { ...shares, [identifierFromIndex(4)]: '00'.repeat(32) }), 'PROTOCOL_INVALID');
  });

  it('cannot produce a valid signature from k−1 shares even when the threshold is lied about', () => {
    // Bypass our checks with noble directly: tell it the threshold is 2 and sign with two shares.
    const pub = {
      signers: { min: 2, max: 5 },
      commitments: big.group.commitments.map((c) => hexToBytes(c)),
      verifyingShares: Object.fromEntries(Object.entries(big.group.verifyingShares).map(([id, p]) => [id, hexToBytes(p)])),
    };
    const signers = [s1, s2].map((s) => ({ identifier: s.identifier, signingShare: hexToBytes(s.toHex()) }));
    const round1 = signers.map((s) => schnorr_FROST.commit(s));
    const list = round1.map((r) => r.commitments);
    const z = signers.map((s, i) => schnorr_FROST.signShare(s, pub, round1[i]!.nonces, list, eventId));
    // Assemble the would-be signature ourselves: x(R) || Σ z_i.
    const R = groupCommitment(
      big.group.groupKey,
      list.map((c) => ({ identifier: c.identifier as FrostIdentifier, hiding: bytesToHex(c.hiding), binding: bytesToHex(c.binding) })),
      eventId,
    );
    const sum = z.reduce((acc, zi) => Fn.add(acc, BigInt('0x' + bytesToHex(zi))), Fn.ZERO);
    const forged = new Uint8Array([...schnorr.utils.pointToBytes(R), ...Fn.toBytes(sum)]);
    expect(schnorr.verify(forged, eventId, hexToBytes(groupXOnlyKey(big.group)))).toBe(false);
    expect(() => schnorr_FROST.aggregate(pub, list, eventId, Object.fromEntries(signers.map((s, i) => [s.identifier, z[i]!])))).toThrow();
    // And the lie cannot enter through our door: a group package's threshold is pinned by its commitments.
    expectCode(() => parseGroupPackage({ ...big.group, threshold: 2 }), 'PROTOCOL_INVALID');
    expectCode(() => parseGroupPackage({ ...big.group, threshold: 2, commitments: big.group.commitments.slice(0, 2) }), 'SHARE_INVALID');
  });
});

describe('key material misuse', () => {
  it('rejects a tampered share in the verifying constructor', () => {
    const hex = alice.toHex();
    const flipped = hex.slice(0, -1) + ((parseInt(hex.slice(-1), 16) ^ 1).toString(16));
    expectCode(() => SigningShare.fromHex(alice.identifier, flipped, group), 'SHARE_INVALID');
    expectCode(() => SigningShare.fromHex(bob.identifier, hex, group), 'SHARE_INVALID');
    expectCode(() => SigningShare.fromHex(identifierFromIndex(4), hex, group), 'SHARE_INVALID');
    expectCode(() => SigningShare.fromHex(alice.identifier, hex.toUpperCase(), group), 'SHARE_INVALID');
    expectCode(() => SigningShare.fromHex(alice.identifier, '00'.repeat(32), group), 'SHARE_INVALID');
    expectCode(() => SigningShare.fromHex(alice.identifier, GROUP_ORDER_HEX, group), 'SHARE_INVALID');
    expect(SigningShare.fromHex(alice.identifier, hex, group).publicShare()).toBe(alice.publicShare());
  });

  it('refuses to sign with a share of another group', () => {
    const other = dealerKeygen({ threshold: 2, maxSigners: 3, rng: seededRng(3) });
    const a = commit(alice);
    const b = commit(bob);
    const pkg = createSigningPackage(eventId, [a.commitments, b.commitments]);
    expectCode(() => signShare(alice, other.group, a.nonces, pkg), 'SHARE_INVALID');
  });

  it('rejects a group package with a tampered verifying share, group key or commitment', () => {
    const ids = Object.keys(group.verifyingShares) as FrostIdentifier[];
    const swapped = { ...group.verifyingShares, [ids[0]!]: group.verifyingShares[ids[1]!]! };
    expectCode(() => parseGroupPackage({ ...group, verifyingShares: swapped }), 'SHARE_INVALID');
    expectCode(() => parseGroupPackage({ ...group, groupKey: group.verifyingShares[ids[0]!] }), 'PROTOCOL_INVALID');
    const commitments = [group.commitments[0]!, group.verifyingShares[ids[0]!]!];
    expectCode(() => parseGroupPackage({ ...group, commitments }), 'SHARE_INVALID');
    expectCode(() => parseGroupPackage({ ...group, extra: 1 }), 'PROTOCOL_INVALID');
    expectCode(() => parseGroupPackage({ ...group, commitments: [group.commitments[0]!, '02' + 'ff'.repeat(32)] }), 'PROTOCOL_INVALID');
  });

  it('rejects an x-only key where the 33-byte group key is expected', () => {
    const xOnly = groupXOnlyKey(group);
    expect(groupKey33Schema.safeParse(xOnly).success).toBe(false);
    expect(groupPackageSchema.safeParse({ ...group, groupKey: xOnly }).success).toBe(false);
    expectCode(() => parseGroupPackage({ ...group, groupKey: xOnly }), 'PROTOCOL_INVALID');
    expect(groupPackageSchema.safeParse(group).success).toBe(true);
  });

  it('refuses 1-of-n and out-of-range signer counts in the dealer, naming the field', () => {
    expect(() => dealerKeygen({ threshold: 1, maxSigners: 3 })).toThrow(/opts\.threshold/);
    expect(() => dealerKeygen({ threshold: 4, maxSigners: 3 })).toThrow(/opts\.threshold/);
    expect(() => dealerKeygen({ threshold: 2, maxSigners: 256 })).toThrow(/opts\.maxSigners/);
    expect(() => dealerKeygen({ threshold: 2, maxSigners: 3, secretKey: new Uint8Array(32) })).toThrow(/opts\.secretKey/);
    expect(() => dealerKeygen({ threshold: 2, maxSigners: 3, secretKey: new Uint8Array(31) })).toThrow(/opts\.secretKey/);
  });

  it('keeps identifiers and indices in step', () => {
    expect(identifierFromIndex(1)).toBe('00'.repeat(31) + '01');
    expect(identifierFromIndex(258)).toBe('00'.repeat(30) + '0102');
    for (const i of [1, 2, 7, 255, 0xffff_ffff]) {
      expect(Number(BigInt('0x' + identifierFromIndex(i)))).toBe(i);
    }
    expect(() => identifierFromIndex(0)).toThrow(/index/);
    expect(() => identifierFromIndex(1.5)).toThrow(/index/);
  });
});

describe('construction and re-validation', () => {
  it('cannot construct a SigningShare or SigningNonces outside the verifying paths', () => {
    const Share = SigningShare as unknown as new (...args: unknown[]) => unknown;
    expect(() => new Share(Symbol('frost.internal'), alice.identifier, new Uint8Array(32), '')).toThrow(/SigningShare/);
    const { nonces } = commit(alice);
    const Nonces = nonces.constructor as new (...args: unknown[]) => unknown;
    expect(() => new Nonces(Symbol('frost.internal'), {}, nonces.commitments)).toThrow(/SigningNonces/);
  });

  it('re-validates plain-object copies of a group and a package instead of trusting them', () => {
    const a = commit(alice);
    const b = commit(bob);
    // Unsorted, unfrozen literals, as they would arrive from JSON.
    const literalPkg = { message: Uint8Array.from(eventId), commitments: [b.commitments, a.commitments] };
    const literalGroup = JSON.parse(JSON.stringify(group)) as GroupPackage;
    const za = signShare(alice, literalGroup, a.nonces, literalPkg);
    const zb = signShare(bob, literalGroup, b.nonces, literalPkg);
    const signature = aggregateSignature(literalGroup, literalPkg, { [alice.identifier]: za, [bob.identifier]: zb });
    expect(schnorr.verify(hexToBytes(signature), eventId, hexToBytes(groupXOnlyKey(group)))).toBe(true);
    const shortMessage = { ...literalPkg, message: eventId.subarray(0, 31) };
    expectCode(() => verifySignatureShare(group, shortMessage, alice.identifier, za), 'PROTOCOL_INVALID');
    const tampered = { ...literalGroup, verifyingShares: { ...literalGroup.verifyingShares, [alice.identifier]: bob.publicShare() } };
    expectCode(() => verifySignatureShare(tampered, literalPkg, alice.identifier, za), 'SHARE_INVALID');
  });
});

describe('parity', () => {
  /** First seed (from 1) whose dealt group key has the wanted parity. */
  function groupWithParity(oddY: boolean): GroupPackage & { shares: SigningShare[] } {
    for (let seed = 100; seed < 200; seed++) {
      const d = dealerKeygen({ threshold: 2, maxSigners: 3, rng: seededRng(seed) });
      if (isOddY(d.group.groupKey) === oddY) return { ...d.group, shares: d.shares };
    }
    throw new Error('no seed found');
  }

  it('signs under both odd-y and even-y group keys, with both odd and even group commitments R', () => {
    for (const oddQ of [true, false]) {
      const { shares, ...g } = groupWithParity(oddQ);
      const groupPkg = parseGroupPackage(g);
      expect(groupPkg.groupKey.startsWith(oddQ ? '03' : '02')).toBe(true);
      const seen = new Set<boolean>();
      for (let seed = 0; seed < 40 && seen.size < 2; seed++) {
        const { pkg, shares: sigShares } = runRounds(groupPkg, [shares[0]!, shares[2]!], eventId, seededRng(1000 + seed));
        const R = groupCommitment(groupPkg.groupKey, pkg.commitments, eventId);
        seen.add(isOddY(R));
        const signature = aggregateSignature(groupPkg, pkg, sigShares);
        // BIP-340 encodes only x(R); the signature is valid whatever R's parity was.
        expect(signature.slice(0, 64)).toBe(bytesToHex(schnorr.utils.pointToBytes(R)));
        expect(schnorr.verify(hexToBytes(signature), eventId, hexToBytes(groupXOnlyKey(groupPkg)))).toBe(true);
      }
      expect([...seen].sort()).toEqual([false, true]);
    }
  });

  it('keeps the npub when splitting an existing nsec whose public key is odd-y', () => {
    let secretKey: Uint8Array | undefined;
    for (let seed = 0; secretKey === undefined; seed++) {
      const candidate = schnorr.utils.randomSecretKey(seededRng(seed)(48));
      if (isOddY(Point.BASE.multiply(BigInt('0x' + bytesToHex(candidate))))) secretKey = candidate;
    }
    const split = dealerKeygen({ threshold: 2, maxSigners: 3, secretKey, rng: seededRng(5) });
    expect(split.group.groupKey.startsWith('03')).toBe(true);
    expect(groupXOnlyKey(split.group)).toBe(bytesToHex(schnorr.getPublicKey(secretKey)));
    const signature = signWith(split.group, [split.shares[1]!, split.shares[2]!], eventId);
    expect(schnorr.verify(hexToBytes(signature), eventId, schnorr.getPublicKey(secretKey))).toBe(true);
  });
});

describe('errors', () => {
  it('reports cheaters as a FrostbunkerError with code CHEATER_DETECTED', () => {
    const { pkg, shares } = runRounds(group, [alice, bob], eventId);
    try {
      aggregateSignature(group, pkg, { ...shares, [alice.identifier]: negateScalarHex(shares[alice.identifier] as string) });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(FrostbunkerError);
      expect(error).toMatchObject({ code: 'CHEATER_DETECTED', culprits: [alice.identifier] });
    }
  });
});

import { schnorr } from '@noble/curves/secp256k1.js';
import { encode_group_package, encode_share_package } from '@frostr/bifrost/encoder';
import { generate_dealer_package } from '@frostr/bifrost/lib';
import { to_bech32m } from '@frostr/bifrost/util';
import { verifyEvent } from 'nostr-tools/pure';
import { describe, expect, it } from 'vitest';
import { bytesToHex, hexToBytes } from '../../src/crypto/bytes.js';
import { computeEventId } from '../../src/crypto/event-id.js';
import { dealerKeygen, groupXOnlyKey, indexOfIdentifier, type GroupPackage, type SigningShare } from '../../src/crypto/frost.js';
import { importFrostrGroup, importFrostrShare } from '../../src/crypto/frostr-credentials.js';
import { isOddY, Point, seededRng, signWith } from './frost-helpers.js';

interface BifrostDealerPackage {
  group: { group_pk: string; threshold: number; members: { idx: number; pubkey: string }[] };
  shares: { idx: number; seckey: string }[];
}

function importAll(pkg: BifrostDealerPackage): { group: GroupPackage; shares: SigningShare[] } {
  const group = importFrostrGroup(encode_group_package(pkg.group));
  const shares = pkg.shares.map((s) => importFrostrShare(encode_share_package(s), group));
  return { group, shares };
}

/** Bifrost's dealer with fixed coefficients (its `secrets` argument), searching for the wanted parity. */
function bifrostGroupWithParity(
  threshold: number,
  n: number,
  oddY: boolean,
): { pkg: BifrostDealerPackage; coefficients: string[] } {
  for (let seed = 0; seed < 100; seed++) {
    const rng = seededRng(7000 + seed);
    const coefficients = Array.from({ length: threshold }, () => bytesToHex(rng(32)));
    const pkg = generate_dealer_package(threshold, n, coefficients) as BifrostDealerPackage;
    if (isOddY(pkg.group.group_pk) === oddY) return { pkg, coefficients };
  }
  throw new Error('no seed found');
}

function signNostrEvent(group: GroupPackage, signers: SigningShare[]) {
  const unsigned = { pubkey: groupXOnlyKey(group), created_at: 1_700_000_000, kind: 1, tags: [['t', 'frostr']], content: 'imported' };
  const id = computeEventId(unsigned);
  return { ...unsigned, id, sig: signWith(group, signers, hexToBytes(id)) };
}

describe('FROSTR credential import', () => {
  it('imports a group and shares made by bifrost’s own dealer and signs with our FROST', () => {
    const pkg = generate_dealer_package(2, 3) as BifrostDealerPackage;
    const { group, shares } = importAll(pkg);
    expect(group.threshold).toBe(2);
    expect(group.maxSigners).toBe(3);
    expect(group.groupKey).toBe(pkg.group.group_pk);
    expect(shares.map((s) => indexOfIdentifier(s.identifier))).toEqual([1, 2, 3]);
    const event = signNostrEvent(group, [shares[0]!, shares[2]!]);
    expect(event.pubkey).toBe(pkg.group.group_pk.slice(2));
    expect(verifyEvent(event)).toBe(true);
    expect(schnorr.verify(hexToBytes(event.sig), hexToBytes(event.id), hexToBytes(event.pubkey))).toBe(true);
  });

  it.each([true, false])('signs under a bifrost 3-of-5 group key with odd y = %s', (oddY) => {
    const { pkg, coefficients } = bifrostGroupWithParity(3, 5, oddY);
    const { group, shares } = importAll(pkg);
    expect(isOddY(group.groupKey)).toBe(oddY);
    // The VSS commitments rebuilt from the member keys are bifrost's coefficients times G.
    expect(group.commitments).toEqual(
      coefficients.map((c) => Point.BASE.multiply(BigInt('0x' + c) % Point.Fn.ORDER).toHex(true)),
    );
    const event = signNostrEvent(group, [shares[4]!, shares[1]!, shares[3]!]);
    expect(verifyEvent(event)).toBe(true);
  });

  it('round-trips our own dealer output through bifrost’s encoders unchanged', () => {
    const ours = dealerKeygen({ threshold: 3, maxSigners: 4, rng: seededRng(11) });
    const members = Object.entries(ours.group.verifyingShares).map(([id, pubkey]) => ({
      idx: indexOfIdentifier(id as never),
      pubkey,
    }));
    const group = importFrostrGroup(encode_group_package({ group_pk: ours.group.groupKey, threshold: 3, members }));
    expect(group).toEqual(ours.group);
    for (const share of ours.shares) {
      const bfshare = encode_share_package({ idx: indexOfIdentifier(share.identifier), seckey: share.toHex() });
      const imported = importFrostrShare(bfshare, group);
      expect(imported.identifier).toBe(share.identifier);
      expect(imported.toHex()).toBe(share.toHex());
    }
  });

  it('rejects a group whose member key or group key was tampered with', () => {
    const pkg = generate_dealer_package(2, 3) as BifrostDealerPackage;
    const other = generate_dealer_package(2, 3) as BifrostDealerPackage;
    const swappedMember = {
      ...pkg.group,
      members: pkg.group.members.map((m, i) => (i === 2 ? { ...m, pubkey: other.group.members[2]!.pubkey } : m)),
    };
    expect(() => importFrostrGroup(encode_group_package(swappedMember))).toThrow(expect.objectContaining({ code: 'SHARE_INVALID' }));
    const swappedKey = { ...pkg.group, group_pk: other.group.group_pk };
    expect(() => importFrostrGroup(encode_group_package(swappedKey))).toThrow(expect.objectContaining({ code: 'SHARE_INVALID' }));
  });

  it('rejects a share of another group without quoting the secret', () => {
    const pkg = generate_dealer_package(2, 3) as BifrostDealerPackage;
    const other = generate_dealer_package(2, 3) as BifrostDealerPackage;
    const group = importFrostrGroup(encode_group_package(pkg.group));
    const foreign = encode_share_package(other.shares[0]!);
    expect(() => importFrostrShare(foreign, group)).toThrow(expect.objectContaining({ code: 'SHARE_INVALID' }));
    // bifrost's own bech32m error quotes the whole input; ours must not.
    const corrupted = foreign.slice(0, -1) + (foreign.endsWith('q') ? 'p' : 'q');
    try {
      importFrostrShare(corrupted, group);
      expect.unreachable();
    } catch (error) {
      expect(error).toMatchObject({ code: 'SHARE_INVALID' });
      expect(String((error as Error).message)).not.toContain(corrupted.slice(8, 40));
      expect((error as Error).cause).toBeUndefined();
    }
  });

  it('refuses malformed strings, wrong prefixes and 1-of-n groups', () => {
    const pkg = generate_dealer_package(2, 3) as BifrostDealerPackage;
    const bfgroup = encode_group_package(pkg.group);
    const bfshare = encode_share_package(pkg.shares[0]!);
    const group = importFrostrGroup(bfgroup);
    expect(() => importFrostrGroup(bfshare)).toThrow(/bfgroup/);
    expect(() => importFrostrGroup('bfgroup1qqqq')).toThrow(expect.objectContaining({ code: 'PROTOCOL_INVALID' }));
    expect(() => importFrostrShare(bfgroup, group)).toThrow(/bfshare/);
    expect(() => importFrostrShare(42 as unknown as string, group)).toThrow(/bfshare/);
    const single = generate_dealer_package(1, 3) as BifrostDealerPackage;
    expect(() => importFrostrGroup(encode_group_package(single.group))).toThrow(/threshold 1 of 3/);
    // Sanity: the group key bifrost published is the dealt secret's public key.
    expect(Point.fromHex(pkg.group.group_pk).equals(Point.fromHex(group.groupKey))).toBe(true);
  });

  it('refuses a FROSTR 1.x share package (with nonce seeds) with a clear reason, though bifrost 2.x would accept it', () => {
    const { group, shares } = dealerKeygen({ threshold: 2, maxSigners: 3 });
    const share = shares[0]!;
    // 1.x layout: index (4 bytes) + share (32) + binder_sn (32) + hidden_sn (32).
    const legacy = new Uint8Array(100);
    new DataView(legacy.buffer).setUint32(0, indexOfIdentifier(share.identifier));
    legacy.set(hexToBytes(share.toHex()), 4);
    legacy.set(new Uint8Array(64).fill(7), 36);
    const bfshare = to_bech32m(legacy, 'bfshare') as string;
    expect(() => importFrostrShare(bfshare, group)).toThrow(/FROSTR 1\.x share package.*reuse nonces/);
    try {
      importFrostrShare(bfshare, group);
    } catch (error) {
      expect(String((error as Error).message)).not.toContain(share.toHex());
    }
  });
});

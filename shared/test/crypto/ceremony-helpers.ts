/**
 * Test helpers for the key ceremonies: an in-memory "coordinator" that routes every message by
 * authenticated sender, a signing check with two independent BIP-340 verifiers, and interpolation
 * in the exponent (an independent look at how many shares determine the key).
 */
import { schnorr } from '@noble/curves/secp256k1.js';
import { verifyEvent, type Event } from 'nostr-tools/pure';
import { expect } from 'vitest';
import { hexToBytes } from '../../src/crypto/bytes.js';
import type { CommitmentEcho, SubShare, SubShareMessage } from '../../src/crypto/ceremony.js';
import { computeEventId, type UnsignedEvent } from '../../src/crypto/event-id.js';
import { groupXOnlyKey, type GroupPackage, type SigningShare } from '../../src/crypto/frost.js';
import { CheaterError } from '../../src/errors.js';
import type { FrostIdentifier } from '../../src/protocol/brands.js';
import { Fn, Point, seededRng, signWith } from './frost-helpers.js';

export type Inboxes = Record<FrostIdentifier, Record<FrostIdentifier, SubShareMessage>>;

/** Routes every dealt sub-share to its recipient as its wire message, keyed by dealer. */
export function deliver(dealt: readonly (readonly SubShare[])[]): Inboxes {
  const inboxes: Inboxes = {};
  for (const subShares of dealt) {
    for (const s of subShares) (inboxes[s.recipient] ??= {})[s.dealer] = s.toMessage();
  }
  return inboxes;
}

/** Everyone's echo except `me`'s, keyed by sender: what the echo round hands each participant. */
export function othersEchoes(
  me: FrostIdentifier,
  all: readonly { identifier: FrostIdentifier; echo: CommitmentEcho }[],
): Record<FrostIdentifier, CommitmentEcho> {
  return Object.fromEntries(all.filter((p) => p.identifier !== me).map((p) => [p.identifier, p.echo]));
}

/** Record keyed by identifier from parallel arrays. */
export function byId<T>(ids: readonly FrostIdentifier[], values: readonly T[]): Record<FrostIdentifier, T> {
  return Object.fromEntries(ids.map((id, i) => [id, values[i] as T]));
}

/** A copy of `inbox` in which `dealer`'s sub-share is replaced by `edit(share hex)`. */
export function editShare<T extends Record<string, SubShareMessage>>(inbox: T, dealer: string, edit: (hex: string) => string): T {
  const message = inbox[dealer] as SubShareMessage;
  return { ...inbox, [dealer]: { ...message, share: edit(message.share) } };
}

/** 32-byte hex of (scalar + delta) mod n, for tampered sub-shares. */
export function addToScalarHex(hex: string, delta: bigint): string {
  return hexOf(Fn.add(BigInt('0x' + hex), Fn.create(delta)));
}

export function hexOf(scalar: bigint): string {
  return Fn.toBytes(Fn.create(scalar)).reduce((s, b) => s + b.toString(16).padStart(2, '0'), '');
}

let eventCounter = 0;

/**
 * Signs a fresh Nostr event with `signers` through our FROST wrapper and checks the signature with
 * nostr-tools verifyEvent and noble schnorr.verify.
 */
export function expectSigns(group: GroupPackage, signers: readonly SigningShare[], seed = 1): void {
  const unsigned: UnsignedEvent = {
    pubkey: groupXOnlyKey(group),
    created_at: 1_700_000_000 + eventCounter++,
    kind: 1,
    tags: [],
    content: `ceremony test ${seed}`,
  };
  const id = computeEventId(unsigned);
  const sig = signWith(group, [...signers], hexToBytes(id), seededRng(seed));
  const event: Event = { ...unsigned, id, sig };
  expect(verifyEvent(event)).toBe(true);
  expect(schnorr.verify(hexToBytes(sig), hexToBytes(id), hexToBytes(unsigned.pubkey))).toBe(true);
}

/** Σ λ_i·Y_i at x = 0 over the given verifying shares (independent of src/: plain noble maths). */
export function interpolateInExponent(group: GroupPackage, ids: readonly FrostIdentifier[]): InstanceType<typeof Point> {
  const xs = ids.map((id) => BigInt('0x' + id));
  return ids.reduce((acc, id, i) => {
    const xi = xs[i] as bigint;
    let lambda = Fn.ONE;
    for (const xj of xs) if (xj !== xi) lambda = Fn.mul(lambda, Fn.div(xj, Fn.sub(xj, xi)));
    return acc.add(Point.fromHex(group.verifyingShares[id] as string).multiply(lambda));
  }, Point.ZERO);
}

/** Every size-`k` subset of `items`, in order. */
export function subsets<T>(items: readonly T[], k: number): T[][] {
  if (k === 0) return [[]];
  if (items.length < k) return [];
  const [first, ...rest] = items as [T, ...T[]];
  return [...subsets(rest, k - 1).map((s) => [first, ...s]), ...subsets(rest, k)];
}

/** At most `max` evenly spaced k-subsets (for 3-of-5: abc, acd, bcd, cde — every member signs). */
export function someSubsets<T>(items: readonly T[], k: number, max = 4): T[][] {
  const all = subsets(items, k);
  const step = Math.max(1, Math.ceil((all.length - 1) / (max - 1)));
  return all.filter((_, i) => i % step === 0).slice(0, max);
}

/** Runs `fn` and returns the thrown error (fails the test if nothing is thrown). */
export function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error');
}

/** The culprits of the CheaterError `fn` throws. */
export function culpritsOf(fn: () => unknown): readonly string[] {
  const error = thrown(fn);
  if (error instanceof CheaterError) return error.culprits;
  throw error;
}

/**
 * A FROST group's public key material (GroupPackage): its strict schema, and the parser that makes
 * untrusted material usable (every point decodes, verifying shares match the VSS commitments).
 * No FROST-library code here; frost.ts re-exports this surface.
 */
import { z } from 'zod';
import { FrostbunkerError, ProtocolError } from '../errors.js';
import {
  frostIdentifierSchema,
  groupKey33Schema,
  hexOfBytes,
  type FrostIdentifier,
  type GroupKey33,
  type XOnlyPubkey,
} from '../protocol/brands.js';
import { invalidInput } from './bytes.js';
import { decodePoint, evaluateVss, groupOrder } from './vss.js';

// noble (like ZF frost) refuses 1-of-n: RFC 9591 allows MIN_PARTICIPANTS = 1, but that is plain
// single-key signing and needs none of this machinery.
export const MIN_THRESHOLD = 2;
/** Upper bound on group size: keeps every package small enough for one relay message. */
export const MAX_SIGNERS = 255;
const HEX32 = /^[0-9a-f]{64}$/;

/** Public key material of one FROST group; JSON-serialisable, safe to publish. */
export interface GroupPackage {
  threshold: number;
  maxSigners: number;
  /** commitments[0]: the group key Q, 33-byte compressed hex (parity matters, see DESIGN.md). */
  groupKey: GroupKey33;
  /** Feldman VSS commitments to the sharing polynomial's coefficients, 33-byte hex each. */
  commitments: string[];
  /** Each member's verifying share s_i·G, 33-byte hex, keyed by identifier. */
  verifyingShares: Record<FrostIdentifier, string>;
}

const point33HexSchema = hexOfBytes(33);

/** Strict shape of a GroupPackage with its cheap cross-field checks; parseGroupPackage checks the points. */
export const groupPackageSchema: z.ZodType<GroupPackage> = z
  .strictObject({
    threshold: z.number().int().min(MIN_THRESHOLD).max(MAX_SIGNERS),
    maxSigners: z.number().int().min(MIN_THRESHOLD).max(MAX_SIGNERS),
    groupKey: groupKey33Schema,
    commitments: z.array(point33HexSchema).min(MIN_THRESHOLD).max(MAX_SIGNERS),
    verifyingShares: z.record(frostIdentifierSchema, point33HexSchema),
  })
  .superRefine((group, ctx) => {
    if (group.threshold > group.maxSigners)
      ctx.addIssue({ code: 'custom', path: ['threshold'], message: 'exceeds maxSigners' });
    // RFC 9591 Appendix C.2: the VSS commitment has one element per coefficient, i.e. t of them.
    if (group.commitments.length !== group.threshold)
      ctx.addIssue({ code: 'custom', path: ['commitments'], message: 'length must equal threshold' });
    if (group.commitments[0] !== group.groupKey)
      ctx.addIssue({ code: 'custom', path: ['groupKey'], message: 'must equal commitments[0]' });
    if (Object.keys(group.verifyingShares).length !== group.maxSigners)
      ctx.addIssue({ code: 'custom', path: ['verifyingShares'], message: 'count must equal maxSigners' });
  });

/** Groups that parseGroupPackage returned (frozen), so later calls skip the point checks. */
const checkedGroups = new WeakSet<GroupPackage>();

/** Parses a FROST identifier (32-byte lower-case hex) into its scalar; the message names `title`. */
export function identifierScalar(identifier: unknown, title: string): bigint {
  if (typeof identifier !== 'string' || !HEX32.test(identifier))
    throw invalidInput(title, '32-byte lower-case hex FROST identifier');
  const scalar = BigInt('0x' + identifier);
  // RFC 9591 §4.1: identifiers are non-zero scalars (canonical, so below the group order).
  if (scalar === 0n || scalar >= groupOrder) throw invalidInput(title, 'a scalar in 1..n-1');
  return scalar;
}

/** Orders identifiers as RFC 9591 does (by scalar). */
export function compareIdentifiers(a: string, b: string): number {
  // Fixed-width lower-case hex sorts like the scalars it encodes (RFC 9591 sorts by identifier).
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Parses untrusted group key material: strict shape, every point decodes, commitments[0] is the
 * group key, and every verifying share matches the VSS commitments. Returns a frozen canonical copy.
 */
export function parseGroupPackage(value: unknown): GroupPackage {
  const parsed = groupPackageSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = ['group', ...(issue?.path ?? []).map(String)].join('.');
    throw new ProtocolError('PROTOCOL_INVALID', `${path}: ${issue?.message ?? 'invalid'}`);
  }
  const group = parsed.data;
  const commitments = group.commitments.map((hex, i) => decodePoint(hex, `group.commitments[${i}]`));
  const ids = Object.keys(group.verifyingShares).sort(compareIdentifiers) as FrostIdentifier[];
  const verifyingShares: Record<FrostIdentifier, string> = {};
  for (const id of ids) {
    const title = `group.verifyingShares[${id}]`;
    const x = identifierScalar(id, title);
    const hex = group.verifyingShares[id] as string;
    const point = decodePoint(hex, title);
    // RFC 9591 Appendix C.2 vss_verify, in public form: S_i = Σ_j C_j·i^j must be s_i·G.
    if (!evaluateVss(commitments, x).equals(point))
      throw new FrostbunkerError('SHARE_INVALID', `${title}: does not match the VSS commitments`);
    verifyingShares[id] = hex;
  }
  const canonical: GroupPackage = Object.freeze({
    threshold: group.threshold,
    maxSigners: group.maxSigners,
    groupKey: group.groupKey,
    commitments: Object.freeze([...group.commitments]) as string[],
    verifyingShares: Object.freeze(verifyingShares),
  });
  checkedGroups.add(canonical);
  return canonical;
}

/** Returns `group` if parseGroupPackage made it, else parses it (callers may hand in plain objects). */
export function checkedGroup(group: GroupPackage): GroupPackage {
  return checkedGroups.has(group) ? group : parseGroupPackage(group);
}

/** Returns x(Q), the BIP-340 public key of the group: what `get_public_key` answers (the npub). */
export function groupXOnlyKey(group: GroupPackage): XOnlyPubkey {
  // BIP-340 keys are x-only; the 33-byte form's first byte is only the parity of y.
  return checkedGroup(group).groupKey.slice(2) as XOnlyPubkey;
}

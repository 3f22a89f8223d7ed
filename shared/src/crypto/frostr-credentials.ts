/**
 * Import of FROSTR 2.x credentials (`bfgroup1…`, `bfshare1…`) through `@frostr/bifrost`'s own
 * encoders, into our GroupPackage and SigningShare. A FROSTR share is a Shamir share of the secret
 * at x = idx, whatever the signing ciphersuite, so an imported share signs with our FROST.
 */
import { decode_group_package, decode_share_package } from '@frostr/bifrost/encoder';
import { from_bech32m } from '@frostr/bifrost/util';
import { z } from 'zod';
import { FrostbunkerError, ProtocolError } from '../errors.js';
import { hexOfBytes, type FrostIdentifier } from '../protocol/brands.js';
import { invalidInput } from './bytes.js';
import {
  identifierFromIndex,
  MAX_SIGNERS,
  parseGroupPackage,
  SigningShare,
  type GroupPackage,
} from './frost.js';
import { commitmentsFromVerifyingShares, decodePoint, encodePoint } from './vss.js';

const GROUP_PREFIX = 'bfgroup1';
const SHARE_PREFIX = 'bfshare1';
/** A 255-member group encodes to about 15 kB of bech32m; anything longer is not a credential. */
const MAX_CREDENTIAL_CHARS = 20_000;
const MAX_FROSTR_INDEX = 0xffff_ffff;

const frostrIndexSchema = z.number().int().min(1).max(MAX_FROSTR_INDEX);

/** What bifrost's decode_group_package returns (its GroupPackage), checked before use. */
const frostrGroupSchema = z.object({
  threshold: z.number().int().min(1).max(MAX_SIGNERS),
  group_pk: hexOfBytes(33),
  members: z
    .array(z.object({ idx: frostrIndexSchema, pubkey: hexOfBytes(33) }))
    .min(1)
    .max(MAX_SIGNERS),
});

/** What bifrost's decode_share_package returns (its SharePackage). */
const frostrShareSchema = z.object({ idx: frostrIndexSchema, seckey: hexOfBytes(32) });

function assertCredential(value: unknown, prefix: string, title: string): string {
  if (typeof value !== 'string' || value.length > MAX_CREDENTIAL_CHARS || !value.startsWith(prefix))
    throw invalidInput(title, `a ${prefix}… string of at most ${MAX_CREDENTIAL_CHARS} characters`);
  return value;
}

/**
 * Imports a FROSTR `bfgroup1…` string. FROSTR publishes only the members' verifying shares, so the
 * VSS commitments are rebuilt from the first `threshold` of them by interpolation in the exponent;
 * parseGroupPackage then checks every other member and the group key against that polynomial.
 */
export function importFrostrGroup(bfgroup: string): GroupPackage {
  const encoded = assertCredential(bfgroup, GROUP_PREFIX, 'bfgroup');
  let decoded: unknown;
  try {
    decoded = decode_group_package(encoded);
  } catch (cause) {
    throw new ProtocolError('PROTOCOL_INVALID', 'bfgroup: not a valid FROSTR group package', { cause });
  }
  const parsed = frostrGroupSchema.safeParse(decoded);
  if (!parsed.success) throw new ProtocolError('PROTOCOL_INVALID', 'bfgroup: unexpected FROSTR group fields');
  const { threshold, group_pk: groupPk, members } = parsed.data;
  if (threshold < 2 || threshold > members.length)
    throw new ProtocolError(
      'PROTOCOL_INVALID',
      `bfgroup: threshold ${threshold} of ${members.length} members (FROST needs 2..members)`,
    );
  const sorted = [...members].sort((a, b) => a.idx - b.idx);
  if (new Set(sorted.map((m) => m.idx)).size !== sorted.length)
    throw new ProtocolError('PROTOCOL_INVALID', 'bfgroup: duplicate member index');
  const points = sorted.map((m) => ({
    x: BigInt(m.idx),
    point: decodePoint(m.pubkey, `bfgroup.members[idx=${m.idx}].pubkey`),
  }));
  let commitments: string[];
  try {
    commitments = commitmentsFromVerifyingShares(threshold, points).map(encodePoint);
  } catch (cause) {
    // Only a degenerate polynomial (a zero coefficient) lands here: not a usable group.
    throw new FrostbunkerError('SHARE_INVALID', 'bfgroup: member keys do not define a sharing polynomial', {
      cause,
    });
  }
  if (commitments[0] !== groupPk)
    throw new FrostbunkerError('SHARE_INVALID', 'bfgroup: group_pk is not the secret the member keys share');
  const verifyingShares: Record<FrostIdentifier, string> = {};
  for (const m of sorted) verifyingShares[identifierFromIndex(m.idx)] = m.pubkey;
  return parseGroupPackage({
    threshold,
    maxSigners: sorted.length,
    groupKey: groupPk,
    commitments,
    verifyingShares,
  });
}

/** bifrost 1.x share data: index (4) + share (32) + binder and hidden nonce seeds (32 + 32). */
const FROSTR_1X_SHARE_BYTES = 100;

/** Length of a bech32m payload, or -1 when it does not decode (the decoder then reports it). */
function payloadBytes(encoded: string): number {
  try {
    return (from_bech32m(encoded, 'bfshare') as Uint8Array).length;
  } catch {
    return -1;
  }
}

/**
 * Imports a FROSTR `bfshare1…` string as a SigningShare of `group`, through the verifying
 * constructor (throws SHARE_INVALID unless it matches the group).
 */
export function importFrostrShare(bfshare: string, group: GroupPackage): SigningShare {
  const encoded = assertCredential(bfshare, SHARE_PREFIX, 'bfshare');
  if (payloadBytes(encoded) === FROSTR_1X_SHARE_BYTES) {
    // bifrost 2.x would accept it and silently drop the nonce seeds; the share itself may already
    // be exposed, since 1.x signers derived nonces from those seeds.
    throw new FrostbunkerError(
      'SHARE_INVALID',
      'bfshare: a FROSTR 1.x share package (with nonce seeds). 1.x signers reuse nonces, which can leak shares: refusing to import it; make new shares with FROSTR 2.x or frostbunker and import those',
    );
  }
  let decoded: unknown;
  try {
    decoded = decode_share_package(encoded);
  } catch {
    // @NOTE no `cause`: bifrost's bech32m errors quote the whole input, i.e. the secret share.
    throw new FrostbunkerError('SHARE_INVALID', 'bfshare: not a valid FROSTR share package');
  }
  const parsed = frostrShareSchema.safeParse(decoded);
  if (!parsed.success) throw new FrostbunkerError('SHARE_INVALID', 'bfshare: unexpected FROSTR share fields');
  return SigningShare.fromHex(identifierFromIndex(parsed.data.idx), parsed.data.seckey, group);
}

/**
 * Our FROST wrapper, the only importer of the FROST library (noble `schnorr_FROST`). It fixes the
 * ciphersuite (FROST-secp256k1-SHA256-TR-v1, BIP-340 compatible), derives identifiers from indices,
 * never tweaks, converts noble's byte shapes into our branded hex types, and re-verifies what
 * DESIGN.md says to re-verify: shares against the VSS commitments, every signature share with full
 * point equality on failure, and the final signature with an independent BIP-340 verifier.
 * The key ceremonies reach the library only through the `@internal` surface at the end of this
 * file (noble's DKG rounds one and two, and the share scalar); the barrel does not export it.
 */
import type { DKG_Secret, FrostPublic, NonceCommitments, Nonces, RNG } from '@noble/curves/abstract/frost.js';
import { schnorr_FROST, secp256k1, secp256k1_hasher } from '@noble/curves/secp256k1.js';
import { concatBytes, randomBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { CheaterError, FrostbunkerError, ProtocolError } from '../errors.js';
import type { FrostIdentifier } from '../protocol/brands.js';
import { assertBytes, bytesToHex, hexToBytes, invalidInput } from './bytes.js';
import {
  checkedGroup,
  compareIdentifiers,
  identifierScalar,
  MAX_SIGNERS,
  MIN_THRESHOLD,
  parseGroupPackage,
  type GroupPackage,
} from './group-package.js';
import { evaluatePolynomial, scalarToBytes } from './polynomial.js';
import { RedactedSecret } from './redact.js';
import { trAggregate, trCommit, trGroupCommitment, trSignatureShare, type TrCommitment, type TrGroupCommitment } from './frost-tr.js';
import { verifySchnorr } from './schnorr.js';
import { isCompressedPoint, verifySchnorrWasm } from './secp256k1-wasm.js';
import { decodePoint, encodePoint } from './vss.js';

/** The ciphersuite every frostbunker signature uses (RFC 9591 style name, as ZF and noble spell it). */
export const FROST_CIPHERSUITE = 'FROST-secp256k1-SHA256-TR-v1';

const frost = schnorr_FROST;
const Fn = frost.utils.Fn;
const Point = secp256k1.Point;
/** FROSTR encodes member indices in 4 bytes; nothing larger can come from an index. */
const MAX_INDEX = 0xffff_ffff;
/** NIP-01 event ids are 32 bytes; nothing else is ever signed. */
const MESSAGE_BYTES = 32;
const HEX32 = /^[0-9a-f]{64}$/;

// ---------------------------------------------------------------------------------------------
// Group package: parsed in group-package.ts, converted to noble's byte form here
// ---------------------------------------------------------------------------------------------

export {
  groupPackageSchema,
  groupXOnlyKey,
  MAX_SIGNERS,
  parseGroupPackage,
  type GroupPackage,
} from './group-package.js';

/**
 * noble's byte forms of each checked group, computed once per group object (issue 9: decoding
 * every verifying share on every call was a large part of signing and aggregation):
 * - `pub`: the whole group as noble takes it (share validation, the ceremonies);
 * - `signingPub`: only what noble's signShare reads (the group key, for the even-y adjustment of
 *   the secret); it still decodes that one point, never the verifying shares;
 * - `evenPub`: the group already adjusted to an even-y key (BIP-340), which noble's
 *   adjustPublic returns unchanged, so verifyShare and aggregate skip re-decoding every point;
 * - `verifyPubs`: per signer, `evenPub` narrowed to that signer's verifying share.
 */
interface NobleGroup {
  pub: FrostPublic;
  signingPub: FrostPublic;
  evenPub: FrostPublic;
  verifyPubs: Map<string, FrostPublic>;
  /** For the libsecp256k1 path (frost-tr.ts): the even-y group key, 33 bytes, and the original's parity. */
  evenKey: Uint8Array;
  keyHasOddY: boolean;
}

const nobleGroups = new WeakMap<GroupPackage, NobleGroup>();

function toNobleGroup(checked: GroupPackage): NobleGroup {
  const signers = { min: checked.threshold, max: checked.maxSigners };
  const commitments = checked.commitments.map((hex) => hexToBytes(hex, 33));
  const verifyingShares = Object.fromEntries(
    Object.entries(checked.verifyingShares).map(([id, hex]) => [id, hexToBytes(hex, 33)]),
  );
  const pub = { signers, commitments, verifyingShares } as FrostPublic;
  // BIP-340 / noble frostPubToEvenY: an odd-y group key is used negated, with every commitment and
  // verifying share negated alike; done here once instead of in every call.
  const oddKey = decodePoint(checked.groupKey, 'groupKey').toAffine().y % 2n === 1n;
  const even = (bytes: Uint8Array): Uint8Array => (oddKey ? Point.fromBytes(bytes).negate().toBytes(true) : bytes);
  const evenShares = Object.fromEntries(Object.entries(verifyingShares).map(([id, b]) => [id, even(b)]));
  const evenCommitments = commitments.map(even);
  const evenPub = { signers, commitments: evenCommitments, verifyingShares: evenShares } as FrostPublic;
  const verifyPubs = new Map<string, FrostPublic>(
    Object.entries(evenShares).map(([id, b]) => [
      id,
      { signers, commitments: [evenCommitments[0]], verifyingShares: { [id]: b } } as FrostPublic,
    ]),
  );
  const signingPub = { signers, commitments: [commitments[0]], verifyingShares: {} } as FrostPublic;
  return { pub, signingPub, evenPub, verifyPubs, evenKey: evenCommitments[0] as Uint8Array, keyHasOddY: oddKey };
}

/** Validates `group` (cheap for parsed ones) and returns it with its noble forms. */
function nobleGroupForms(group: GroupPackage): { group: GroupPackage; forms: NobleGroup } {
  const checked = checkedGroup(group);
  let forms = nobleGroups.get(checked);
  if (forms === undefined) {
    forms = toNobleGroup(checked);
    nobleGroups.set(checked, forms);
  }
  return { group: checked, forms };
}

/** Validates `group` and returns it with noble's full byte form (share validation). */
function nobleGroup(group: GroupPackage): { group: GroupPackage; pub: FrostPublic } {
  const { group: checked, forms } = nobleGroupForms(group);
  return { group: checked, pub: forms.pub };
}

/** Returns the FROST identifier of participant `index` (1..n), noble's canonical scalar encoding. */
export function identifierFromIndex(index: number): FrostIdentifier {
  if (!isIntegerIn(index, 1, MAX_INDEX)) throw invalidInput('index', `integer 1..${MAX_INDEX}`);
  return frost.Identifier.fromNumber(index) as FrostIdentifier;
}

/** Returns the participant index behind an identifier made by identifierFromIndex (for display). */
export function indexOfIdentifier(identifier: FrostIdentifier): number {
  const scalar = identifierScalar(identifier, 'identifier');
  if (scalar > BigInt(MAX_INDEX))
    throw invalidInput('identifier', `an identifier derived from an index 1..${MAX_INDEX}`);
  return Number(scalar);
}

// ---------------------------------------------------------------------------------------------
// Signing share (secret)
// ---------------------------------------------------------------------------------------------

/** Only this module can construct the secret types: the constructors take this unexported token. */
const INTERNAL: unique symbol = Symbol('frost.internal');
const shareSecrets = new WeakMap<SigningShare, Uint8Array>();

function shareSecret(share: unknown, title: string): Uint8Array {
  const secret = share instanceof SigningShare ? shareSecrets.get(share) : undefined;
  if (secret === undefined) throw invalidInput(title, 'SigningShare');
  return secret;
}

/** One member's FROST signing share s_i; prints as `<redacted>`, exported only through toHex(). */
export class SigningShare extends RedactedSecret {
  readonly identifier: FrostIdentifier;
  readonly #publicShare: string;

  constructor(token: typeof INTERNAL, identifier: FrostIdentifier, secret: Uint8Array, publicShare: string) {
    super();
    if (token !== INTERNAL) throw invalidInput('SigningShare', 'construction via SigningShare.fromHex');
    this.identifier = identifier;
    this.#publicShare = publicShare;
    shareSecrets.set(this, secret);
  }

  /**
   * Verifying constructor: accepts the share only if it matches the group's VSS commitments and
   * the group's verifying share for `identifier`; anything else throws SHARE_INVALID.
   */
  static fromHex(identifier: FrostIdentifier, shareHex: string, group: GroupPackage): SigningShare {
    try {
      identifierScalar(identifier, 'identifier');
    } catch (cause) {
      throw new FrostbunkerError('SHARE_INVALID', 'identifier: expected a FROST identifier', { cause });
    }
    if (typeof shareHex !== 'string' || !HEX32.test(shareHex))
      throw new FrostbunkerError('SHARE_INVALID', 'shareHex: expected 32-byte lower-case hex');
    const secret = hexToBytes(shareHex, 32, 'shareHex');
    if (!Fn.isValidNot0(Fn.fromBytes(secret, true)))
      throw new FrostbunkerError('SHARE_INVALID', 'shareHex: expected a scalar in 1..n-1');
    const { group: checked, pub } = nobleGroup(group);
    const expected = checked.verifyingShares[identifier];
    if (expected === undefined)
      throw new FrostbunkerError('SHARE_INVALID', `identifier: ${identifier} is not a member of the group`);
    try {
      // RFC 9591 Appendix C.2: "vss_verify(share_i, vss_commitment)": S_i == ScalarBaseMult(sk_i).
      frost.validateSecret({ identifier, signingShare: secret }, pub);
    } catch (cause) {
      throw new FrostbunkerError('SHARE_INVALID', 'shareHex: does not match the group VSS commitments', {
        cause,
      });
    }
    const publicShare = encodePoint(Point.BASE.multiply(Fn.fromBytes(secret)));
    // parseGroupPackage already tied verifying shares to the commitments; this keeps the
    // invariant local (the share we hold is exactly the one the group publishes).
    if (publicShare !== expected)
      throw new FrostbunkerError('SHARE_INVALID', 'shareHex: does not match the group verifying share');
    return new SigningShare(INTERNAL, identifier, secret, publicShare);
  }

  /** Returns the share as 32-byte hex, for writing the (encrypted) share file; handle as a secret. */
  toHex(): string {
    return bytesToHex(shareSecret(this, 'this'));
  }

  /** Returns this share's verifying share s_i·G, 33-byte compressed hex (public). */
  publicShare(): string {
    return this.#publicShare;
  }
}

/**
 * @internal For the key ceremonies (reshare, repair), which need s_i itself: a copy of the secret
 * bytes that the caller must zero. Not exported from the package barrel.
 */
export function signingShareBytes(share: SigningShare): Uint8Array {
  return Uint8Array.from(shareSecret(share, 'share'));
}

// ---------------------------------------------------------------------------------------------
// Trusted dealer
// ---------------------------------------------------------------------------------------------

/** Validates an injected rng and adapts it to noble's shape, checking every output's length. */
function checkedRng(rng: unknown, title: string): RNG | undefined {
  if (rng === undefined) return undefined;
  if (typeof rng !== 'function') throw invalidInput(title, 'function (n) => Uint8Array');
  return (bytesLength = 32) =>
    Uint8Array.from(assertBytes(rng(bytesLength), bytesLength, `${title}() output`));
}

function isIntegerIn(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= min && value <= max;
}

function assertSignerCounts(threshold: unknown, maxSigners: unknown): void {
  if (!isIntegerIn(maxSigners, MIN_THRESHOLD, MAX_SIGNERS))
    throw invalidInput('opts.maxSigners', `integer ${MIN_THRESHOLD}..${MAX_SIGNERS}`);
  if (!isIntegerIn(threshold, MIN_THRESHOLD, maxSigners))
    throw invalidInput('opts.threshold', `integer ${MIN_THRESHOLD}..maxSigners (${maxSigners})`);
}

/**
 * Trusted-dealer key generation (RFC 9591 Appendix C), untweaked: the group key is the dealt
 * secret's public key, so splitting an existing nsec keeps its npub.
 * @example const { group, shares } = dealerKeygen({ threshold: 2, maxSigners: 3 })
 */
export function dealerKeygen(opts: {
  threshold: number;
  maxSigners: number;
  secretKey?: Uint8Array;
  rng?: (n: number) => Uint8Array;
}): { group: GroupPackage; shares: SigningShare[] } {
  if (typeof opts !== 'object' || opts === null) throw invalidInput('opts', 'object');
  const { threshold, maxSigners, secretKey } = opts;
  assertSignerCounts(threshold, maxSigners);
  if (secretKey !== undefined) {
    assertBytes(secretKey, 32, 'opts.secretKey');
    // BIP-340: "Let d' = int(sk). Fail if d' = 0 or d' ≥ n."
    if (!Fn.isValidNot0(Fn.fromBytes(secretKey, true)))
      throw invalidInput('opts.secretKey', 'a non-zero scalar below the group order');
  }
  const rng = checkedRng(opts.rng, 'opts.rng');
  const identifiers = Array.from({ length: maxSigners }, (_, i) => identifierFromIndex(i + 1));
  const deal = frost.trustedDealer(
    { min: threshold, max: maxSigners },
    identifiers,
    secretKey === undefined ? undefined : Uint8Array.from(secretKey),
    rng,
  );
  const group = parseGroupPackage({
    threshold,
    maxSigners,
    groupKey: bytesToHex(deal.public.commitments[0] as Uint8Array),
    commitments: deal.public.commitments.map((c) => bytesToHex(c)),
    verifyingShares: Object.fromEntries(
      Object.entries(deal.public.verifyingShares).map(([id, point]) => [id, bytesToHex(point)]),
    ),
  });
  const shares = identifiers.map((id) => {
    const dealt = deal.secretShares[id];
    if (dealt === undefined) throw new FrostbunkerError('INTERNAL', `dealer: no share for ${id}`);
    // Received material becomes usable only through the verifying constructor, even our own.
    const share = SigningShare.fromHex(id, bytesToHex(dealt.signingShare), group);
    dealt.signingShare.fill(0); // best effort: JavaScript cannot guarantee erasure
    return share;
  });
  return { group, shares };
}

// ---------------------------------------------------------------------------------------------
// Round one: nonces and commitments
// ---------------------------------------------------------------------------------------------

/** A signer's public round-one output (D_i, E_i), 33-byte compressed hex. */
export interface SigningCommitments {
  identifier: FrostIdentifier;
  hiding: string;
  binding: string;
}

/** The live nonce pair behind each SigningNonces; undefined once consumed. */
const nonceSecrets = new WeakMap<SigningNonces, { nonces: Nonces | undefined }>();

function zeroNonces(state: { nonces: Nonces | undefined }): void {
  if (state.nonces === undefined) return;
  state.nonces.hiding.fill(0);
  state.nonces.binding.fill(0);
  state.nonces = undefined;
}

/** One signer's secret nonce pair (d_i, e_i) for exactly one signature; memory only, never persisted. */
export class SigningNonces extends RedactedSecret {
  readonly commitments: SigningCommitments;

  constructor(token: typeof INTERNAL, nonces: Nonces, commitments: SigningCommitments) {
    super();
    if (token !== INTERNAL) throw invalidInput('SigningNonces', 'construction via commit()');
    this.commitments = commitments;
    nonceSecrets.set(this, { nonces });
  }

  /** True once these nonces were used by signShare or discarded. */
  isConsumed(): boolean {
    return nonceSecrets.get(this)?.nonces === undefined;
  }

  /** Zeroes and consumes the nonces without signing (eviction, expiry, abandoned session). */
  discard(): void {
    const state = nonceSecrets.get(this);
    if (state !== undefined) zeroNonces(state);
  }
}

/**
 * RFC 9591 §5.1 commit(): fresh hiding and binding nonces for one signing session.
 * @example const { nonces, commitments } = commit(share)
 */
export function commit(
  share: SigningShare,
  rng?: (n: number) => Uint8Array,
): { nonces: SigningNonces; commitments: SigningCommitments } {
  const secret = shareSecret(share, 'share');
  const random = checkedRng(rng, 'rng');
  // RFC 9591 §5.1: "hiding_nonce = nonce_generate(sk_i); binding_nonce = nonce_generate(sk_i)"
  // where nonce_generate hashes 32 fresh random bytes with the share (noble's generateNonce).
  // The same nonce_generate as noble's commit, with libsecp256k1 computing d·G and e·G (frost-tr.ts).
  const generated = trCommit(secret, random ?? ((n) => randomBytes(n)));
  const commitments: SigningCommitments = Object.freeze({
    identifier: share.identifier,
    hiding: bytesToHex(generated.hidingCommitment),
    binding: bytesToHex(generated.bindingCommitment),
  });
  const nonces = { hiding: generated.hiding, binding: generated.binding } as Nonces;
  return { nonces: new SigningNonces(INTERNAL, nonces, commitments), commitments };
}

// ---------------------------------------------------------------------------------------------
// Signing package
// ---------------------------------------------------------------------------------------------

/** What the coordinator sends in round two: the message (a NIP-01 event id) and the chosen commitments. */
export interface SigningPackage {
  message: Uint8Array;
  commitments: SigningCommitments[];
}

/** Packages built here (frozen), with their noble form. */
const checkedPackages = new WeakMap<SigningPackage, NonceCommitments[]>();
/** Test seam: packages for RFC/ZF vectors, whose message is not 32 bytes. */
const anyLengthPackages = new WeakSet<SigningPackage>();

function buildSigningPackage(message: Uint8Array, commitments: unknown): SigningPackage {
  if (!Array.isArray(commitments) || commitments.length < 1 || commitments.length > MAX_SIGNERS)
    throw invalidInput('commitments', `array of 1..${MAX_SIGNERS} SigningCommitments`);
  const seen = new Set<string>();
  const copies = commitments.map((c: unknown, i): SigningCommitments => {
    const title = `commitments[${i}]`;
    if (typeof c !== 'object' || c === null) throw invalidInput(title, 'SigningCommitments');
    const { identifier, hiding, binding } = c as Record<string, unknown>;
    identifierScalar(identifier, `${title}.identifier`);
    // RFC 9591 §3.1 DeserializeElement, by libsecp256k1 (issue 9: noble's decompression was a
    // tenth of a node's signing time); vss.ts decodePoint is the same check in pure JS.
    assertCompressedPoint(hiding, `${title}.hiding`);
    assertCompressedPoint(binding, `${title}.binding`);
    // One commitment per signer: RFC 9591 §5.3 sums one share per identifier.
    if (seen.has(identifier as string)) throw invalidInput(`${title}.identifier`, 'no duplicate identifiers');
    seen.add(identifier as string);
    return Object.freeze({ identifier, hiding, binding } as SigningCommitments);
  });
  // RFC 9591 §4.3: commitment_list is "sorted in ascending order by identifier".
  copies.sort((a, b) => compareIdentifiers(a.identifier, b.identifier));
  const pkg: SigningPackage = Object.freeze({
    message: Uint8Array.from(message),
    commitments: Object.freeze(copies) as SigningCommitments[],
  });
  checkedPackages.set(
    pkg,
    copies.map((c) => ({
      identifier: c.identifier,
      hiding: hexToBytes(c.hiding, 33),
      binding: hexToBytes(c.binding, 33),
    })) as NonceCommitments[],
  );
  return pkg;
}

/**
 * Builds the round-two signing package for one event id; validates every commitment and sorts
 * them by identifier (RFC 9591 §4.3).
 */
export function createSigningPackage(message: Uint8Array, commitments: SigningCommitments[]): SigningPackage {
  assertBytes(message, MESSAGE_BYTES, 'message');
  return buildSigningPackage(message, commitments);
}

/**
 * @internal Test seam for the RFC 9591 / ZF vectors, which sign the 4-byte message "test". Not
 * exported from the package barrel; production code signs 32-byte event ids only.
 */
export function createSigningPackageForVectors(
  message: Uint8Array,
  commitments: SigningCommitments[],
): SigningPackage {
  assertBytes(message, undefined, 'message');
  const pkg = buildSigningPackage(message, commitments);
  anyLengthPackages.add(pkg);
  return pkg;
}

function checkedPackage(pkg: SigningPackage): { pkg: SigningPackage; list: NonceCommitments[] } {
  const list = checkedPackages.get(pkg);
  if (list !== undefined) return { pkg, list };
  if (typeof pkg !== 'object' || pkg === null) throw invalidInput('pkg', 'SigningPackage');
  assertBytes(pkg.message, MESSAGE_BYTES, 'pkg.message');
  const rebuilt = buildSigningPackage(pkg.message, pkg.commitments);
  return { pkg: rebuilt, list: checkedPackages.get(rebuilt) as NonceCommitments[] };
}

function assertCompressedPoint(hex: unknown, title: string): void {
  if (!isCompressedPoint(hexToBytes(hex, 33, title))) throw invalidInput(title, 'a compressed secp256k1 point');
}

/** Each checked package's group commitment R, computed once (precomputeGroupCommitment or aggregate). */
const groupCommitments = new WeakMap<NonceCommitments[], TrGroupCommitment | undefined>();

function groupCommitmentOf(forms: NobleGroup, pkg: SigningPackage, list: NonceCommitments[]): TrGroupCommitment | undefined {
  if (!groupCommitments.has(list)) groupCommitments.set(list, trGroupCommitment(forms.evenKey, trList(list), pkg.message));
  return groupCommitments.get(list);
}

/**
 * Computes the package's group commitment R (RFC 9591 §4.5) ahead of aggregation: a coordinator
 * that knows the package before the shares arrive (one-round signing) does it while the share
 * nodes work, so aggregation is a sum and one verification (issue 9).
 */
export function precomputeGroupCommitment(group: GroupPackage, pkg: SigningPackage): void {
  const { forms } = nobleGroupForms(group);
  const { pkg: signing, list } = checkedPackage(pkg);
  groupCommitmentOf(forms, signing, list);
}

/** A checked package's commitments as frost-tr.ts takes them, converted once per package. */
const trLists = new WeakMap<NonceCommitments[], TrCommitment[]>();

function trList(list: NonceCommitments[]): TrCommitment[] {
  let converted = trLists.get(list);
  if (converted === undefined) {
    converted = list.map((c) => ({ identifier: identifierScalar(c.identifier, 'identifier'), hiding: c.hiding, binding: c.binding }));
    trLists.set(list, converted);
  }
  return converted;
}

function refuse(message: string): ProtocolError {
  return new ProtocolError('PROTOCOL_INVALID', message);
}

/** Checks the package against the group: enough signers, not too many, all of them members. */
function assertQuorum(group: GroupPackage, pkg: SigningPackage): void {
  const count = pkg.commitments.length;
  // RFC 9591 §5.2/§5.3: "MIN_PARTICIPANTS <= NUM_PARTICIPANTS <= MAX_PARTICIPANTS".
  if (count < group.threshold)
    throw refuse(`pkg.commitments: ${count} signers, threshold is ${group.threshold}`);
  if (count > group.maxSigners)
    throw refuse(`pkg.commitments: ${count} signers, group has ${group.maxSigners}`);
  for (const c of pkg.commitments) {
    if (group.verifyingShares[c.identifier] === undefined)
      throw refuse(`pkg.commitments: ${c.identifier} is not a member of the group`);
  }
}

// ---------------------------------------------------------------------------------------------
// Round two: signature shares
// ---------------------------------------------------------------------------------------------

/**
 * RFC 9591 §5.2 sign(): this share's signature share z_i, 32-byte hex. The nonces are consumed by
 * every call (success or refusal), so a coordinator can never obtain two z_i for one nonce pair.
 */
export function signShare(
  share: SigningShare,
  group: GroupPackage,
  nonces: SigningNonces,
  pkg: SigningPackage,
): string {
  const secret = shareSecret(share, 'share');
  const state = nonces instanceof SigningNonces ? nonceSecrets.get(nonces) : undefined;
  if (state === undefined) throw invalidInput('nonces', 'SigningNonces');
  const live = state.nonces;
  if (live === undefined)
    throw new FrostbunkerError('NONCE_REUSED', 'nonces: already consumed; commit again for a new session');
  try {
    const { group: checked, forms } = nobleGroupForms(group);
    const { pkg: signing, list } = checkedPackage(pkg);
    if (nonces.commitments.identifier !== share.identifier)
      throw refuse(`nonces: belong to ${nonces.commitments.identifier}, not to ${share.identifier}`);
    const own = signing.commitments.find((c) => c.identifier === share.identifier);
    if (own === undefined) throw refuse(`pkg.commitments: no commitment for ${share.identifier}`);
    // RFC 9591 §5.2 signs with "the nonce corresponding to that published commitment"; a package
    // naming other commitments for us would make z_i leak our share.
    if (own.hiding !== nonces.commitments.hiding || own.binding !== nonces.commitments.binding)
      throw refuse(`pkg.commitments: the one for ${share.identifier} is not what these nonces committed`);
    assertQuorum(checked, signing);
    // The share was checked against the VSS commitments once, in its verifying constructor; this
    // string comparison ties it to this group without redoing that work (issue 9).
    if (checked.verifyingShares[share.identifier] !== share.publicShare())
      throw new FrostbunkerError('SHARE_INVALID', 'share: does not belong to this group');
    if (live.hiding.every((b) => b === 0) || live.binding.every((b) => b === 0))
      throw new FrostbunkerError('NONCE_REUSED', 'nonces: zeroed; commit again for a new session');
    const z =
      trSignatureShare({
        identifier: identifierScalar(share.identifier, 'share.identifier'),
        secretShare: secret,
        hiding: live.hiding,
        binding: live.binding,
        keyHasOddY: forms.keyHasOddY,
        evenKey: forms.evenKey,
        list: trList(list),
        message: signing.message,
      }) ??
      frost.signShare({ identifier: share.identifier, signingShare: secret }, forms.signingPub, live, list, signing.message);
    // @NOTE z_i is not re-verified here (it was, and cost half of a node's signing time, issue 9):
    // the coordinator verifies the aggregate signature and, if it fails, every z_i with full point
    // equality, naming the sender; nothing unverified is ever returned to a client.
    return bytesToHex(z);
  } finally {
    zeroNonces(state);
  }
}

function verifyShareChecked(
  group: GroupPackage,
  forms: NobleGroup,
  pkg: SigningPackage,
  list: NonceCommitments[],
  identifier: unknown,
  signatureShareHex: unknown,
): boolean {
  if (typeof identifier !== 'string' || group.verifyingShares[identifier as FrostIdentifier] === undefined)
    return false;
  if (!pkg.commitments.some((c) => c.identifier === identifier)) return false;
  if (typeof signatureShareHex !== 'string' || !HEX32.test(signatureShareHex)) return false;
  const z = hexToBytes(signatureShareHex, 32);
  // RFC 9591 §3.1 DeserializeScalar: "fails if the input is not in the range [0, G.Order() - 1]".
  if (!Fn.isValid(Fn.fromBytes(z, true))) return false;
  try {
    // RFC 9591 §5.4: "l = G.ScalarBaseMult(sig_share_i); r = comm_share + G.ScalarMult(PK_i,
    // challenge * lambda_i); return l == r". noble compares the full points (projective equals,
    // after even-y adjustment of Q, R and comm_share for the TR suite), never x only, so a
    // negated z_i fails; frost.misuse.test.ts pins this.
    const pub = forms.verifyPubs.get(identifier);
    return pub !== undefined && frost.verifyShare(pub, list, pkg.message, identifier, z);
  } catch {
    return false;
  }
}

/**
 * RFC 9591 §5.4: checks one signer's signature share with full point equality; malformed or
 * out-of-range shares give `false`, never an exception.
 */
export function verifySignatureShare(
  group: GroupPackage,
  pkg: SigningPackage,
  identifier: FrostIdentifier,
  signatureShareHex: string,
): boolean {
  const { group: checked, forms } = nobleGroupForms(group);
  const { pkg: signing, list } = checkedPackage(pkg);
  return verifyShareChecked(checked, forms, signing, list, identifier, signatureShareHex);
}

/**
 * RFC 9591 §5.3 aggregate(), then verify the BIP-340 signature against x(Q) before returning it.
 * On failure every signature share is verified and the senders of bad ones are named in a
 * CheaterError (ZF aggregate-then-verify); an invalid signature is never returned.
 */
export function aggregateSignature(
  group: GroupPackage,
  pkg: SigningPackage,
  shares: Record<FrostIdentifier, string>,
): string {
  const { group: checked, forms } = nobleGroupForms(group);
  const { pkg: signing, list } = checkedPackage(pkg);
  assertQuorum(checked, signing);
  if (typeof shares !== 'object' || shares === null)
    throw invalidInput('shares', 'record of signature shares');
  const ids = signing.commitments.map((c) => c.identifier);
  for (const id of ids) {
    if (!Object.hasOwn(shares, id)) throw refuse(`shares: missing the signature share of ${id}`);
  }
  for (const id of Object.keys(shares)) {
    if (!ids.includes(id as FrostIdentifier)) throw refuse(`shares: ${id} has no commitment in the package`);
  }
  const culprits = (): FrostIdentifier[] =>
    ids.filter((id) => !verifyShareChecked(checked, forms, signing, list, id, shares[id]));
  const encoded: Record<string, Uint8Array> = {};
  for (const id of ids) {
    const hex = shares[id];
    if (typeof hex !== 'string' || !HEX32.test(hex) || !Fn.isValid(BigInt('0x' + hex)))
      throw new CheaterError(culprits());
    encoded[id] = hexToBytes(hex, 32);
  }
  // Aggregate first, verify the one signature, and only when it fails verify each share (ZF
  // frost's aggregate-then-verify; RFC 9591 §5.3 leaves share checks to the coordinator's
  // discretion). The sum is ours (frost-tr.ts); the check is libsecp256k1's BIP-340 verifier, the
  // reference implementation, independent of both our maths and noble.
  const signature = trAggregate(groupCommitmentOf(forms, signing, list), ids.map((id) => encoded[id] as Uint8Array));
  const xOnly = forms.evenKey.subarray(1);
  // Only the vectors' test seam signs messages that are not 32 bytes; libsecp256k1's verifier takes 32.
  const verify = signing.message.length === MESSAGE_BYTES ? verifySchnorrWasm : verifySchnorr;
  if (signature !== undefined && verify(signature, signing.message, xOnly)) return bytesToHex(signature);
  const bad = culprits();
  if (bad.length > 0) throw new CheaterError(bad);
  throw new FrostbunkerError('INTERNAL', 'aggregate: invalid signature, yet every signature share verifies');
}

// ---------------------------------------------------------------------------------------------
// Distributed key generation: the narrow surface dkg.ts builds on (not exported from the barrel)
// ---------------------------------------------------------------------------------------------

/** noble's round state behind each DkgPolynomial; deleted when discarded. */
const dkgSecrets = new WeakMap<DkgPolynomial, DKG_Secret>();

/** @internal One participant's secret DKG polynomial (noble's round state); prints `<redacted>`. */
export class DkgPolynomial extends RedactedSecret {
  readonly identifier: FrostIdentifier;

  constructor(token: typeof INTERNAL, identifier: FrostIdentifier, secret: DKG_Secret) {
    super();
    if (token !== INTERNAL) throw invalidInput('DkgPolynomial', 'construction via dkgCommit()');
    this.identifier = identifier;
    dkgSecrets.set(this, secret);
  }
}

function liveDkgSecret(polynomial: DkgPolynomial): DKG_Secret {
  const secret = polynomial instanceof DkgPolynomial ? dkgSecrets.get(polynomial) : undefined;
  if (secret === undefined) throw invalidInput('polynomial', 'a live DkgPolynomial (not discarded)');
  return secret;
}

/**
 * @internal DKG round one through noble (Komlo–Goldberg 2020, Figure 1, round 1; ZF `dkg::part1`):
 * a random polynomial of degree threshold−1, its Feldman commitments a_j·G, and a Schnorr proof
 * of knowledge of a_0 bound to our identifier.
 */
export function dkgCommit(
  identifier: FrostIdentifier,
  threshold: number,
  maxSigners: number,
  rng?: (n: number) => Uint8Array,
): { polynomial: DkgPolynomial; commitments: string[]; proofOfKnowledge: string } {
  identifierScalar(identifier, 'identifier');
  assertSignerCounts(threshold, maxSigners);
  const round1 = frost.DKG.round1(identifier, { min: threshold, max: maxSigners }, undefined, checkedRng(rng, 'rng'));
  return {
    polynomial: new DkgPolynomial(INTERNAL, identifier, round1.secret),
    commitments: round1.public.commitment.map((c) => bytesToHex(c)),
    proofOfKnowledge: bytesToHex(round1.public.proofOfKnowledge),
  };
}

/** H_dkg's domain separation: contextString || "dkg", as noble and ZF frost-core spell it. */
const DKG_DST = utf8ToBytes(FROST_CIPHERSUITE + 'dkg');

/**
 * @internal Checks participant `identifier`'s proof of knowledge of its constant term
 * (Komlo–Goldberg Figure 1, round 1 step 5; ZF `dkg::verify_proof_of_knowledge`):
 * c = H_dkg(identifier || φ_0 || R), valid iff R == μ·G − c·φ_0. Our own transcription so that
 * the failing participant can be named (noble's round2 throws one anonymous error); noble checks
 * every proof again in dkgEvaluate. Malformed input gives `false`.
 */
export function dkgProofIsValid(identifier: unknown, constantCommitment: unknown, proofHex: unknown): boolean {
  try {
    const id = identifierScalar(identifier, 'identifier');
    const phi = decodePoint(constantCommitment, 'commitment');
    const proof = hexToBytes(proofHex, 64, 'proofOfKnowledge');
    // TR suite signature encoding (noble adjustTx, ZF frost-secp256k1-tr): x(R) || μ, with R the
    // even-y point of that x (BIP-340 lift_x).
    const R = Point.fromBytes(concatBytes(Uint8Array.of(0x02), proof.subarray(0, 32)));
    const mu = Fn.fromBytes(proof.subarray(32));
    const c = secp256k1_hasher.hashToScalar(concatBytes(Fn.toBytes(id), phi.toBytes(true), R.toBytes(true)), {
      DST: DKG_DST,
    });
    // Public values only, so variable-time multiplication is fine; full point equality.
    return Point.BASE.multiplyUnsafe(mu).subtract(phi.multiplyUnsafe(c)).equals(R);
  } catch {
    return false;
  }
}

/**
 * @internal DKG round two through noble (ZF `dkg::part2`): noble re-verifies every other
 * participant's proof and evaluates our polynomial at each of them; we add f_i(i) for ourselves so
 * every recipient is served alike. Returns f_i(j) as 32-byte scalars by recipient; the caller owns
 * and zeroes them. Callable once per polynomial (noble caches round two).
 */
export function dkgEvaluate(
  polynomial: DkgPolynomial,
  others: readonly { identifier: FrostIdentifier; commitments: readonly string[]; proofOfKnowledge: string }[],
): Map<FrostIdentifier, Uint8Array> {
  const secret = liveDkgSecret(polynomial);
  if (secret.step !== 1 || secret.coefficients === undefined)
    throw invalidInput('polynomial', 'a DkgPolynomial that has not dealt yet');
  const packages = others.map((o, i) => ({
    identifier: o.identifier,
    commitment: o.commitments.map((c, j) => hexToBytes(c, 33, `others[${i}].commitments[${j}]`)),
    proofOfKnowledge: hexToBytes(o.proofOfKnowledge, 64, `others[${i}].proofOfKnowledge`),
  }));
  let dealt: Record<string, { signingShare: Uint8Array }>;
  try {
    dealt = frost.DKG.round2(secret, packages);
  } catch (cause) {
    throw new FrostbunkerError('INTERNAL', 'dkg: noble refused round-one packages that passed our checks', { cause });
  }
  const out = new Map<FrostIdentifier, Uint8Array>();
  for (const [recipient, pkg] of Object.entries(dealt)) {
    out.set(recipient as FrostIdentifier, Uint8Array.from(pkg.signingShare));
    pkg.signingShare.fill(0); // best effort; also empties noble's round-two cache
  }
  out.set(polynomial.identifier, scalarToBytes(evaluatePolynomial(secret.coefficients, secret.identifier)));
  return out;
}

/** @internal Erases a DKG polynomial (noble DKG.clean; best effort, bigints may outlive it). */
export function dkgDiscard(polynomial: DkgPolynomial): void {
  const secret = polynomial instanceof DkgPolynomial ? dkgSecrets.get(polynomial) : undefined;
  if (secret === undefined) return;
  frost.DKG.clean(secret);
  dkgSecrets.delete(polynomial);
}

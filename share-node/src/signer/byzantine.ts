import { createHash, randomBytes } from 'node:crypto';
import {
  commit,
  createSigningPackage,
  signShare,
  type GroupPackage,
  type SigningCommitments,
  type SigningNonces,
  type SigningPackage,
  type SigningShare,
} from '@frostbunker/shared/crypto';
import { FrostbunkerError } from '@frostbunker/shared/errors';

/**
 * The wrong partial signatures a test-mode byzantine node sends (RELIABILITY.md §2.2, G7): a random
 * scalar; −z_i, which an x-only share check accepts (F2); a z_i made with other nonces (another
 * session's); a z_i over another message. Armed only as failpoints `round2.byzantine_<variant>`.
 */
export const BYZANTINE_SHARES = ['random', 'negated', 'other_session', 'other_message'] as const;
export type ByzantineShare = (typeof BYZANTINE_SHARES)[number];

/** The variant armed among `armed` failpoint names (test mode has already been checked by the caller). */
export function byzantineShareArmed(armed: ReadonlyMap<string, unknown>): ByzantineShare | undefined {
  return BYZANTINE_SHARES.find((variant) => armed.has(`round2.byzantine_${variant}`));
}

/** secp256k1 group order n (SEC 2 §2.4.1). */
const ORDER = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

const scalarHex = (value: bigint) => value.toString(16).padStart(64, '0');

/**
 * A wrong z_i for `pkg`, and the commitments whose nonces it used (for the nonce ledger; none for a
 * random scalar). `nonces` are consumed in every variant, as by an honest signShare. A package an
 * honest node would refuse (it does not name our nonces' commitment: a replayed round 2 after a
 * restart) is refused here too, so the node lies about z_i only where it would have sent one.
 */
export function forgeSignatureShare(
  variant: ByzantineShare,
  signer: { share: SigningShare; group: GroupPackage; nonces: SigningNonces; pkg: SigningPackage },
): { signatureShare: string; signedWith: SigningCommitments | undefined } {
  const { share, group, nonces, pkg } = signer;
  const own = pkg.commitments.find((c) => c.identifier === share.identifier);
  if (own?.hiding !== nonces.commitments.hiding || own.binding !== nonces.commitments.binding) {
    nonces.discard();
    throw new FrostbunkerError('PROTOCOL_INVALID', `pkg.commitments: the one for ${share.identifier} is not what these nonces committed`);
  }
  switch (variant) {
    case 'random': {
      nonces.discard();
      return { signatureShare: scalarHex((BigInt(`0x${randomBytes(32).toString('hex')}`) % (ORDER - 1n)) + 1n), signedWith: undefined };
    }
    case 'negated': {
      const z = BigInt(`0x${signShare(share, group, nonces, pkg)}`);
      return { signatureShare: scalarHex((ORDER - z) % ORDER), signedWith: nonces.commitments };
    }
    case 'other_session': {
      nonces.discard();
      const other = commit(share);
      const commitments = pkg.commitments.map((c) => (c.identifier === share.identifier ? other.commitments : c));
      const signatureShare = signShare(share, group, other.nonces, createSigningPackage(pkg.message, commitments));
      return { signatureShare, signedWith: other.commitments };
    }
    case 'other_message': {
      const otherMessage = createHash('sha256').update(pkg.message).digest();
      const signatureShare = signShare(share, group, nonces, createSigningPackage(otherMessage, pkg.commitments));
      return { signatureShare, signedWith: nonces.commitments };
    }
  }
}

/** BIP-340 signature verification through noble, the independent check every signature passes. */
import { schnorr } from '@noble/curves/secp256k1.js';

/**
 * Verifies a BIP-340 signature; any malformed input gives `false`, never an exception.
 * @example verifySchnorr(sig64, eventIdBytes, xOnlyPubkey32)
 */
export function verifySchnorr(
  signature64: Uint8Array,
  message: Uint8Array,
  xOnlyPubkey32: Uint8Array,
): boolean {
  // noble throws on wrong types and lengths ("initial type validation"); a verifier that callers
  // use on untrusted input must answer false instead.
  if (!(signature64 instanceof Uint8Array) || signature64.length !== 64) return false;
  if (!(message instanceof Uint8Array)) return false;
  if (!(xOnlyPubkey32 instanceof Uint8Array) || xOnlyPubkey32.length !== 32) return false;
  try {
    return schnorr.verify(signature64, message, xOnlyPubkey32);
  } catch {
    return false;
  }
}

/** `@frostbunker/shared/crypto`: the crypto surface both the coordinator and share nodes use. */
export { assertBytes, bytesToHex, equalBytes, hexToBytes, randomBytes } from './bytes.js';
export { REDACTED, RedactedSecret, redact } from './redact.js';
export { computeEventId, serializeEvent, type UnsignedEvent } from './event-id.js';
export { verifySchnorr } from './schnorr.js';
export {
  FROST_CIPHERSUITE,
  MAX_SIGNERS,
  SigningNonces,
  SigningShare,
  aggregateSignature,
  commit,
  createSigningPackage,
  dealerKeygen,
  groupPackageSchema,
  groupXOnlyKey,
  identifierFromIndex,
  indexOfIdentifier,
  parseGroupPackage,
  precomputeGroupCommitment,
  signShare,
  verifySignatureShare,
  type GroupPackage,
  type SigningCommitments,
  type SigningPackage,
} from './frost.js';
export {
  CeremonyError,
  CommitmentMismatchError,
  SubShare,
  commitmentEcho,
  commitmentEchoSchema,
  commitmentMessageSchema,
  subShareMessageSchema,
  type CeremonyKind,
  type CommitmentEcho,
  type CommitmentMessage,
  type Rejection,
  type SubShareMessage,
} from './ceremony.js';
export { DkgState, dealDkg, dkgRound1MessageSchema, finishDkg, startDkg, type DkgRound1Message } from './dkg.js';
export { PendingRefresh, dealRefresh, finishRefresh, verifyRefresh } from './refresh.js';
export { PendingReshare, dealReshare, finishReshare, verifyReshare, type ReshareTarget } from './reshare.js';
export { combineRepair, dealRepair, finishRepair } from './repair.js';
export { CommitmentPool, NonceStore, type CommitmentPoolOptions, type NonceStoreOptions } from './nonce-store.js';
export { importFrostrGroup, importFrostrShare } from './frostr-credentials.js';
export { MIN_SEAL_LOG_N, isSealedFile, openSealed, sealSecret, sealedFileSchema, type SealedFile } from './at-rest.js';

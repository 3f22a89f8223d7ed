// One place for what the bench imports. Nothing is installed for the bench: the built workspace
// packages come from their `dist/` (run `tsc --build` first, as `pnpm bench` does), and nostr-tools
// and ws from the `test` package's node_modules (nostr.mjs), where pnpm links the versions the e2e
// tests use. Node resolves those symlinks to the pnpm store, so their own dependencies resolve.
export { Lab, ENTRY_POINTS, ensureLabIdentity, labLayout, startProcess } from '../deploy/dist/lab/index.js';
export {
  aggregateSignature,
  commit,
  createSigningPackage,
  dealerKeygen,
  signShare,
} from '../shared/dist/crypto/index.js';
// Our event signer (libsecp256k1 in WebAssembly), for the floors; the baseline bunker loads it itself.
export {
  finalizeEvent as wasmFinalizeEvent,
  initEventSigner,
  verifyEvent as wasmVerifyEvent,
} from '../shared/dist/nostr/event-signer.js';
export * from './nostr.mjs';

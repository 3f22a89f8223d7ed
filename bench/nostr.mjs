// nostr-tools and ws, from the `test` package's node_modules (see deps.mjs). Kept apart from the
// workspace imports so the baseline bunker loads nostr-tools and ws and nothing else.
export { finalizeEvent, generateSecretKey, getPublicKey, verifyEvent } from '../test/node_modules/nostr-tools/lib/esm/pure.js';
export { AbstractSimplePool } from '../test/node_modules/nostr-tools/lib/esm/abstract-pool.js';
export { BunkerSigner, parseBunkerInput } from '../test/node_modules/nostr-tools/lib/esm/nip46.js';
export * as nip44 from '../test/node_modules/nostr-tools/lib/esm/nip44.js';
export { default as WebSocket } from '../test/node_modules/ws/wrapper.mjs';

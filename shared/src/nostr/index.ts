export * from './kinds.js';
export * from './nip44.js';
export * from './event.js';
export * from './event-signer.js';

export { ShareSigner, type ShareSignerOptions } from './signer/share-signer.js';
export { decideRound1Binding, type BindingDecision } from './signer/binding.js';
export { loadShareNodeConfig } from './config.js';

/** Named kinds; no numeric kind literals elsewhere (STYLE.md 2.3 rule 10). */
export const KIND_METADATA = 0;
export const KIND_TEXT_NOTE = 1;
export const KIND_CONTACTS = 3;
export const KIND_DELETION = 5;
export const KIND_RELAY_LIST = 10002;
export const KIND_ENCRYPTION_KEY = 10044;
export const KIND_CLIENT_AUTH = 22242;
export const KIND_NIP46 = 24133;
export const KIND_HTTP_AUTH = 27235;
/**
 * Coordinator <-> share-node protocol. Ephemeral range (20000-29999) so relays forward without
 * storing; not assigned by any NIP as of 2026.
 */
export const KIND_FROSTBUNKER_NODE = 24134;

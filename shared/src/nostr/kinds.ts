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
/** NIP-4e: a client announces its local client key (`pubkey` tag) to receive the encryption key. */
export const KIND_CLIENT_KEY_ANNOUNCEMENT = 4454;
/** NIP-4e: the encryption key, NIP-44 encrypted to the client key in the `p` tag. */
export const KIND_ENCRYPTION_KEY_SHARE = 4455;

/** NIP-60 Cashu wallet: reserved tokens / quote (7374), unspent proofs (7375), history (7376). */
export const KIND_CASHU_QUOTE = 7374;
export const KIND_CASHU_TOKEN = 7375;
export const KIND_CASHU_HISTORY = 7376;
/** NIP-60: the wallet itself (mints and the wallet's private key, encrypted). */
export const KIND_CASHU_WALLET = 17375;
/** NIP-61: where to send nutzaps (mints and the P2PK pubkey). */
export const KIND_NUTZAP_INFO = 10019;
/** NIP-57 zap request. */
export const KIND_ZAP_REQUEST = 9734;
/** NIP-47 wallet connect: request, response, notification (NIP-04), notification (NIP-44). */
export const KIND_NWC_REQUEST = 23194;
export const KIND_NWC_RESPONSE = 23195;
export const KIND_NWC_NOTIFICATION_NIP04 = 23196;
export const KIND_NWC_NOTIFICATION = 23197;

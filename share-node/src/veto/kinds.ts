/**
 * Kinds the veto policy names that `@frostbunker/shared/nostr` does not (STYLE.md 2.3 rule 10).
 * The shared constants are re-exported so the veto reads its kinds from one place.
 */
export {
  KIND_CONTACTS,
  KIND_DELETION,
  KIND_ENCRYPTION_KEY,
  KIND_HTTP_AUTH,
  KIND_METADATA,
  KIND_NIP46,
  KIND_RELAY_LIST,
} from '@frostbunker/shared/nostr';

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

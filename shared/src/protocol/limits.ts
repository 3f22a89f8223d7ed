/** Size and time bounds shared by every component; a change here is a protocol change. */
export const LIMITS = {
  /** NIP-44 v2 plaintext is at most 65,535 bytes; a NIP-46 request cannot be larger. */
  nip46PlaintextBytes: 65_535,
  /** Base64 ciphertext of the largest NIP-44 payload, checked before any ECDH. */
  nip46ContentChars: 90_000,
  /**
   * Largest event template we will sign: it must fit one node message (below) with ~960 bytes of
   * header to spare. RELIABILITY.md decision 7 (chunking up to 512 KiB) will lift it.
   */
  signableEventBytes: 40_000,
  /** strfry's default tag limit. */
  eventTags: 2_000,
  /**
   * One node message, JSON bytes, before encryption. NIP-44 pads in 8 KiB steps above 32 KiB, so
   * 40,960 bytes is the largest plaintext whose event stays under strfry's 64 KiB limit (40,961
   * already gives 65,628 characters of content).
   */
  nodeMessageBytes: 40_960,
  requestIdChars: 128,
  methodChars: 64,
  params: 8,
  refusalReasonChars: 200,
} as const;

/** Time windows (seconds) from RELIABILITY.md §4. */
export const WINDOWS = {
  /** NIP-46 request `created_at` accepted from now − past to now + future. */
  nip46RequestPastSec: 300,
  nip46RequestFutureSec: 60,
  /** Coordinator <-> node messages: strict relays reject older ephemeral events (RELIABILITY decision 4). */
  nodeMessageSec: 60,
  /** Event to sign: `created_at` within ± this of the node's clock. */
  eventCreatedAtSec: 600,
} as const;

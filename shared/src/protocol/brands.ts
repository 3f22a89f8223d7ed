import { z } from 'zod';

/** Lower-case hex of exactly `bytes` bytes. */
export const hexOfBytes = (bytes: number) =>
  z.string().regex(new RegExp(`^[0-9a-f]{${bytes * 2}}$`), `expected ${bytes}-byte lower-case hex`);

/** NIP-01 event id: sha256 of the serialised event, 32-byte hex. */
export const eventIdSchema = hexOfBytes(32).brand<'EventId'>();
export type EventId = z.infer<typeof eventIdSchema>;

/** BIP-340 x-only public key, 32-byte hex (what Nostr calls a pubkey). */
export const xOnlyPubkeySchema = hexOfBytes(32).brand<'XOnlyPubkey'>();
export type XOnlyPubkey = z.infer<typeof xOnlyPubkeySchema>;

/**
 * Compressed group key, 33-byte hex. Parity matters: DESIGN.md warns that passing the x-only key
 * where this one is expected breaks odd-y keys, hence a separate brand.
 */
export const groupKey33Schema = hexOfBytes(33).brand<'GroupKey33'>();
export type GroupKey33 = z.infer<typeof groupKey33Schema>;

/** FROST participant identifier: a canonical 32-byte scalar, hex (noble's encoding). */
export const frostIdentifierSchema = hexOfBytes(32).brand<'FrostIdentifier'>();
export type FrostIdentifier = z.infer<typeof frostIdentifierSchema>;

/** One signing session: 16 random bytes, hex. */
export const sessionIdSchema = hexOfBytes(16).brand<'SessionId'>();
export type SessionId = z.infer<typeof sessionIdSchema>;

/** One identity (group) on a coordinator: sha256 of its public group package, hex. */
export const groupIdSchema = hexOfBytes(32).brand<'GroupId'>();
export type GroupId = z.infer<typeof groupIdSchema>;

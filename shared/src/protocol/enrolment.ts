import { z } from 'zod';
import { frostIdentifierSchema, xOnlyPubkeySchema } from './brands.js';

/** A share node's place in a group: its FROST index bound to its identity pubkey (RELIABILITY T7). */
export const groupMemberSchema = z.strictObject({
  identifier: frostIdentifierSchema,
  nodePubkey: xOnlyPubkeySchema,
  label: z.string().regex(/^[a-z0-9-]{1,32}$/),
});
export type GroupMember = z.infer<typeof groupMemberSchema>;

/** Relay URLs as operators write them; only ws(s). */
export const relayUrlSchema = z
  .string()
  .max(512)
  .regex(/^wss?:\/\/[^\s]+$/, 'expected a ws:// or wss:// URL');

/** Files on disk that hold secrets say how they are stored. @TODO(issue 6) NIP-49 encryption. */
export const secretStorageSchema = z.literal('insecure-plaintext');

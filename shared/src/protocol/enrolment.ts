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

/** Present (and only allowed) in a plaintext secrets file; sealed files carry no marker inside. */
export const secretStorageSchema = z.literal('insecure-plaintext').optional();

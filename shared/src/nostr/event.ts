import { z } from 'zod';
import type { NostrEvent } from 'nostr-tools/pure';

export type { NostrEvent } from 'nostr-tools/pure';
export type { Filter } from 'nostr-tools/filter';

const hex = (chars: number) => z.string().regex(new RegExp(`^[0-9a-f]{${chars}}$`));

/**
 * Shape of a NIP-01 event received from a relay, checked before its signature is verified.
 * Lenient toward relays (extra fields are stripped, NIP-01 allows none we use); the bounds are
 * strfry's defaults (RELIABILITY.md finding 2: 2,000 tags), the frame cap bounds the rest.
 */
export const nostrEventSchema = z.object({
  id: hex(64),
  pubkey: hex(64),
  created_at: z.number().int().min(0),
  kind: z.number().int().min(0).max(65_535),
  tags: z.array(z.array(z.string())).max(2_000),
  content: z.string(),
  sig: hex(128),
}) satisfies z.ZodType<NostrEvent>;

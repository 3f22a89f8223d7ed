import { z } from 'zod';
import { LIMITS } from './limits.js';
import { hexOfBytes } from './brands.js';

const tagSchema = z.array(z.string().max(LIMITS.signableEventBytes)).max(64);

/**
 * An event template as NIP-46 clients send it in `sign_event`. INTEROP.md: some clients add
 * `pubkey` and `id`; they are kept so the caller can check them, never trusted. Unknown fields
 * are stripped (lenient toward clients, STYLE.md 2.5).
 */
export const eventTemplateSchema = z.object({
  kind: z.number().int().min(0).max(65_535),
  content: z.string(),
  tags: z.array(tagSchema).max(LIMITS.eventTags),
  created_at: z.number().int().min(0).max(2 ** 32),
  pubkey: z.string().optional(),
  id: z.string().optional(),
});
export type EventTemplate = z.infer<typeof eventTemplateSchema>;

/** The exact event the share nodes co-sign: every NIP-01 field but `id` and `sig`. */
export const unsignedEventSchema = z.strictObject({
  pubkey: hexOfBytes(32),
  created_at: z.number().int().min(0).max(2 ** 32),
  kind: z.number().int().min(0).max(65_535),
  tags: z.array(tagSchema).max(LIMITS.eventTags),
  content: z.string(),
});
export type UnsignedEventMessage = z.infer<typeof unsignedEventSchema>;

import type { Event, IncomingMessage } from '@nostr-relay/common';

/**
 * The limits `@nostr-relay/validator` 0.0.40 applies by default (its `defaultOptions`), which the
 * relay uses: an event this module accepts, the validator accepts too.
 */
const LIMITS = { maxTagValueLength: 1024, maxNumberOfTags: 2000, maxContentLength: 100 * 1024 } as const;
const HEX64 = /^[0-9a-f]{64}$/;
const HEX128 = /^[0-9a-f]{128}$/;

/**
 * A well-formed `["EVENT", event]` frame, checked by hand: the validator's zod schemas cost more
 * than the signature check on the relay's busiest path (issue 9). Returns what the validator would
 * return for the frame (the event with only its seven NIP-01 fields, in the validator's order), or
 * `undefined` for anything else, which then goes to the validator for its verdict and its error
 * message: a frame this accepts, the validator accepts with the same result
 * (`deploy/test/event-frame.test.ts` checks both ways).
 */
export function parseEventFrame(text: string): IncomingMessage | undefined {
  if (!text.startsWith('["EVENT"')) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!Array.isArray(value) || value.length !== 2 || value[0] !== 'EVENT') return undefined;
  const event = readEvent(value[1]);
  return event === undefined ? undefined : ['EVENT', event];
}

function readEvent(value: unknown): Event | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const { id, pubkey, created_at, kind, tags, content, sig } = value as Record<string, unknown>;
  if (typeof id !== 'string' || !HEX64.test(id)) return undefined;
  if (typeof pubkey !== 'string' || !HEX64.test(pubkey)) return undefined;
  if (!isNonNegativeInteger(created_at) || !isNonNegativeInteger(kind)) return undefined;
  if (!Array.isArray(tags) || tags.length > LIMITS.maxNumberOfTags || !tags.every(isTag)) return undefined;
  if (typeof content !== 'string' || content.length > LIMITS.maxContentLength) return undefined;
  if (typeof sig !== 'string' || !HEX128.test(sig)) return undefined;
  return { id, pubkey, created_at, kind, tags: tags as string[][], content, sig };
}

function isNonNegativeInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0;
}

/** The validator's tag rule: strings only; a single-letter tag's value at most 1,024 characters. */
function isTag(tag: unknown): boolean {
  if (!Array.isArray(tag) || !tag.every((item) => typeof item === 'string')) return false;
  const [name, value] = tag as string[];
  return value === undefined || name!.length > 1 || value.length <= LIMITS.maxTagValueLength;
}

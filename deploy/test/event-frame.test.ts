import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { finalizeEvent, generateSecretKey } from 'nostr-tools/pure';
import { Validator } from '@nostr-relay/validator';
import { parseEventFrame } from '../src/relay/event-frame.js';

// The relay's hand-checked EVENT frames (issue 9) against @nostr-relay/validator, the reference:
// whatever the fast path accepts, the validator accepts with the same result, and every EVENT
// frame the validator accepts takes the fast path.
const validator = new Validator();

async function byValidator(text: string): Promise<{ ok: true; message: unknown } | { ok: false }> {
  try {
    return { ok: true, message: await validator.validateIncomingMessage(text) };
  } catch {
    return { ok: false };
  }
}

const secretKey = generateSecretKey();
const baseEvent = () => ({ ...finalizeEvent({ kind: 1, created_at: 1_800_000_000, tags: [['p', 'a'.repeat(64)]], content: 'hi' }, secretKey) });

/** One change to a valid event, or to the frame around it: each a rule of the validator, or none. */
const mutations: [string, (event: Record<string, unknown>) => unknown][] = [
  ['none', (e) => ['EVENT', e]],
  ['extra field (stripped)', (e) => ['EVENT', { ...e, extra: 1 }]],
  ['a third element', (e) => ['EVENT', e, 'x']],
  ['no event', () => ['EVENT']],
  ['event is an array', (e) => ['EVENT', Object.values(e)]],
  ['event is null', () => ['EVENT', null]],
  ['upper-case id', (e) => ['EVENT', { ...e, id: String(e.id).toUpperCase() }]],
  ['short pubkey', (e) => ['EVENT', { ...e, pubkey: String(e.pubkey).slice(2) }]],
  ['sig of 126 chars', (e) => ['EVENT', { ...e, sig: String(e.sig).slice(2) }]],
  ['non-hex sig', (e) => ['EVENT', { ...e, sig: `zz${String(e.sig).slice(2)}` }]],
  ['missing content', ({ content: _, ...rest }) => ['EVENT', rest]],
  ['numeric content', (e) => ['EVENT', { ...e, content: 5 }]],
  ['content of 102,400 chars', (e) => ['EVENT', { ...e, content: 'x'.repeat(102_400) }]],
  ['content of 102,401 chars', (e) => ['EVENT', { ...e, content: 'x'.repeat(102_401) }]],
  ['negative kind', (e) => ['EVENT', { ...e, kind: -1 }]],
  ['fractional created_at', (e) => ['EVENT', { ...e, created_at: 1.5 }]],
  ['string created_at', (e) => ['EVENT', { ...e, created_at: '1' }]],
  ['huge kind', (e) => ['EVENT', { ...e, kind: 1e300 }]],
  ['tags not an array', (e) => ['EVENT', { ...e, tags: {} }]],
  ['a numeric tag item', (e) => ['EVENT', { ...e, tags: [['p', 1]] }]],
  ['an empty tag', (e) => ['EVENT', { ...e, tags: [[]] }]],
  ['single-letter tag value of 1,024', (e) => ['EVENT', { ...e, tags: [['e', 'x'.repeat(1024)]] }]],
  ['single-letter tag value of 1,025', (e) => ['EVENT', { ...e, tags: [['e', 'x'.repeat(1025)]] }]],
  ['long tag value under a long name', (e) => ['EVENT', { ...e, tags: [['alt', 'x'.repeat(5000)]] }]],
  ['2,000 tags', (e) => ['EVENT', { ...e, tags: Array.from({ length: 2000 }, () => ['t', 'x']) }]],
  ['2,001 tags', (e) => ['EVENT', { ...e, tags: Array.from({ length: 2001 }, () => ['t', 'x']) }]],
  ['REQ', () => ['REQ', 'sub', { kinds: [1] }]],
];

describe('parseEventFrame', () => {
  it.each(mutations)('agrees with the validator: %s', async (_name, mutate) => {
    const text = JSON.stringify(mutate(baseEvent()));
    const fast = parseEventFrame(text);
    const reference = await byValidator(text);
    if (text.startsWith('["EVENT"') && reference.ok) expect(fast).toEqual(reference.message);
    else expect(fast).toBeUndefined();
  });

  it('agrees with the validator on arbitrary event-like frames', async () => {
    const hex = (n: number) => fc.stringMatching(new RegExp(`^[0-9a-fA-F]{${n - 1},${n + 1}}$`));
    const event = fc.record(
      {
        id: fc.oneof(hex(64), fc.string()),
        pubkey: hex(64),
        created_at: fc.oneof(fc.nat(), fc.integer({ min: -5, max: 5 }), fc.double()),
        kind: fc.oneof(fc.nat({ max: 70_000 }), fc.constant(-1)),
        tags: fc.array(fc.array(fc.oneof(fc.string({ maxLength: 3 }), fc.string({ minLength: 1020, maxLength: 1030 }), fc.integer())), { maxLength: 4 }),
        content: fc.oneof(fc.string(), fc.integer()),
        sig: hex(128),
        extra: fc.anything(),
      },
      { requiredKeys: ['pubkey', 'sig'] },
    );
    await fc.assert(
      fc.asyncProperty(event, async (e) => {
        const text = JSON.stringify(['EVENT', e]);
        const fast = parseEventFrame(text);
        const reference = await byValidator(text);
        if (reference.ok) expect(fast).toEqual(reference.message);
        else expect(fast).toBeUndefined();
      }),
      { numRuns: 400 },
    );
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { UnsignedEventMessage } from '@frostbunker/shared/protocol';
import { unsignedEventSchema } from '@frostbunker/shared/protocol';
import { decideVeto, type VetoContext } from '../../src/veto/policy.js';
import { parseVetoPolicy, type VetoPolicy } from '../../src/veto/policy-schema.js';
import type { RuleVerdict, VetoRule } from '../../src/veto/plugin.js';
import { GROUP_PUBKEY, hexKey } from './events.js';

const NOW = 1_800_000_000;
/** Kinds with built-in rules, plus ordinary and default-ask kinds, so every rule gets exercised. */
const INTERESTING_KINDS = [0, 1, 3, 5, 7, 10002, 10044, 4454, 4455, 22242, 24133, 27235, 9734];

const keyArb = fc.integer({ min: 0, max: 40 }).map(hexKey);
const tagValueArb = fc.oneof(keyArb, fc.constantFrom('https://api.example.com/x', 'https://evil.net/', ''), fc.string({ maxLength: 12 }));
const tagArb = fc.oneof(
  fc.tuple(fc.constantFrom('p', 'e', 'a', 'u', 'n', 'pubkey', 'P', 'k', 't', 'method'), tagValueArb).map(([name, value]) => [name, value]),
  fc.array(fc.string({ maxLength: 8 }), { maxLength: 4 }),
);
const eventArb: fc.Arbitrary<UnsignedEventMessage> = fc.record({
  pubkey: fc.constant(GROUP_PUBKEY),
  created_at: fc.oneof(fc.integer({ min: NOW - 700, max: NOW + 700 }), fc.integer({ min: 0, max: 2 ** 32 })),
  kind: fc.oneof(fc.constantFrom(...INTERESTING_KINDS), fc.integer({ min: 0, max: 65_535 })),
  tags: fc.array(tagArb, { maxLength: 30 }),
  content: fc.string({ maxLength: 200 }),
});
const ctxArb: fc.Arbitrary<VetoContext> = fc.record(
  {
    nowSec: fc.constant(NOW),
    approvedCounts: fc.record({ lastMinute: fc.nat(100), lastHour: fc.nat(1000), lastDay: fc.nat(6000) }),
    latestContactListFollows: fc.array(keyArb, { maxLength: 40 }),
  },
  { requiredKeys: ['nowSec', 'approvedCounts'] },
);
const policyArb: fc.Arbitrary<VetoPolicy> = fc
  .record(
    {
      deniedKinds: fc.array(fc.constantFrom(...INTERESTING_KINDS), { maxLength: 3 }),
      askKinds: fc.array(fc.constantFrom(...INTERESTING_KINDS), { maxLength: 3 }),
      createdAtWindowSec: fc.integer({ min: 1, max: 600 }),
      rateLimits: fc.record({ perMinute: fc.nat(100), perHour: fc.nat(1000), perDay: fc.nat(6000) }),
      contactList: fc.record({ maxDropPercent: fc.integer({ min: 0, max: 100 }) }),
      deletion: fc.record({ maxEvents: fc.nat(10) }),
      httpAuth: fc.record({ allowedUrlPrefixes: fc.subarray(['https://api.example.com', 'https://evil.net/']) }),
      encryptionKeyEvents: fc.record({ allowedPubkeys: fc.array(keyArb, { maxLength: 5 }) }),
    },
    { requiredKeys: [] },
  )
  .map((overrides) => parseVetoPolicy(overrides));

const verdictArb: fc.Arbitrary<RuleVerdict> = fc.oneof(
  fc.constant({ decision: 'allow' as const }),
  fc.record({ decision: fc.constant('deny' as const), reason: fc.string({ maxLength: 400 }) }),
  fc.record({ decision: fc.constant('ask' as const), reason: fc.string({ maxLength: 400 }) }),
);
const rulesArb: fc.Arbitrary<VetoRule[]> = fc
  .array(verdictArb, { maxLength: 3 })
  .map((verdicts) => verdicts.map((verdict, i) => ({ name: `r${i}`, evaluate: () => verdict })));
const throwingRule: VetoRule = {
  name: 'throws',
  evaluate: () => {
    throw new Error('plugin bug');
  },
};

function withinWindow(event: UnsignedEventMessage, policy: VetoPolicy): boolean {
  return Math.abs(event.created_at - NOW) <= policy.createdAtWindowSec;
}

describe('decideVeto properties', () => {
  it('only generates events that the unsigned-event schema accepts', () => {
    fc.assert(fc.property(eventArb, (event) => unsignedEventSchema.safeParse(event).success));
  });

  it('denies a denied kind for every event, context and custom rule set', () => {
    fc.assert(
      fc.property(eventArb, policyArb, ctxArb, rulesArb, (event, policy, ctx, rules) => {
        const denying = { ...policy, deniedKinds: [...policy.deniedKinds, event.kind] };
        const decision = decideVeto(event, denying, ctx, rules);
        expect(decision.decision).toBe('deny');
        if (withinWindow(event, policy)) expect(decision).toMatchObject({ rule: 'denied_kind' });
      }),
    );
  });

  it('denies any event over any rate limit', () => {
    const overLimitArb = fc
      .tuple(policyArb, ctxArb, fc.constantFrom('lastMinute', 'lastHour', 'lastDay'), fc.nat(50))
      .map(([policy, ctx, window, excess]): [VetoPolicy, VetoContext] => {
        const limit = { lastMinute: policy.rateLimits.perMinute, lastHour: policy.rateLimits.perHour, lastDay: policy.rateLimits.perDay }[window];
        return [policy, { ...ctx, approvedCounts: { ...ctx.approvedCounts, [window]: limit + excess } }];
      });
    fc.assert(
      fc.property(eventArb, overLimitArb, rulesArb, (event, [policy, ctx], rules) => {
        const decision = decideVeto(event, policy, ctx, rules);
        expect(decision.decision).toBe('deny');
        if (withinWindow(event, policy) && !policy.deniedKinds.includes(event.kind)) {
          expect(decision).toMatchObject({ rule: expect.stringMatching(/^rate_limit_(minute|hour|day)$/) });
        }
      }),
    );
  });

  it('decides kind 3, kind 5, NIP-98 and NIP-4e events the same whatever the tag order', () => {
    const setKindEventArb = eventArb.chain((event) =>
      fc.record({
        event: fc.constant(event),
        kind: fc.constantFrom(3, 5, 10044, 4454, 4455, 27235),
        shuffled: fc.shuffledSubarray(event.tags, { minLength: event.tags.length }),
      }),
    );
    fc.assert(
      fc.property(setKindEventArb, policyArb, ctxArb, ({ event, kind, shuffled }, policy, ctx) => {
        // Only the content rules can speak: in the window, no denied kinds, under every limit.
        const original = { ...event, kind, created_at: NOW };
        const contentOnly = { ...policy, deniedKinds: [], rateLimits: { perMinute: 101, perHour: 1001, perDay: 6001 } };
        expect(decideVeto({ ...original, tags: shuffled }, contentOnly, ctx)).toEqual(decideVeto(original, contentOnly, ctx));
      }),
    );
  });

  it('never throws, and a throwing custom rule makes it deny', () => {
    fc.assert(
      fc.property(eventArb, policyArb, ctxArb, rulesArb, fc.nat(3), (event, policy, ctx, rules, at) => {
        const withThrowing = [...rules.slice(0, at), throwingRule, ...rules.slice(at)];
        const decision = decideVeto(event, policy, ctx, withThrowing);
        expect(decision.decision).toBe('deny');
      }),
    );
  });

  it('keeps every reason within 200 characters', () => {
    fc.assert(
      fc.property(eventArb, policyArb, ctxArb, rulesArb, (event, policy, ctx, rules) => {
        const decision = decideVeto(event, policy, ctx, rules);
        if (decision.decision !== 'allow') expect(decision.reason.length).toBeLessThanOrEqual(200);
      }),
    );
  });

  it('never lets a custom rule loosen the decision', () => {
    const allowAll: VetoRule = { name: 'allow-all', evaluate: () => ({ decision: 'allow' }) };
    const askAll: VetoRule = { name: 'ask-all', evaluate: () => ({ decision: 'ask', reason: 'always' }) };
    fc.assert(
      fc.property(eventArb, policyArb, ctxArb, (event, policy, ctx) => {
        const base = decideVeto(event, policy, ctx);
        expect(decideVeto(event, policy, ctx, [allowAll])).toEqual(base);
        expect(decideVeto(event, policy, ctx, [askAll]).decision).toBe(base.decision === 'deny' ? 'deny' : 'ask');
      }),
    );
  });

  it('leaves the event and the context it was given unchanged', () => {
    const editor: VetoRule = {
      name: 'editor',
      evaluate: (event) => {
        (event as { content: string }).content = 'edited';
        return { decision: 'allow' };
      },
    };
    fc.assert(
      fc.property(eventArb, policyArb, ctxArb, (event, policy, ctx) => {
        const before = structuredClone({ event, ctx });
        decideVeto(event, policy, ctx, [editor]);
        expect({ event, ctx }).toEqual(before);
      }),
    );
  });
});

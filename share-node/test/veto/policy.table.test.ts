import { describe, expect, it } from 'vitest';
import type { UnsignedEventMessage } from '@frostbunker/shared/protocol';
import { decideVeto, type VetoContext } from '../../src/veto/policy.js';
import { parseVetoPolicy } from '../../src/veto/policy-schema.js';
import type { RuleVerdict, VetoRule } from '../../src/veto/plugin.js';
import { follows, hexKey, makeCtx, makeEvent, NOW_SEC, pTags } from './events.js';

interface Row {
  name: string;
  event: Partial<UnsignedEventMessage>;
  /** Policy file content; parsed through the schema, so `{}` is the default policy. */
  policy?: Record<string, unknown>;
  ctx?: Partial<VetoContext>;
  rules?: VetoRule[];
  expected: { decision: 'allow' } | { decision: 'deny' | 'ask'; rule: string; reason?: string | RegExp };
}

const rule = (name: string, verdict: RuleVerdict): VetoRule => ({ name, evaluate: () => verdict });
const ruleThatThrows = (name: string): VetoRule => ({
  name,
  evaluate: () => {
    throw new Error('broken plugin');
  },
});
const counts = (lastMinute: number, lastHour: number, lastDay: number) => ({ approvedCounts: { lastMinute, lastHour, lastDay } });
const KEY_A = hexKey(0xa1);
const KEY_B = hexKey(0xb2);
const withKeys = { encryptionKeyEvents: { allowedPubkeys: [KEY_A] } };
const withPrefix = { httpAuth: { allowedUrlPrefixes: ['https://api.example.com'] } };
const deletion = (targets: string[][]) => ({ kind: 5, tags: targets });
const eTags = (n: number) => Array.from({ length: n }, (_, i) => ['e', hexKey(1000 + i)]);

const rows: Row[] = [
  // created_at window (default 600 s)
  { name: 'allows created_at exactly 600 s behind the node clock', event: { created_at: NOW_SEC - 600 }, expected: { decision: 'allow' } },
  {
    name: 'denies created_at 601 s behind the node clock',
    event: { created_at: NOW_SEC - 601 },
    expected: { decision: 'deny', rule: 'created_at_window', reason: 'created_at is 601 s behind the node clock (max 600 s)' },
  },
  { name: 'allows created_at exactly 600 s ahead of the node clock', event: { created_at: NOW_SEC + 600 }, expected: { decision: 'allow' } },
  {
    name: 'denies created_at 601 s ahead of the node clock',
    event: { created_at: NOW_SEC + 601 },
    expected: { decision: 'deny', rule: 'created_at_window', reason: /601 s ahead/ },
  },
  {
    name: 'applies a tighter window from the policy',
    event: { created_at: NOW_SEC - 61 },
    policy: { createdAtWindowSec: 60 },
    expected: { decision: 'deny', rule: 'created_at_window' },
  },
  {
    name: 'reports the window before a denied kind',
    event: { kind: 24133, created_at: NOW_SEC + 601 },
    expected: { decision: 'deny', rule: 'created_at_window' },
  },

  // denied kinds
  { name: 'denies a NIP-46 envelope (24133) by default', event: { kind: 24133 }, expected: { decision: 'deny', rule: 'denied_kind', reason: 'kind 24133 is denied by this node' } },
  {
    name: 'denies a denied kind even when a custom rule allows it',
    event: { kind: 1 },
    policy: { deniedKinds: [1] },
    rules: [rule('allow-all', { decision: 'allow' })],
    expected: { decision: 'deny', rule: 'denied_kind' },
  },
  {
    name: 'denies a kind listed as both denied and ask',
    event: { kind: 0 },
    policy: { deniedKinds: [0] },
    expected: { decision: 'deny', rule: 'denied_kind' },
  },
  { name: 'no longer denies 24133 when the policy lists other denied kinds', event: { kind: 24133 }, policy: { deniedKinds: [1] }, expected: { decision: 'allow' } },

  // rate limits: counts are events already signed; this one would be number count + 1
  { name: 'allows the 60th event of the minute', event: {}, ctx: counts(59, 59, 59), expected: { decision: 'allow' } },
  {
    name: 'denies the 61st event of the minute',
    event: {},
    ctx: counts(60, 60, 60),
    expected: { decision: 'deny', rule: 'rate_limit_minute', reason: 'rate limit: 60 events approved in the last minute (max 60 per minute)' },
  },
  { name: 'allows the 600th event of the hour', event: {}, ctx: counts(0, 599, 599), expected: { decision: 'allow' } },
  { name: 'denies the 601st event of the hour', event: {}, ctx: counts(0, 600, 600), expected: { decision: 'deny', rule: 'rate_limit_hour' } },
  { name: 'allows the 5000th event of the day', event: {}, ctx: counts(0, 0, 4999), expected: { decision: 'allow' } },
  { name: 'denies the 5001st event of the day', event: {}, ctx: counts(0, 0, 5000), expected: { decision: 'deny', rule: 'rate_limit_day' } },
  { name: 'names the minute limit when every window is exceeded', event: {}, ctx: counts(100, 1000, 9000), expected: { decision: 'deny', rule: 'rate_limit_minute' } },
  {
    name: 'denies every event under a zero limit',
    event: {},
    policy: { rateLimits: { perDay: 0 } },
    expected: { decision: 'deny', rule: 'rate_limit_day' },
  },
  {
    name: 'denies an ask kind over a rate limit rather than asking',
    event: { kind: 0 },
    ctx: counts(60, 60, 60),
    expected: { decision: 'deny', rule: 'rate_limit_minute' },
  },

  // kind 3: follow-list drop against the latest kind 3 this node signed (default max 10 %)
  {
    name: 'allows a kind 3 that drops exactly 10% of the follows',
    event: { kind: 3, tags: pTags(follows(180, 20)) },
    ctx: { latestContactListFollows: follows(200) },
    expected: { decision: 'allow' },
  },
  {
    name: 'denies a kind 3 that drops 10.5% of the follows',
    event: { kind: 3, tags: pTags(follows(179, 21)) },
    ctx: { latestContactListFollows: follows(200) },
    expected: { decision: 'deny', rule: 'contact_list_drop', reason: 'kind 3 drops 21 of 200 follows (10.5%, max 10%)' },
  },
  {
    name: 'denies a kind 3 that drops 10.1% of 1000 follows',
    event: { kind: 3, tags: pTags(follows(899, 101)) },
    ctx: { latestContactListFollows: follows(1000) },
    expected: { decision: 'deny', rule: 'contact_list_drop' },
  },
  {
    name: 'denies an empty kind 3 that would wipe every follow',
    event: { kind: 3, tags: [] },
    ctx: { latestContactListFollows: follows(3) },
    expected: { decision: 'deny', rule: 'contact_list_drop', reason: /drops 3 of 3 follows \(100%/ },
  },
  {
    name: 'allows a kind 3 that adds follows and drops none',
    event: { kind: 3, tags: pTags(follows(300)) },
    ctx: { latestContactListFollows: follows(200) },
    expected: { decision: 'allow' },
  },
  {
    name: 'counts a repeated p tag as one follow',
    event: { kind: 3, tags: [...pTags(follows(8)), ...pTags(follows(8))] },
    ctx: { latestContactListFollows: follows(10) },
    expected: { decision: 'deny', rule: 'contact_list_drop', reason: /drops 2 of 10/ },
  },
  {
    name: 'denies any drop when maxDropPercent is 0',
    event: { kind: 3, tags: pTags(follows(99)) },
    policy: { contactList: { maxDropPercent: 0 } },
    ctx: { latestContactListFollows: follows(100) },
    expected: { decision: 'deny', rule: 'contact_list_drop' },
  },
  {
    name: 'asks for the first kind 3 when there is no baseline to compare with',
    event: { kind: 3, tags: pTags(follows(5)) },
    expected: { decision: 'ask', rule: 'contact_list_no_baseline' },
  },
  {
    name: 'allows a kind 3 after an empty baseline',
    event: { kind: 3, tags: pTags(follows(5)) },
    ctx: { latestContactListFollows: [] },
    expected: { decision: 'allow' },
  },

  // kind 5 deletions (default max 5 targets)
  { name: 'allows a kind 5 deleting 5 events', event: deletion(eTags(5)), expected: { decision: 'allow' } },
  {
    name: 'denies a kind 5 deleting 6 events',
    event: deletion(eTags(6)),
    expected: { decision: 'deny', rule: 'deletion_count', reason: 'kind 5 deletes 6 events (max 5)' },
  },
  {
    name: 'counts a tags (addressable events) as deletion targets',
    event: deletion([...eTags(3), ['a', `30023:${KEY_A}:x`], ['a', `30023:${KEY_A}:y`], ['a', `30023:${KEY_A}:z`]]),
    expected: { decision: 'deny', rule: 'deletion_count' },
  },
  {
    name: 'counts a repeated e tag once and ignores k tags',
    event: deletion([...eTags(5), ['e', hexKey(1000)], ['k', '1'], ['k', '30023']]),
    expected: { decision: 'allow' },
  },
  { name: 'applies the policy deletion limit', event: deletion(eTags(2)), policy: { deletion: { maxEvents: 1 } }, expected: { decision: 'deny', rule: 'deletion_count' } },

  // NIP-98 HTTP auth (27235): only under allowed URL prefixes
  {
    name: 'allows HTTP auth for a URL under an allowed prefix',
    event: { kind: 27235, tags: [['u', 'https://api.example.com/upload'], ['method', 'PUT']] },
    policy: withPrefix,
    expected: { decision: 'allow' },
  },
  {
    name: 'allows HTTP auth for exactly the allowed prefix',
    event: { kind: 27235, tags: [['u', 'https://api.example.com'], ['method', 'GET']] },
    policy: withPrefix,
    expected: { decision: 'allow' },
  },
  {
    name: 'denies HTTP auth for another URL',
    event: { kind: 27235, tags: [['u', 'https://bank.example.org/transfer'], ['method', 'POST']] },
    policy: withPrefix,
    expected: { decision: 'deny', rule: 'http_auth_url', reason: /bank\.example\.org/ },
  },
  {
    name: 'denies HTTP auth for a host that only starts with the allowed host',
    event: { kind: 27235, tags: [['u', 'https://api.example.com.evil.net/'], ['method', 'GET']] },
    policy: withPrefix,
    expected: { decision: 'deny', rule: 'http_auth_url' },
  },
  {
    name: 'denies HTTP auth with userinfo that only looks like the allowed host',
    event: { kind: 27235, tags: [['u', 'https://api.example.com@evil.net/'], ['method', 'GET']] },
    policy: withPrefix,
    expected: { decision: 'deny', rule: 'http_auth_url' },
  },
  {
    name: 'denies HTTP auth without a u tag',
    event: { kind: 27235, tags: [['method', 'GET']] },
    policy: withPrefix,
    expected: { decision: 'deny', rule: 'http_auth_url', reason: 'kind 27235 has no u tag' },
  },
  {
    name: 'denies HTTP auth with two u tags',
    event: { kind: 27235, tags: [['u', 'https://api.example.com/a'], ['u', 'https://evil.net/']] },
    policy: withPrefix,
    expected: { decision: 'deny', rule: 'http_auth_url', reason: /2 u tags/ },
  },
  {
    name: 'denies every HTTP auth under the default policy',
    event: { kind: 27235, tags: [['u', 'https://api.example.com/upload']] },
    expected: { decision: 'deny', rule: 'http_auth_url' },
  },

  // NIP-4e key events: every named key must be allow-listed
  { name: 'allows a 10044 announcing an allowed key', event: { kind: 10044, tags: [['n', KEY_A]] }, policy: withKeys, expected: { decision: 'allow' } },
  {
    name: 'denies a 10044 announcing an unlisted key',
    event: { kind: 10044, tags: [['n', KEY_B]] },
    policy: withKeys,
    expected: { decision: 'deny', rule: 'encryption_key_event', reason: 'kind 10044 names key 00000000…000000b2, not in encryptionKeyEvents.allowedPubkeys' },
  },
  {
    name: 'denies a 10044 announcing an allowed and an unlisted key',
    event: { kind: 10044, tags: [['n', KEY_A], ['n', KEY_B]] },
    policy: withKeys,
    expected: { decision: 'deny', rule: 'encryption_key_event' },
  },
  {
    name: 'denies a 10044 with no n tag',
    event: { kind: 10044, tags: [['p', KEY_A]] },
    policy: withKeys,
    expected: { decision: 'deny', rule: 'encryption_key_event', reason: 'kind 10044 names no key (n tag)' },
  },
  { name: 'denies every 10044 under the default policy', event: { kind: 10044, tags: [['n', KEY_A]] }, expected: { decision: 'deny', rule: 'encryption_key_event' } },
  {
    name: 'allows a 4454 announcing an allowed client key',
    event: { kind: 4454, tags: [['client', 'Tortilla on Android'], ['pubkey', KEY_A]] },
    policy: withKeys,
    expected: { decision: 'allow' },
  },
  {
    name: 'denies a 4454 announcing an unlisted client key',
    event: { kind: 4454, tags: [['client', 'Tortilla on Android'], ['pubkey', KEY_B]] },
    policy: withKeys,
    expected: { decision: 'deny', rule: 'encryption_key_event' },
  },
  {
    name: 'allows a 4455 sending the key to an allowed client, whatever its throwaway sender key',
    event: { kind: 4455, tags: [['P', KEY_B], ['p', KEY_A]], content: 'nip44 ciphertext' },
    policy: withKeys,
    expected: { decision: 'allow' },
  },
  {
    name: 'denies a 4455 sending the key to an unlisted client',
    event: { kind: 4455, tags: [['P', KEY_A], ['p', KEY_B]], content: 'nip44 ciphertext' },
    policy: withKeys,
    expected: { decision: 'deny', rule: 'encryption_key_event' },
  },

  // custom rules
  {
    name: 'asks when a custom rule asks',
    event: {},
    rules: [rule('careful', { decision: 'ask', reason: 'looks odd' })],
    expected: { decision: 'ask', rule: 'plugin:careful', reason: 'looks odd' },
  },
  {
    name: 'denies when a later custom rule denies after an earlier one asked',
    event: {},
    rules: [rule('careful', { decision: 'ask', reason: 'looks odd' }), rule('strict', { decision: 'deny', reason: 'no' })],
    expected: { decision: 'deny', rule: 'plugin:strict', reason: 'no' },
  },
  {
    name: 'names the first denying custom rule',
    event: {},
    rules: [rule('first', { decision: 'deny', reason: 'one' }), rule('second', { decision: 'deny', reason: 'two' })],
    expected: { decision: 'deny', rule: 'plugin:first' },
  },
  {
    name: 'denies a kind 3 without baseline when a custom rule denies it',
    event: { kind: 3, tags: pTags(follows(2)) },
    rules: [rule('strict', { decision: 'deny', reason: 'no contact lists' })],
    expected: { decision: 'deny', rule: 'plugin:strict' },
  },
  {
    name: 'denies when a custom rule throws',
    event: {},
    rules: [ruleThatThrows('boom')],
    expected: { decision: 'deny', rule: 'plugin:boom', reason: 'rule boom failed' },
  },
  {
    name: 'denies when a custom rule returns something that is not a verdict',
    event: {},
    rules: [{ name: 'sloppy', evaluate: () => ({ decision: 'maybe' }) as unknown as RuleVerdict }],
    expected: { decision: 'deny', rule: 'plugin:sloppy', reason: /failed \(invalid verdict\)/ },
  },
  {
    name: 'cuts a long custom reason to 200 characters',
    event: {},
    rules: [rule('verbose', { decision: 'deny', reason: 'x'.repeat(500) })],
    expected: { decision: 'deny', rule: 'plugin:verbose', reason: /^x{199}…$/ },
  },
  {
    name: 'does not let a custom allow lift an ask kind',
    event: { kind: 0 },
    rules: [rule('allow-all', { decision: 'allow' })],
    expected: { decision: 'ask', rule: 'ask_kind' },
  },
  {
    name: 'reports a custom ask before an ask kind',
    event: { kind: 0 },
    rules: [rule('careful', { decision: 'ask', reason: 'profile edit' })],
    expected: { decision: 'ask', rule: 'plugin:careful' },
  },

  // ask kinds and defaults
  { name: 'asks before signing a profile (kind 0)', event: { kind: 0 }, expected: { decision: 'ask', rule: 'ask_kind', reason: "kind 0 needs the node operator's approval" } },
  { name: 'asks before signing a relay list (kind 10002)', event: { kind: 10002 }, expected: { decision: 'ask', rule: 'ask_kind' } },
  { name: 'asks before signing a wallet connect request (kind 23194)', event: { kind: 23194 }, expected: { decision: 'ask', rule: 'ask_kind' } },
  { name: 'asks before signing a Cashu wallet event (kind 17375)', event: { kind: 17375 }, expected: { decision: 'ask', rule: 'ask_kind' } },
  { name: 'asks before signing a zap request (kind 9734)', event: { kind: 9734 }, expected: { decision: 'ask', rule: 'ask_kind' } },
  { name: 'asks for a kind the policy adds to askKinds', event: { kind: 1 }, policy: { askKinds: [1] }, expected: { decision: 'ask', rule: 'ask_kind' } },
  { name: 'asks before relay AUTH (22242) by default', event: { kind: 22242, tags: [['relay', 'wss://relay.example.com'], ['challenge', 'c']] }, expected: { decision: 'ask', rule: 'ask_kind' } },
  { name: 'allows a text note by default', event: { kind: 1, content: 'gm' }, expected: { decision: 'allow' } },
];

describe('decideVeto', () => {
  it.each(rows)('$name', (row) => {
    const decision = decideVeto(makeEvent(row.event), parseVetoPolicy(row.policy ?? {}), makeCtx(row.ctx), row.rules);
    if (row.expected.decision === 'allow') {
      expect(decision).toEqual({ decision: 'allow' });
      return;
    }
    expect(decision).toMatchObject({ decision: row.expected.decision, rule: row.expected.rule });
    if (decision.decision === 'allow') return;
    expect(decision.reason.length).toBeLessThanOrEqual(200);
    if (typeof row.expected.reason === 'string') expect(decision.reason).toBe(row.expected.reason);
    else if (row.expected.reason) expect(decision.reason).toMatch(row.expected.reason);
  });
});

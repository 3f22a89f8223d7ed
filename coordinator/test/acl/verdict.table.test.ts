import { describe, expect, it } from 'vitest';
import {
  KIND_CASHU_TOKEN,
  KIND_CLIENT_AUTH,
  KIND_CONTACTS,
  KIND_DELETION,
  KIND_ENCRYPTION_KEY,
  KIND_HTTP_AUTH,
  KIND_METADATA,
  KIND_NIP46,
  KIND_NWC_REQUEST,
  KIND_RELAY_LIST,
  KIND_TEXT_NOTE,
} from '@frostbunker/shared/nostr';
import { Nip46Method, type Nip46MethodName } from '@frostbunker/shared/protocol';
import type { AclRequest, AclRows, Grant, KindScope, Subject, TrustLevel, Verdict } from '../../src/acl/types.js';
import { decideVerdict } from '../../src/acl/verdict.js';
import {
  CLIENT,
  NON_SIGNING_METHODS,
  NOW,
  OTHER_CLIENT,
  denial,
  grant,
  methodRequest,
  rows,
  signRequest,
  subject,
} from './fixtures.js';

interface VerdictCase {
  name: string;
  rows: AclRows;
  request: AclRequest;
  nowSec: number;
  expected: Verdict;
}

const KIND_REACTION = 7;
const T = NOW + 3_600; // a deadline one hour ahead
const SENSITIVE_SAMPLE = [
  KIND_METADATA,
  KIND_CONTACTS,
  KIND_DELETION,
  KIND_RELAY_LIST,
  KIND_ENCRYPTION_KEY,
  KIND_CLIENT_AUTH,
  KIND_HTTP_AUTH,
  KIND_NIP46,
  KIND_NWC_REQUEST,
  KIND_CASHU_TOKEN,
];

const allow = (rule: Verdict['rule']): Verdict => ({ decision: 'allow', rule });
const deny = (rule: Verdict['rule']): Verdict => ({ decision: 'deny', rule });
const ask = (rule: Verdict['rule']): Verdict => ({ decision: 'ask', rule });
const trust = (trustLevel: TrustLevel, method: Nip46MethodName, kindRisk: 'ordinary' | 'sensitive' | null) => ({
  rule: 'trust_level' as const,
  trustLevel,
  method,
  kindRisk,
});
const paranoid = (overrides: Partial<Subject> = {}) => subject({ trustLevel: 'paranoid', ...overrides });
const full = (overrides: Partial<Subject> = {}) => subject({ trustLevel: 'full', ...overrides });
const askParanoidKind1 = ask(trust('paranoid', Nip46Method.signEvent, 'ordinary'));
const exactKind1 = grant('g-exact', { kind: KIND_TEXT_NOTE });
/** A row as the SQLite store may hand it over: absent optional columns come back as NULL. */
const withNulls = <T extends object>(row: T, fields: Record<string, null>): T => ({ ...row, ...fields }) as T;

const subjectCases: VerdictCase[] = [
  {
    name: 'a revoked subject is denied even with an exact grant and full trust',
    rows: rows({ subject: full({ revokedAtSec: NOW - 10 }), grants: [exactKind1] }),
    request: signRequest(KIND_TEXT_NOTE),
    nowSec: NOW,
    expected: deny({ rule: 'subject_revoked', revokedAtSec: NOW - 10 }),
  },
  {
    name: 'revocation is checked before suspension',
    rows: rows({ subject: full({ revokedAtSec: NOW - 10, suspension: { untilSec: T, reason: 'r', actor: 'a' } }) }),
    request: signRequest(KIND_TEXT_NOTE),
    nowSec: NOW,
    expected: deny({ rule: 'subject_revoked', revokedAtSec: NOW - 10 }),
  },
  {
    name: 'a revocation stamped in the future still revokes (a clock stepped back cannot un-revoke)',
    rows: rows({ subject: full({ revokedAtSec: NOW + 600 }) }),
    request: methodRequest(Nip46Method.ping),
    nowSec: NOW,
    expected: deny({ rule: 'subject_revoked', revokedAtSec: NOW + 600 }),
  },
  {
    name: 'a revoked subject cannot even get_public_key',
    rows: rows({ subject: full({ revokedAtSec: NOW - 1 }), grants: [grant('g', { method: Nip46Method.getPublicKey })] }),
    request: methodRequest(Nip46Method.getPublicKey),
    nowSec: NOW,
    expected: deny({ rule: 'subject_revoked', revokedAtSec: NOW - 1 }),
  },
  {
    name: 'a suspension one second before untilSec denies and carries its reason and actor',
    rows: rows({ subject: full({ suspension: { untilSec: T, reason: 'lost laptop', actor: 'bob' } }), grants: [exactKind1] }),
    request: signRequest(KIND_TEXT_NOTE),
    nowSec: T - 1,
    expected: deny({ rule: 'subject_suspended', untilSec: T, reason: 'lost laptop', actor: 'bob' }),
  },
  {
    name: 'a suspension has lapsed at untilSec, so the exact grant allows again',
    rows: rows({ subject: paranoid({ suspension: { untilSec: T, reason: 'lost laptop', actor: 'bob' } }), grants: [exactKind1] }),
    request: signRequest(KIND_TEXT_NOTE),
    nowSec: T,
    expected: allow({ rule: 'grant_exact', grantId: 'g-exact' }),
  },
  {
    name: 'a lapsed suspension one second after untilSec falls through to the trust level',
    rows: rows({ subject: paranoid({ suspension: { untilSec: T, reason: 'r', actor: 'a' } }) }),
    request: signRequest(KIND_TEXT_NOTE),
    nowSec: T + 1,
    expected: askParanoidKind1,
  },
  {
    name: 'a suspension is checked before denials',
    rows: rows({ subject: subject({ suspension: { untilSec: T, reason: 'r', actor: 'a' } }), denials: [denial('d')] }),
    request: methodRequest(Nip46Method.ping),
    nowSec: NOW,
    expected: deny({ rule: 'subject_suspended', untilSec: T, reason: 'r', actor: 'a' }),
  },
  {
    name: 'a client with no subject row is denied even when grant rows exist for it',
    rows: rows({ subject: undefined, grants: [exactKind1] }),
    request: signRequest(KIND_TEXT_NOTE),
    nowSec: NOW,
    expected: deny({ rule: 'unknown_subject' }),
  },
  {
    name: 'a subject row for another client does not admit this one',
    rows: rows({ subject: full({ clientPubkey: OTHER_CLIENT }) }),
    request: signRequest(KIND_TEXT_NOTE),
    nowSec: NOW,
    expected: deny({ rule: 'unknown_subject' }),
  },
  ...[Nip46Method.getPublicKey, Nip46Method.switchRelays, Nip46Method.ping, Nip46Method.connect].map((method) => ({
    name: `${method} from a client with no subject row is denied (every method is gated)`,
    rows: rows({ subject: undefined }),
    request: methodRequest(method),
    nowSec: NOW,
    expected: deny({ rule: 'unknown_subject' }),
  })),
  {
    name: 'a null revokedAtSec (SQLite NULL) does not revoke',
    rows: rows({ subject: withNulls(full(), { revokedAtSec: null }) }),
    request: methodRequest(Nip46Method.ping),
    nowSec: NOW,
    expected: allow(trust('full', Nip46Method.ping, null)),
  },
  {
    name: 'a trust level that is none of the three asks by default',
    rows: rows({ subject: { clientPubkey: CLIENT, trustLevel: 'admin' as TrustLevel } }),
    request: signRequest(KIND_TEXT_NOTE),
    nowSec: NOW,
    expected: ask({ rule: 'default_ask' }),
  },
];

const invalidRequestCases: VerdictCase[] = [
  {
    name: 'sign_event without a kind is refused even under full trust with a wildcard grant',
    rows: rows({ subject: full(), grants: [grant('w', { kind: '*' })] }),
    request: { clientPubkey: CLIENT, method: Nip46Method.signEvent },
    nowSec: NOW,
    expected: deny({ rule: 'invalid_request', problem: 'kind_missing' }),
  },
  ...[-1, 65_536, 1.5, Number.NaN].map((kind) => ({
    name: `sign_event with kind ${kind} is refused as invalid`,
    rows: rows({ subject: full(), grants: [grant('w')] }),
    request: signRequest(kind),
    nowSec: NOW,
    expected: deny({ rule: 'invalid_request', problem: 'kind_invalid' }),
  })),
  {
    name: 'a method outside Nip46Method is refused as invalid',
    rows: rows({ subject: full() }),
    request: methodRequest('sign_psbt' as Nip46MethodName),
    nowSec: NOW,
    expected: deny({ rule: 'invalid_request', problem: 'unknown_method' }),
  },
  {
    name: 'a kind on a non-signing request is ignored',
    rows: rows({ subject: full() }),
    request: { clientPubkey: CLIENT, method: Nip46Method.ping, kind: -5 },
    nowSec: NOW,
    expected: allow(trust('full', Nip46Method.ping, null)),
  },
];

const denialCases: VerdictCase[] = [
  {
    name: 'an explicit denial beats an exact grant for the same kind',
    rows: rows({ grants: [exactKind1], denials: [denial('d1', { method: Nip46Method.signEvent, kind: KIND_TEXT_NOTE })] }),
    request: signRequest(KIND_TEXT_NOTE),
    nowSec: NOW,
    expected: deny({ rule: 'denial', denialId: 'd1' }),
  },
  {
    name: 'a method-wide denial beats full trust for get_public_key',
    rows: rows({ subject: full(), denials: [denial('d1', { method: Nip46Method.getPublicKey })] }),
    request: methodRequest(Nip46Method.getPublicKey),
    nowSec: NOW,
    expected: deny({ rule: 'denial', denialId: 'd1' }),
  },
  {
    name: 'a "*" denial denies every method, switch_relays included',
    rows: rows({ subject: full(), grants: [grant('g', { method: Nip46Method.switchRelays })], denials: [denial('d-all')] }),
    request: methodRequest(Nip46Method.switchRelays),
    nowSec: NOW,
    expected: deny({ rule: 'denial', denialId: 'd-all' }),
  },
  {
    name: 'a denial of kind 7 leaves kind 1 to the grants',
    rows: rows({ grants: [exactKind1], denials: [denial('d7', { method: Nip46Method.signEvent, kind: KIND_REACTION })] }),
    request: signRequest(KIND_TEXT_NOTE),
    nowSec: NOW,
    expected: allow({ rule: 'grant_exact', grantId: 'g-exact' }),
  },
  {
    name: 'a sign_event denial for every kind denies kind 1',
    rows: rows({ subject: full(), denials: [denial('d', { method: Nip46Method.signEvent, kind: '*' })] }),
    request: signRequest(KIND_TEXT_NOTE),
    nowSec: NOW,
    expected: deny({ rule: 'denial', denialId: 'd' }),
  },
  {
    name: 'a nip44_decrypt denial leaves nip44_encrypt alone',
    rows: rows({ denials: [denial('d', { method: Nip46Method.nip44Decrypt })] }),
    request: methodRequest(Nip46Method.nip44Encrypt),
    nowSec: NOW,
    expected: allow(trust('reasonable', Nip46Method.nip44Encrypt, null)),
  },
  {
    name: 'a denial with a kind applies to non-signing methods too (the kind is ignored there)',
    rows: rows({ subject: full(), denials: [denial('d', { method: '*', kind: KIND_DELETION })] }),
    request: methodRequest(Nip46Method.getPublicKey),
    nowSec: NOW,
    expected: deny({ rule: 'denial', denialId: 'd' }),
  },
  {
    name: 'a sign_event denial with a corrupt kind (neither a number nor "*") denies every kind',
    rows: rows({ subject: full(), denials: [denial('d', { method: Nip46Method.signEvent, kind: 'seven' as KindScope })] }),
    request: signRequest(KIND_TEXT_NOTE),
    nowSec: NOW,
    expected: deny({ rule: 'denial', denialId: 'd' }),
  },
  {
    name: 'a time-boxed denial one second before untilSec denies',
    rows: rows({ grants: [exactKind1], denials: [denial('d', { untilSec: T })] }),
    request: signRequest(KIND_TEXT_NOTE),
    nowSec: T - 1,
    expected: deny({ rule: 'denial', denialId: 'd' }),
  },
  {
    name: 'a time-boxed denial has lapsed at untilSec (no sweep), so the grant allows',
    rows: rows({ grants: [exactKind1], denials: [denial('d', { untilSec: T })] }),
    request: signRequest(KIND_TEXT_NOTE),
    nowSec: T,
    expected: allow({ rule: 'grant_exact', grantId: 'g-exact' }),
  },
  {
    name: 'a time-boxed denial one second after untilSec decays to the trust level (ask)',
    rows: rows({ subject: paranoid(), denials: [denial('d', { untilSec: T })] }),
    request: signRequest(KIND_TEXT_NOTE),
    nowSec: T + 1,
    expected: askParanoidKind1,
  },
  {
    name: 'a denial with a NULL untilSec is permanent',
    rows: rows({ subject: full(), denials: [withNulls(denial('d'), { untilSec: null })] }),
    request: methodRequest(Nip46Method.ping),
    nowSec: NOW,
    expected: deny({ rule: 'denial', denialId: 'd' }),
  },
  {
    name: "another client's denial does not apply",
    rows: rows({ subject: full(), denials: [denial('d', { clientPubkey: OTHER_CLIENT })] }),
    request: methodRequest(Nip46Method.ping),
    nowSec: NOW,
    expected: allow(trust('full', Nip46Method.ping, null)),
  },
  {
    name: 'of two matching denials the smaller id is named, whatever the row order',
    rows: rows({ denials: [denial('d-2'), denial('d-1', { method: Nip46Method.ping })] }),
    request: methodRequest(Nip46Method.ping),
    nowSec: NOW,
    expected: deny({ rule: 'denial', denialId: 'd-1' }),
  },
];

const grantCases: VerdictCase[] = [
  {
    name: 'the exact-kind grant is named when an exact and a wildcard grant both cover the request',
    rows: rows({ subject: paranoid(), grants: [grant('a-wild', { kind: '*' }), grant('b-exact', { kind: KIND_TEXT_NOTE })] }),
    request: signRequest(KIND_TEXT_NOTE),
    nowSec: NOW,
    expected: allow({ rule: 'grant_exact', grantId: 'b-exact' }),
  },
  {
    name: 'a wildcard grant allows an ordinary kind under paranoid trust',
    rows: rows({ subject: paranoid(), grants: [grant('w', { kind: '*' })] }),
    request: signRequest(KIND_REACTION),
    nowSec: NOW,
    expected: allow({ rule: 'grant_wildcard', grantId: 'w' }),
  },
  {
    name: 'a sign_event grant with no kind is a wildcard grant',
    rows: rows({ subject: paranoid(), grants: [grant('w')] }),
    request: signRequest(KIND_REACTION),
    nowSec: NOW,
    expected: allow({ rule: 'grant_wildcard', grantId: 'w' }),
  },
  {
    name: 'a grant one second before its deadline allows',
    rows: rows({ subject: paranoid(), grants: [grant('g', { kind: KIND_TEXT_NOTE, expiresAtSec: T })] }),
    request: signRequest(KIND_TEXT_NOTE),
    nowSec: T - 1,
    expected: allow({ rule: 'grant_exact', grantId: 'g' }),
  },
  {
    name: 'a grant at its deadline is expired with no sweep, so paranoid trust asks',
    rows: rows({ subject: paranoid(), grants: [grant('g', { kind: KIND_TEXT_NOTE, expiresAtSec: T })] }),
    request: signRequest(KIND_TEXT_NOTE),
    nowSec: T,
    expected: askParanoidKind1,
  },
  {
    name: 'a grant one second after its deadline is expired',
    rows: rows({ subject: paranoid(), grants: [grant('g', { kind: KIND_TEXT_NOTE, expiresAtSec: T })] }),
    request: signRequest(KIND_TEXT_NOTE),
    nowSec: T + 1,
    expected: askParanoidKind1,
  },
  {
    name: 'a grant one second before notBeforeSec is not yet live',
    rows: rows({ subject: paranoid(), grants: [grant('g', { kind: KIND_TEXT_NOTE, notBeforeSec: T })] }),
    request: signRequest(KIND_TEXT_NOTE),
    nowSec: T - 1,
    expected: askParanoidKind1,
  },
  {
    name: 'a grant is live at notBeforeSec',
    rows: rows({ subject: paranoid(), grants: [grant('g', { kind: KIND_TEXT_NOTE, notBeforeSec: T })] }),
    request: signRequest(KIND_TEXT_NOTE),
    nowSec: T,
    expected: allow({ rule: 'grant_exact', grantId: 'g' }),
  },
  {
    name: 'an expired exact grant falls through to a live wildcard grant',
    rows: rows({ subject: paranoid(), grants: [grant('e', { kind: KIND_TEXT_NOTE, expiresAtSec: NOW }), grant('w', { kind: '*' })] }),
    request: signRequest(KIND_TEXT_NOTE),
    nowSec: NOW,
    expected: allow({ rule: 'grant_wildcard', grantId: 'w' }),
  },
  {
    name: 'a soft-revoked grant is not live',
    rows: rows({ subject: paranoid(), grants: [grant('g', { kind: KIND_TEXT_NOTE, revokedAtSec: NOW - 5 })] }),
    request: signRequest(KIND_TEXT_NOTE),
    nowSec: NOW,
    expected: askParanoidKind1,
  },
  {
    name: 'a grant with NULL deadlines (SQLite) never expires',
    rows: rows({ subject: paranoid(), grants: [withNulls(grant('g', { kind: KIND_TEXT_NOTE }), { expiresAtSec: null, notBeforeSec: null })] }),
    request: signRequest(KIND_TEXT_NOTE),
    nowSec: NOW,
    expected: allow({ rule: 'grant_exact', grantId: 'g' }),
  },
  {
    name: "another client's grant does not apply",
    rows: rows({ subject: paranoid(), grants: [grant('g', { kind: KIND_TEXT_NOTE, clientPubkey: OTHER_CLIENT })] }),
    request: signRequest(KIND_TEXT_NOTE),
    nowSec: NOW,
    expected: askParanoidKind1,
  },
  {
    name: 'a sign_event grant with a corrupt kind (neither a number nor "*") covers nothing',
    rows: rows({ subject: paranoid(), grants: [grant('g', { kind: '1' as KindScope })] }),
    request: signRequest(KIND_TEXT_NOTE),
    nowSec: NOW,
    expected: askParanoidKind1,
  },
  {
    name: 'a grant for kind 7 does not cover kind 1',
    rows: rows({ subject: paranoid(), grants: [grant('g', { kind: KIND_REACTION })] }),
    request: signRequest(KIND_TEXT_NOTE),
    nowSec: NOW,
    expected: askParanoidKind1,
  },
  {
    name: 'a nip44_decrypt grant allows decryption under paranoid trust',
    rows: rows({ subject: paranoid(), grants: [grant('g', { method: Nip46Method.nip44Decrypt })] }),
    request: methodRequest(Nip46Method.nip44Decrypt),
    nowSec: NOW,
    expected: allow({ rule: 'grant_exact', grantId: 'g' }),
  },
  {
    name: 'a kind on a non-signing grant is ignored',
    rows: rows({ subject: paranoid(), grants: [grant('g', { method: Nip46Method.nip44Encrypt, kind: KIND_DELETION })] }),
    request: methodRequest(Nip46Method.nip44Encrypt),
    nowSec: NOW,
    expected: allow({ rule: 'grant_exact', grantId: 'g' }),
  },
  {
    name: 'a sign_event grant does not cover nip44_decrypt',
    rows: rows({ subject: paranoid(), grants: [grant('g', { kind: '*' })] }),
    request: methodRequest(Nip46Method.nip44Decrypt),
    nowSec: NOW,
    expected: ask(trust('paranoid', Nip46Method.nip44Decrypt, null)),
  },
  {
    name: 'of two usable exact grants the smaller id is named',
    rows: rows({ subject: paranoid(), grants: [grant('g-2', { kind: KIND_TEXT_NOTE }), grant('g-1', { kind: KIND_TEXT_NOTE, source: 'token' })] }),
    request: signRequest(KIND_TEXT_NOTE),
    nowSec: NOW,
    expected: allow({ rule: 'grant_exact', grantId: 'g-1' }),
  },
  {
    name: 'a grant from a redeemed token allows like an explicit one',
    rows: rows({ subject: paranoid(), grants: [grant('tok', { method: Nip46Method.getPublicKey, source: 'token' })] }),
    request: methodRequest(Nip46Method.getPublicKey),
    nowSec: NOW,
    expected: allow({ rule: 'grant_exact', grantId: 'tok' }),
  },
  {
    name: 'switch_relays under paranoid trust asks unless granted',
    rows: rows({ subject: paranoid() }),
    request: methodRequest(Nip46Method.switchRelays),
    nowSec: NOW,
    expected: ask(trust('paranoid', Nip46Method.switchRelays, null)),
  },
  {
    name: 'switch_relays under paranoid trust with a grant allows',
    rows: rows({ subject: paranoid(), grants: [grant('g', { method: Nip46Method.switchRelays })] }),
    request: methodRequest(Nip46Method.switchRelays),
    nowSec: NOW,
    expected: allow({ rule: 'grant_exact', grantId: 'g' }),
  },
];

const capped = (grantId: string, max: number, overrides: Partial<Grant> = {}): Grant =>
  grant(grantId, { kind: KIND_TEXT_NOTE, usageCap: { max, windowSec: 60 }, ...overrides });

const usageCases: VerdictCase[] = [
  {
    name: 'a capped grant used max − 1 times allows',
    rows: rows({ subject: paranoid(), grants: [capped('g', 10)], usage: new Map([['g', 9]]) }),
    request: signRequest(KIND_TEXT_NOTE),
    nowSec: NOW,
    expected: allow({ rule: 'grant_exact', grantId: 'g' }),
  },
  {
    name: 'a capped grant used exactly max times is exhausted and denies',
    rows: rows({ subject: paranoid(), grants: [capped('g', 10)], usage: new Map([['g', 10]]) }),
    request: signRequest(KIND_TEXT_NOTE),
    nowSec: NOW,
    expected: deny({ rule: 'usage_cap_exhausted', grantId: 'g' }),
  },
  {
    name: 'an exhausted exact grant is not bypassed by a live wildcard grant',
    rows: rows({ subject: paranoid(), grants: [capped('g', 2), grant('w', { kind: '*' })], usage: new Map([['g', 2]]) }),
    request: signRequest(KIND_TEXT_NOTE),
    nowSec: NOW,
    expected: deny({ rule: 'usage_cap_exhausted', grantId: 'g' }),
  },
  {
    name: 'an exhausted exact grant is not bypassed by full trust',
    rows: rows({ subject: full(), grants: [capped('g', 2)], usage: new Map([['g', 3]]) }),
    request: signRequest(KIND_TEXT_NOTE),
    nowSec: NOW,
    expected: deny({ rule: 'usage_cap_exhausted', grantId: 'g' }),
  },
  {
    name: 'an exhausted wildcard grant is not bypassed by full trust',
    rows: rows({ subject: full(), grants: [capped('w', 1, { kind: '*' })], usage: new Map([['w', 1]]) }),
    request: signRequest(KIND_REACTION),
    nowSec: NOW,
    expected: deny({ rule: 'usage_cap_exhausted', grantId: 'w' }),
  },
  {
    name: 'an exhausted grant beside an uncapped grant for the same scope still allows (grants add up)',
    rows: rows({ subject: paranoid(), grants: [capped('g-1', 1), grant('g-2', { kind: KIND_TEXT_NOTE })], usage: new Map([['g-1', 1]]) }),
    request: signRequest(KIND_TEXT_NOTE),
    nowSec: NOW,
    expected: allow({ rule: 'grant_exact', grantId: 'g-2' }),
  },
  {
    name: 'a cap of 0 never allows',
    rows: rows({ subject: full(), grants: [capped('g', 0)] }),
    request: signRequest(KIND_TEXT_NOTE),
    nowSec: NOW,
    expected: deny({ rule: 'usage_cap_exhausted', grantId: 'g' }),
  },
  {
    name: 'an expired capped grant is simply dead, not exhausted',
    rows: rows({ subject: paranoid(), grants: [capped('g', 1, { expiresAtSec: NOW })], usage: new Map([['g', 1]]) }),
    request: signRequest(KIND_TEXT_NOTE),
    nowSec: NOW,
    expected: askParanoidKind1,
  },
  {
    name: 'nip44_decrypt capped at 10 per minute allows the 10th call (T17)',
    rows: rows({ grants: [grant('dec', { method: Nip46Method.nip44Decrypt, usageCap: { max: 10, windowSec: 60 } })], usage: new Map([['dec', 9]]) }),
    request: methodRequest(Nip46Method.nip44Decrypt),
    nowSec: NOW,
    expected: allow({ rule: 'grant_exact', grantId: 'dec' }),
  },
  {
    name: 'nip44_decrypt capped at 10 per minute refuses the 11th call (T17)',
    rows: rows({ grants: [grant('dec', { method: Nip46Method.nip44Decrypt, usageCap: { max: 10, windowSec: 60 } })], usage: new Map([['dec', 10]]) }),
    request: methodRequest(Nip46Method.nip44Decrypt),
    nowSec: NOW,
    expected: deny({ rule: 'usage_cap_exhausted', grantId: 'dec' }),
  },
  {
    name: 'an exhausted wildcard grant does not affect a sensitive kind, which asks',
    rows: rows({ subject: full(), grants: [capped('w', 1, { kind: '*' })], usage: new Map([['w', 5]]) }),
    request: signRequest(KIND_METADATA),
    nowSec: NOW,
    expected: ask(trust('full', Nip46Method.signEvent, 'sensitive')),
  },
];

/** Trust level × request class, with no grant and no denial. */
const TRUST_MATRIX: Record<TrustLevel, { ordinaryKind: Verdict['decision']; sensitiveKind: Verdict['decision']; methods: Record<string, Verdict['decision']> }> = {
  paranoid: {
    ordinaryKind: 'ask',
    sensitiveKind: 'ask',
    methods: Object.fromEntries(NON_SIGNING_METHODS.map((m) => [m, 'ask'])),
  },
  reasonable: {
    ordinaryKind: 'allow',
    sensitiveKind: 'ask',
    methods: {
      connect: 'allow',
      get_public_key: 'allow',
      ping: 'allow',
      switch_relays: 'allow',
      logout: 'allow',
      nip44_encrypt: 'allow',
      nip04_encrypt: 'allow',
      nip44_decrypt: 'ask',
      nip04_decrypt: 'ask',
    },
  },
  full: {
    ordinaryKind: 'allow',
    sensitiveKind: 'ask',
    methods: Object.fromEntries(NON_SIGNING_METHODS.map((m) => [m, 'allow'])),
  },
};

const trustCases: VerdictCase[] = (['paranoid', 'reasonable', 'full'] as const).flatMap((level) => {
  const expectations = TRUST_MATRIX[level];
  const base = rows({ subject: subject({ trustLevel: level }) });
  return [
    {
      name: `${level} trust ${expectations.ordinaryKind === 'allow' ? 'allows' : 'asks for'} an ordinary kind with no grant`,
      rows: base,
      request: signRequest(KIND_TEXT_NOTE),
      nowSec: NOW,
      expected: { decision: expectations.ordinaryKind, rule: trust(level, Nip46Method.signEvent, 'ordinary') },
    },
    {
      name: `${level} trust asks for a sensitive kind with no grant`,
      rows: base,
      request: signRequest(KIND_METADATA),
      nowSec: NOW,
      expected: { decision: expectations.sensitiveKind, rule: trust(level, Nip46Method.signEvent, 'sensitive') },
    },
    ...NON_SIGNING_METHODS.map((method) => {
      const decision = expectations.methods[method];
      if (decision === undefined) throw new Error(`trust matrix misses ${method}`);
      return {
        name: `${level} trust ${decision === 'allow' ? 'allows' : 'asks for'} ${method} with no grant`,
        rows: base,
        request: methodRequest(method),
        nowSec: NOW,
        expected: { decision, rule: trust(level, method, null) },
      };
    }),
  ];
});

const sensitiveCases: VerdictCase[] = SENSITIVE_SAMPLE.flatMap((kind) => [
  {
    name: `kind ${kind} with a sign_event:* grant and full trust asks (T15)`,
    rows: rows({ subject: full(), grants: [grant('w', { kind: '*' })] }),
    request: signRequest(kind),
    nowSec: NOW,
    expected: ask(trust('full', Nip46Method.signEvent, 'sensitive')),
  },
  {
    name: `kind ${kind} with an exact sign_event:${kind} grant allows`,
    rows: rows({ subject: paranoid(), grants: [grant('w', { kind: '*' }), grant('x', { kind })] }),
    request: signRequest(kind),
    nowSec: NOW,
    expected: allow({ rule: 'grant_exact', grantId: 'x' }),
  },
]);

const cases: VerdictCase[] = [
  ...subjectCases,
  ...invalidRequestCases,
  ...denialCases,
  ...grantCases,
  ...usageCases,
  ...trustCases,
  ...sensitiveCases,
];

describe('decideVerdict (table)', () => {
  it('has unique case names', () => {
    expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length);
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    expect(decideVerdict(c.rows, c.request, c.nowSec)).toStrictEqual(c.expected);
    // Row order never matters: the reversed rows give the same verdict.
    const reversed: AclRows = { ...c.rows, grants: [...c.rows.grants].reverse(), denials: [...c.rows.denials].reverse() };
    expect(decideVerdict(reversed, c.request, c.nowSec)).toStrictEqual(c.expected);
  });
});

import type { Nip46MethodName } from '@frostbunker/shared/protocol';
import type { KindRisk } from './kind-risk.js';

/*
 * The rows the ACL store loads and hands to `decideVerdict` (DESIGN.md "Live ACL"). Plain data:
 * times are unix seconds, never `Date`s (STYLE.md 2.3 rule 4). An optional field that is absent
 * may arrive as `undefined` or as `null` (an SQLite NULL); the ACL code treats both as absent.
 */

/** The trust dial over the kind-risk classifier (Signet's `paranoid / reasonable / full`). */
export type TrustLevel = 'paranoid' | 'reasonable' | 'full';

/** A suspension is always time-boxed: in force while `now < untilSec`. */
export interface Suspension {
  untilSec: number;
  reason: string;
  /** Who suspended the subject (operator name or admin token label), for the audit trail. */
  actor: string;
}

/**
 * A client pubkey known to this identity. Subject state is checked before any grant or denial.
 * `revokedAtSec`, when present (whatever its value), revokes the subject: revocation is a fact,
 * not a schedule, so stepping the clock back can never un-revoke (see `isLive`).
 */
export interface Subject {
  clientPubkey: string;
  trustLevel: TrustLevel;
  revokedAtSec?: number;
  suspension?: Suspension;
}

/**
 * The kind scope of a `sign_event` grant or denial: one kind, or `'*'` for every kind. An absent
 * kind also means every kind (the NIP-46 perms grammar: bare `sign_event`). On any other method
 * the kind is ignored.
 */
export type KindScope = number | '*';

/** At most `max` allowed requests under one grant in any sliding window of `windowSec`. */
export interface UsageCap {
  max: number;
  windowSec: number;
}

/**
 * What a grant permits and for how long, without the subject it is bound to. A `bunker://` token
 * carries these (from its perms) and the store joins them live with the redeeming client.
 */
export interface GrantTemplate {
  method: Nip46MethodName;
  kind?: KindScope;
  /** Live from this second on (inclusive). */
  notBeforeSec?: number;
  /** Dead from this second on: at the deadline the grant is already expired. */
  expiresAtSec?: number;
  usageCap?: UsageCap;
}

/** Where a grant row came from: an operator's explicit grant, or a redeemed token's template. */
export type GrantSource = 'explicit' | 'token';

export interface Grant extends GrantTemplate {
  grantId: string;
  clientPubkey: string;
  /** A soft-revoked grant (kept for audit) is never live, whatever the value. */
  revokedAtSec?: number;
  source: GrantSource;
}

/**
 * An explicit deny. `method: '*'` denies every method. `untilSec` time-boxes it (in force while
 * `now < untilSec`, then it decays back to whatever the lower tiers say — Amber's `rejectUntil`);
 * absent means until an operator removes it.
 */
export interface Denial {
  denialId: string;
  clientPubkey: string;
  method: Nip46MethodName | '*';
  kind?: KindScope;
  untilSec?: number;
  reason: string;
  actor: string;
}

/** The part of a NIP-46 request the ACL decides on. `kind` matters only for `sign_event`. */
export interface AclRequest {
  clientPubkey: string;
  method: Nip46MethodName;
  kind?: number;
}

/**
 * Allowed requests per `grantId` inside that grant's own `usageCap.windowSec` ending now, counted
 * by the store from the request log in the transaction that inserts the new log row. A grant
 * missing from the map has been used 0 times.
 */
export type UsageCounts = ReadonlyMap<string, number>;

/** Everything the store loads for one request; rows for other clients are ignored. */
export interface AclRows {
  subject?: Subject;
  grants: readonly Grant[];
  denials: readonly Denial[];
  usage: UsageCounts;
}

export type Decision = 'allow' | 'deny' | 'ask';

/** Why a request cannot be evaluated at all. */
export type InvalidRequestProblem = 'unknown_method' | 'kind_missing' | 'kind_invalid';

/** The rule that won, named precisely enough for an audit row and an operator prompt. */
export type RuleRef =
  | { rule: 'invalid_request'; problem: InvalidRequestProblem }
  | { rule: 'unknown_subject' }
  | { rule: 'subject_revoked'; revokedAtSec: number }
  | { rule: 'subject_suspended'; untilSec: number; reason: string; actor: string }
  | { rule: 'denial'; denialId: string }
  | { rule: 'grant_exact'; grantId: string }
  | { rule: 'grant_wildcard'; grantId: string }
  | { rule: 'usage_cap_exhausted'; grantId: string }
  /** `kindRisk` is the classifier's answer for `sign_event`, null for every other method. */
  | { rule: 'trust_level'; trustLevel: TrustLevel; method: Nip46MethodName; kindRisk: KindRisk | null }
  /** The subject's trust level is none of the three (a corrupt or newer row): ask. */
  | { rule: 'default_ask' };

export type RuleName = RuleRef['rule'];

/** An expected outcome, as a value (STYLE.md 2.6 rule 1). */
export interface Verdict {
  decision: Decision;
  rule: RuleRef;
}

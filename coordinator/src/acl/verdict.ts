import { Nip46Method } from '@frostbunker/shared/protocol';
import { isInForce, isLive } from './liveness.js';
import { denialCovers, grantTier, type GrantTier } from './match.js';
import { decideTrustLevel, isTrustLevel, kindRiskOf } from './trust-level.js';
import type { AclRequest, AclRows, Grant, InvalidRequestProblem, RuleRef, UsageCounts, Verdict } from './types.js';

export type { RuleRef, Verdict } from './types.js';

/*
 * The live ACL verdict (DESIGN.md "Live ACL"): a pure function of (rows, request, now), recomputed
 * on every request and never cached as a verdict. The first tier that decides wins:
 *
 *   0. invalid request (unknown method; sign_event without an integer kind 0..65535) → deny
 *   1. no subject row for this client                                      → deny unknown_subject
 *   2. subject revoked                                                     → deny subject_revoked
 *   3. subject suspended (now < untilSec)                                  → deny subject_suspended
 *   4. an in-force denial covering the request                             → deny denial
 *   5. exact tier: a live grant for this method (sign_event: this kind)    → allow grant_exact
 *   6. wildcard tier: a live sign_event grant for every kind, ordinary kinds only
 *                                                                          → allow grant_wildcard
 *      in 5 and 6, a tier whose live grants are all at their usage cap     → deny usage_cap_exhausted
 *   7. trust level over the kind-risk classifier                           → allow or ask
 *   8. anything else (a trust level that is none of the three)             → ask default_ask
 *
 * Deny beats allow, full trust included: every deny tier comes before every allow tier.
 */

const KNOWN_METHODS: ReadonlySet<string> = new Set<string>(Object.values(Nip46Method));
const MAX_KIND = 65_535;

/**
 * Decides allow / deny / ask for one request and names the rule that won.
 *
 * Pure and total: no clock, I/O or logger; never throws for inputs of the declared types; the
 * answer does not depend on row order (where several rows qualify, the smallest id is named).
 * Rows whose `clientPubkey` is not the request's are ignored.
 *
 * @example decideVerdict({ subject, grants: [], denials: [], usage: new Map() }, { clientPubkey, method: 'ping' }, nowSec)
 */
export function decideVerdict(rows: AclRows, request: AclRequest, nowSec: number): Verdict {
  const problem = findRequestProblem(request);
  if (problem !== null) return deny({ rule: 'invalid_request', problem });
  const { clientPubkey, method } = request;
  // Validated above: a sign_event request carries an integer kind; other methods ignore it.
  const kind = request.kind ?? 0;

  // NIP-46 connect from an unknown client is token redemption, not an ACL question: the caller
  // redeems the token (which creates the subject) and never asks the verdict first.
  const { subject } = rows;
  if (subject == null || subject.clientPubkey !== clientPubkey) return deny({ rule: 'unknown_subject' });
  if (subject.revokedAtSec != null) return deny({ rule: 'subject_revoked', revokedAtSec: subject.revokedAtSec });
  const { suspension } = subject;
  if (suspension != null && isInForce(suspension, nowSec)) {
    const { untilSec, reason, actor } = suspension;
    return deny({ rule: 'subject_suspended', untilSec, reason, actor });
  }

  const denial = smallestBy(
    rows.denials.filter((d) => d.clientPubkey === clientPubkey && denialCovers(d, request) && isInForce(d, nowSec)),
    (d) => d.denialId,
  );
  if (denial !== undefined) return deny({ rule: 'denial', denialId: denial.denialId });

  const riskOfKind = kindRiskOf(method, kind);
  const mine = rows.grants.filter((g) => g.clientPubkey === clientPubkey);
  const tiers: GrantTier[] = riskOfKind === 'sensitive' ? ['exact'] : ['exact', 'wildcard'];
  for (const tier of tiers) {
    const covering = mine.filter((g) => grantTier(g, request) === tier);
    const verdict = decideGrantTier(tier, covering, rows.usage, nowSec);
    if (verdict !== null) return verdict;
  }

  if (!isTrustLevel(subject.trustLevel)) return { decision: 'ask', rule: { rule: 'default_ask' } };
  const { trustLevel } = subject;
  const decision = decideTrustLevel(trustLevel, method, kind);
  return { decision, rule: { rule: 'trust_level', trustLevel, method, kindRisk: riskOfKind } };
}

/**
 * One grant tier: a usable grant allows (grants are additive: a cap bounds only its own grant);
 * if every live grant in the tier is at its cap, deny — a cap is never bypassed by a lower tier
 * (a wildcard grant or the trust level), which is what makes "the 11th call is refused" hold
 * (RELIABILITY.md T17). A tier with no live grant (all expired, not yet valid or revoked) does
 * not decide: dead rows have no effect, exactly as if a sweep had deleted them.
 */
function decideGrantTier(tier: GrantTier, grants: readonly Grant[], usage: UsageCounts, nowSec: number): Verdict | null {
  const live = grants.filter((g) => isLive(g, nowSec));
  const usable = smallestBy(
    live.filter((g) => !isCapReached(g, usage)),
    (g) => g.grantId,
  );
  if (usable !== undefined) {
    const rule: RuleRef =
      tier === 'exact' ? { rule: 'grant_exact', grantId: usable.grantId } : { rule: 'grant_wildcard', grantId: usable.grantId };
    return { decision: 'allow', rule };
  }
  const exhausted = smallestBy(live, (g) => g.grantId);
  if (exhausted !== undefined) return deny({ rule: 'usage_cap_exhausted', grantId: exhausted.grantId });
  return null;
}

/** At the cap (`used ≥ max`) the grant is spent. Negated so a NaN count or max counts as spent. */
function isCapReached(grant: Grant, usage: UsageCounts): boolean {
  if (grant.usageCap == null) return false;
  const used = usage.get(grant.grantId) ?? 0;
  return !(used < grant.usageCap.max);
}

function findRequestProblem(request: AclRequest): InvalidRequestProblem | null {
  if (!KNOWN_METHODS.has(request.method)) return 'unknown_method';
  if (request.method !== Nip46Method.signEvent) return null;
  const { kind } = request;
  if (kind == null) return 'kind_missing';
  return Number.isInteger(kind) && kind >= 0 && kind <= MAX_KIND ? null : 'kind_invalid';
}

/** The row with the smallest key (UTF-16 code-unit order, locale independent), for determinism. */
function smallestBy<T>(rows: readonly T[], key: (row: T) => string): T | undefined {
  let best: T | undefined;
  for (const row of rows) {
    if (best === undefined || key(row) < key(best)) best = row;
  }
  return best;
}

function deny(rule: RuleRef): Verdict {
  return { decision: 'deny', rule };
}

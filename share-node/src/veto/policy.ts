import type { UnsignedEventMessage } from '@frostbunker/shared/protocol';
import { decideContentRules } from './content-rules.js';
import { deepFreeze } from './deep-freeze.js';
import type { VetoPolicy } from './policy-schema.js';
import { boundReason } from './reason.js';
import type { RuleObjection, RuleVerdict, VetoContext, VetoDecision, VetoRule } from './rule.js';

export type { VetoContext, VetoDecision } from './rule.js';

type BuiltInCheck = (event: UnsignedEventMessage, policy: VetoPolicy, ctx: VetoContext) => RuleObjection | undefined;

/**
 * Decides whether this share node co-signs `event`; a pure function of its arguments (STYLE.md
 * 2.7: the clock comes in as `ctx.nowSec`, counts from the shell's log, no I/O, no logger).
 *
 * Rules run in this order, and the first deny wins; otherwise the first ask; otherwise allow:
 * 1. `created_at_window`: `created_at` more than `createdAtWindowSec` from `ctx.nowSec`;
 * 2. `denied_kind`: the kind is in `deniedKinds`;
 * 3. `rate_limit_minute` / `_hour` / `_day`: signing this event would exceed a limit;
 * 4. content rules: `encryption_key_event` (NIP-4e 10044/4454/4455), `http_auth_url` (NIP-98
 *    27235), `deletion_count` (kind 5), `contact_list_drop` / `contact_list_no_baseline` (kind 3);
 * 5. custom rules in order, as `plugin:<name>` (a throw or a malformed verdict is a deny);
 * 6. `ask_kind`: the kind is in `askKinds`.
 *
 * A rule's `allow` only means "no objection": no rule can lift another rule's deny or ask, so
 * plugins can tighten the policy and never loosen it. Relay AUTH (22242) is not special here: the
 * coordinator ACL gates it (see examples/POLICY.md).
 *
 * @example
 * decideVeto(event, DEFAULT_VETO_POLICY, { nowSec, approvedCounts }, rules)
 * // { decision: 'deny', rule: 'denied_kind', reason: 'kind 24133 is denied by this node' }
 */
export function decideVeto(
  event: UnsignedEventMessage,
  policy: VetoPolicy,
  ctx: VetoContext,
  customRules: readonly VetoRule[] = [],
): VetoDecision {
  let firstAsk: RuleObjection | undefined;
  for (const objection of objectionsInOrder(event, policy, ctx, customRules)) {
    if (objection.decision === 'deny') return objection;
    firstAsk ??= objection;
  }
  return firstAsk ?? { decision: 'allow' };
}

/** Lazily, so that rules after the first deny never run. */
function* objectionsInOrder(
  event: UnsignedEventMessage,
  policy: VetoPolicy,
  ctx: VetoContext,
  customRules: readonly VetoRule[],
): Generator<RuleObjection> {
  for (const check of CHECKS_BEFORE_PLUGINS) {
    const objection = check(event, policy, ctx);
    if (objection !== undefined) yield objection;
  }
  if (customRules.length > 0) {
    // Plugins get frozen copies: they cannot edit what the node signs, nor what later rules see.
    const frozenEvent = deepFreeze(structuredClone(event));
    const frozenCtx = deepFreeze(structuredClone(ctx));
    for (const rule of customRules) {
      const objection = evaluateCustomRule(rule, frozenEvent, frozenCtx);
      if (objection !== undefined) yield objection;
    }
  }
  const askKind = decideAskKind(event, policy, ctx);
  if (askKind !== undefined) yield askKind;
}

const decideCreatedAtWindow: BuiltInCheck = (event, policy, ctx) => {
  const skewSec = event.created_at - ctx.nowSec;
  if (Math.abs(skewSec) <= policy.createdAtWindowSec) return undefined;
  const direction = skewSec > 0 ? 'ahead of' : 'behind';
  return {
    decision: 'deny',
    rule: 'created_at_window',
    reason: `created_at is ${Math.abs(skewSec)} s ${direction} the node clock (max ${policy.createdAtWindowSec} s)`,
  };
};

const decideDeniedKind: BuiltInCheck = (event, policy) =>
  policy.deniedKinds.includes(event.kind)
    ? { decision: 'deny', rule: 'denied_kind', reason: `kind ${event.kind} is denied by this node` }
    : undefined;

const RATE_WINDOWS = [
  { rule: 'rate_limit_minute', count: 'lastMinute', limit: 'perMinute', label: 'minute' },
  { rule: 'rate_limit_hour', count: 'lastHour', limit: 'perHour', label: 'hour' },
  { rule: 'rate_limit_day', count: 'lastDay', limit: 'perDay', label: 'day' },
] as const;

/** Counts are of events already approved, so this one is allowed while count + 1 ≤ limit. */
const decideRateLimits: BuiltInCheck = (_event, policy, ctx) => {
  for (const window of RATE_WINDOWS) {
    const approved = ctx.approvedCounts[window.count];
    const limit = policy.rateLimits[window.limit];
    if (approved + 1 > limit) {
      return {
        decision: 'deny',
        rule: window.rule,
        reason: `rate limit: ${approved} events approved in the last ${window.label} (max ${limit} per ${window.label})`,
      };
    }
  }
  return undefined;
};

const decideAskKind: BuiltInCheck = (event, policy) =>
  policy.askKinds.includes(event.kind)
    ? { decision: 'ask', rule: 'ask_kind', reason: `kind ${event.kind} needs the node operator's approval` }
    : undefined;

const CHECKS_BEFORE_PLUGINS: readonly BuiltInCheck[] = [decideCreatedAtWindow, decideDeniedKind, decideRateLimits, decideContentRules];

/** Runs one plugin rule and fails closed: a throw or anything but a well-formed verdict denies. */
function evaluateCustomRule(rule: VetoRule, event: UnsignedEventMessage, ctx: VetoContext): RuleObjection | undefined {
  let name = '?';
  let verdict: unknown;
  try {
    name = boundReason(String(rule.name), 64);
    verdict = rule.evaluate(event, ctx);
  } catch {
    return { decision: 'deny', rule: `plugin:${name}`, reason: `rule ${name} failed` };
  }
  // An async rule is a deny (below); if its promise later rejects, that must not crash the node.
  if (isPromiseLike(verdict)) verdict.then(undefined, () => undefined);
  const checked = checkVerdict(verdict);
  if (checked === undefined) return { decision: 'deny', rule: `plugin:${name}`, reason: `rule ${name} failed (invalid verdict)` };
  if (checked.decision === 'allow') return undefined;
  return { decision: checked.decision, rule: `plugin:${name}`, reason: boundReason(checked.reason) };
}

function checkVerdict(value: unknown): RuleVerdict | undefined {
  if (typeof value !== 'object' || value === null || !('decision' in value)) return undefined;
  const { decision } = value;
  if (decision === 'allow') return { decision };
  if (decision !== 'deny' && decision !== 'ask') return undefined;
  const reason = 'reason' in value && typeof value.reason === 'string' && value.reason.trim() !== '' ? value.reason : `${decision} without a reason`;
  return { decision, reason };
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && 'then' in value && typeof value.then === 'function';
}

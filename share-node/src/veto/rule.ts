import type { UnsignedEventMessage } from '@frostbunker/shared/protocol';

/** What a veto rule sees besides the event; the shell fills it, the rules never do I/O. */
export interface VetoContext {
  /** The node clock, unix seconds. Rules use this, never Date.now(). */
  nowSec: number;
  /** Distinct events this node agreed to sign (committed nonces for) in the trailing windows, from its own log. */
  approvedCounts: { lastMinute: number; lastHour: number; lastDay: number };
  /** Follow list (p-tag pubkeys) of the latest kind 3 this node signed, if any. */
  latestContactListFollows?: readonly string[];
}

/** One rule's answer. `allow` means "no objection": it never overrides another rule's deny or ask. */
export type RuleVerdict = { decision: 'allow' } | { decision: 'deny'; reason: string } | { decision: 'ask'; reason: string };

/**
 * A custom veto rule (plugin). `evaluate` must be synchronous and pure: it gets a frozen copy of
 * the event and context, and a throw or a malformed verdict counts as a deny (fail closed).
 */
export interface VetoRule {
  /** Shown as `plugin:<name>` in refusals and logs: letters, digits, `.`, `_`, `-`. */
  readonly name: string;
  evaluate(event: UnsignedEventMessage, ctx: VetoContext): RuleVerdict;
}

/** The node's decision; `rule` names the rule that decided, `reason` is one sentence ≤ 200 chars. */
export type VetoDecision =
  | { decision: 'allow' }
  | { decision: 'deny'; rule: string; reason: string }
  | { decision: 'ask'; rule: string; reason: string };

/** A non-allow outcome of one rule, before deny-beats-ask is applied. */
export type RuleObjection = Exclude<VetoDecision, { decision: 'allow' }>;

import type { UnsignedEventMessage } from '@frostbunker/shared/protocol';
import {
  KIND_CLIENT_KEY_ANNOUNCEMENT,
  KIND_CONTACTS,
  KIND_DELETION,
  KIND_ENCRYPTION_KEY,
  KIND_ENCRYPTION_KEY_SHARE,
  KIND_HTTP_AUTH,
} from '@frostbunker/shared/nostr';
import type { VetoPolicy } from './policy-schema.js';
import { boundReason } from './reason.js';
import type { RuleObjection, VetoContext } from './rule.js';

/**
 * Tags holding the key material of each NIP-4e event. 10044 announces the encryption key (`n`);
 * 4454 announces a client key (`pubkey`; some clients write `P`); 4455 sends the encryption key
 * to the client key in `p` (its `P` is a throwaway sender key, so it is not checked).
 */
const KEY_TAGS_BY_KIND: ReadonlyMap<number, readonly string[]> = new Map([
  [KIND_ENCRYPTION_KEY, ['n']],
  [KIND_CLIENT_KEY_ANNOUNCEMENT, ['pubkey', 'P']],
  [KIND_ENCRYPTION_KEY_SHARE, ['p']],
]);

/** Built-in content rules; each applies to its own kinds, so at most one has something to say. */
export function decideContentRules(event: UnsignedEventMessage, policy: VetoPolicy, ctx: VetoContext): RuleObjection | undefined {
  if (KEY_TAGS_BY_KIND.has(event.kind)) return decideEncryptionKeyEvent(event, policy);
  if (event.kind === KIND_HTTP_AUTH) return decideHttpAuth(event, policy);
  if (event.kind === KIND_DELETION) return decideDeletion(event, policy);
  if (event.kind === KIND_CONTACTS) return decideContactList(event, policy, ctx);
  return undefined;
}

/** NIP-4e: a key the operator did not list would let its holder read the user's encrypted data. */
function decideEncryptionKeyEvent(event: UnsignedEventMessage, policy: VetoPolicy): RuleObjection | undefined {
  const keyTags = KEY_TAGS_BY_KIND.get(event.kind) ?? [];
  const keys = tagValues(event, keyTags);
  const deny = (reason: string): RuleObjection => ({ decision: 'deny', rule: 'encryption_key_event', reason: boundReason(reason) });
  if (keys.length === 0) return deny(`kind ${event.kind} names no key (${keyTags.join('/')} tag)`);
  const allowed = new Set(policy.encryptionKeyEvents.allowedPubkeys);
  // The smallest unlisted key is named, so the reason does not depend on tag order.
  const unlisted = keys.filter((key) => !allowed.has(key)).sort()[0];
  if (unlisted !== undefined) {
    return deny(`kind ${event.kind} names key ${shortKey(unlisted)}, not in encryptionKeyEvents.allowedPubkeys`);
  }
  return undefined;
}

/** NIP-98: exactly one `u` tag, under an allowed prefix. */
function decideHttpAuth(event: UnsignedEventMessage, policy: VetoPolicy): RuleObjection | undefined {
  const urls = tagValues(event, ['u']);
  const deny = (reason: string): RuleObjection => ({ decision: 'deny', rule: 'http_auth_url', reason: boundReason(reason) });
  if (urls.length === 0) return deny(`kind ${event.kind} has no u tag`);
  if (urls.length > 1) return deny(`kind ${event.kind} has ${urls.length} u tags, NIP-98 allows one`);
  const url = urls[0]!;
  if (!policy.httpAuth.allowedUrlPrefixes.some((prefix) => isUnderUrlPrefix(url, prefix))) {
    return deny(`kind ${event.kind} for ${boundReason(url, 100)} is not under httpAuth.allowedUrlPrefixes`);
  }
  return undefined;
}

/**
 * Prefix match on a URL boundary: `https://a.example/api` covers `…/api`, `…/api/x`, `…/api?q`,
 * but not `…/apiary` nor `https://a.example.evil.net` nor `https://a.example@evil.net`.
 */
export function isUnderUrlPrefix(url: string, prefix: string): boolean {
  if (!url.startsWith(prefix)) return false;
  if (url.length === prefix.length || /[/?#]$/.test(prefix)) return true;
  return '/?#'.includes(url[prefix.length]!);
}

/** NIP-09: a mass deletion wipes history on every relay that honours it. Targets are e and a tags. */
function decideDeletion(event: UnsignedEventMessage, policy: VetoPolicy): RuleObjection | undefined {
  const targets = new Set(event.tags.filter((tag) => (tag[0] === 'e' || tag[0] === 'a') && tag[1] !== undefined).map((tag) => `${tag[0]}:${tag[1]}`));
  if (targets.size <= policy.deletion.maxEvents) return undefined;
  return {
    decision: 'deny',
    rule: 'deletion_count',
    reason: `kind ${event.kind} deletes ${targets.size} events (max ${policy.deletion.maxEvents})`,
  };
}

/**
 * NIP-02: kind 3 is replaceable, so a partial or empty list (a classic client bug, or a hijack)
 * replaces every follow at once. Compared with the latest kind 3 this node signed.
 */
function decideContactList(event: UnsignedEventMessage, policy: VetoPolicy, ctx: VetoContext): RuleObjection | undefined {
  if (ctx.latestContactListFollows === undefined) {
    return {
      decision: 'ask',
      rule: 'contact_list_no_baseline',
      reason: `no earlier kind ${event.kind} signed by this node to compare the follow list with`,
    };
  }
  const follows = new Set(tagValues(event, ['p']));
  const baseline = new Set(ctx.latestContactListFollows);
  let dropped = 0;
  for (const pubkey of baseline) if (!follows.has(pubkey)) dropped += 1;
  const maxPercent = policy.contactList.maxDropPercent;
  // Integer-side comparison: dropped/size > max/100 without rounding at the edge.
  if (dropped * 100 <= maxPercent * baseline.size) return undefined;
  const percent = Math.round((dropped * 1000) / baseline.size) / 10;
  return {
    decision: 'deny',
    rule: 'contact_list_drop',
    reason: `kind ${event.kind} drops ${dropped} of ${baseline.size} follows (${percent}%, max ${maxPercent}%)`,
  };
}

/** `0123abcd…6789cdef`: enough for an operator to recognise a key, short enough for a refusal. */
function shortKey(value: string): string {
  const clean = boundReason(value, 64);
  return clean.length <= 20 ? clean : `${clean.slice(0, 8)}…${clean.slice(-8)}`;
}

function tagValues(event: UnsignedEventMessage, names: readonly string[]): string[] {
  const values: string[] = [];
  for (const tag of event.tags) {
    const [name, value] = tag;
    if (name !== undefined && value !== undefined && names.includes(name)) values.push(value);
  }
  return values;
}

// Example veto rule plugin for a frostbunker share node: plain ESM JavaScript, no dependencies.
// List it in policy.json as "plugins": ["veto-plugin/link-guard.mjs"] (relative to policy.json).
//
// A plugin exports `rules`: an array of { name, evaluate(event, ctx) }. `evaluate` is synchronous
// and pure; it returns { decision: 'allow' } (no objection), { decision: 'deny', reason } or
// { decision: 'ask', reason } (the operator approves). It reads the time from ctx.nowSec, never
// from Date.now(). A throw, or anything else returned, counts as a deny.
//
// event: { pubkey, created_at, kind, tags, content } (the exact event the node would co-sign)
// ctx:   { nowSec, signedCounts: { lastMinute, lastHour, lastDay }, latestContactListFollows? }

const KIND_TEXT_NOTE = 1;
const URL_PATTERN = /\bhttps?:\/\/[^\s<>"']+/gi;
const SECONDS_PER_DAY = 86_400;
const SECONDS_PER_HOUR = 3_600;

/** Number of http(s) links in a note's content. */
export function countLinks(content) {
  return content.match(URL_PATTERN)?.length ?? 0;
}

/**
 * Builds the two rules with your own numbers:
 * - `max-links`: deny a kind-1 note with more than `maxLinks` links (link spam from a hijacked client);
 * - `quiet-hours-links`: ask before a kind-1 note with any link is signed between
 *   `quietFromHourUtc` and `quietToHourUtc` (UTC, node clock), when the owner is usually asleep.
 */
export function createLinkGuardRules({ maxLinks = 3, quietFromHourUtc = 0, quietToHourUtc = 6 } = {}) {
  const maxLinksRule = {
    name: 'max-links',
    evaluate(event) {
      if (event.kind !== KIND_TEXT_NOTE) return { decision: 'allow' };
      const links = countLinks(event.content);
      if (links <= maxLinks) return { decision: 'allow' };
      return { decision: 'deny', reason: `kind 1 note has ${links} links (max ${maxLinks})` };
    },
  };
  const quietHoursRule = {
    name: 'quiet-hours-links',
    evaluate(event, ctx) {
      if (event.kind !== KIND_TEXT_NOTE || countLinks(event.content) === 0) return { decision: 'allow' };
      const hourUtc = Math.floor((ctx.nowSec % SECONDS_PER_DAY) / SECONDS_PER_HOUR);
      if (!isWithinHours(hourUtc, quietFromHourUtc, quietToHourUtc)) return { decision: 'allow' };
      return { decision: 'ask', reason: `kind 1 note with a link at ${hourUtc}:xx UTC (quiet hours ${quietFromHourUtc}-${quietToHourUtc})` };
    },
  };
  return [maxLinksRule, quietHoursRule];
}

/** [from, to) in hours, wrapping past midnight when from > to (e.g. 22 to 6). */
function isWithinHours(hour, from, to) {
  return from <= to ? hour >= from && hour < to : hour >= from || hour < to;
}

export const rules = createLinkGuardRules();

/*
 * The time predicates of the live ACL. Deadlines are absolute unix seconds stored on the row and
 * compared with `now` on every use; a periodic sweep, if any, is cleanup only and never needed
 * for correctness (Amber's `acceptUntil > now()`, seeds/004 "patterns worth stealing").
 *
 * Both predicates fail closed on a malformed bound (NaN): a grant or token is then dead, a
 * denial or suspension stays in force. Absent means `undefined` or `null` (SQLite NULL).
 */

/** The lifecycle fields shared by grants and connection tokens. */
export interface LifecycleBounds {
  notBeforeSec?: number | null;
  expiresAtSec?: number | null;
  revokedAtSec?: number | null;
}

/**
 * THE liveness predicate: one function serves token redemption and request-time grant checks, so
 * the two can never drift (seeds/004: "Single predicate `grantIsLive(now)` used at both redeem
 * and sign time").
 *
 * Live iff `notBeforeSec ≤ nowSec < expiresAtSec` and not revoked:
 * - at `notBeforeSec` the row is live (inclusive start);
 * - at `expiresAtSec` the row is already expired (exclusive end), so T − 1 s is live and T is not;
 * - `revokedAtSec`, when present, kills the row whatever its value: a revocation is a recorded
 *   fact, and a wall clock stepped back must not resurrect it.
 *
 * @example isLive({ expiresAtSec: 100 }, 99) === true; isLive({ expiresAtSec: 100 }, 100) === false
 */
export function isLive(row: LifecycleBounds, nowSec: number): boolean {
  if (row.revokedAtSec != null) return false;
  // Written as positive comparisons so that NaN anywhere makes the row dead.
  const started = row.notBeforeSec == null || row.notBeforeSec <= nowSec;
  const notExpired = row.expiresAtSec == null || nowSec < row.expiresAtSec;
  return started && notExpired && !Number.isNaN(nowSec);
}

/**
 * Whether a time-boxed restriction (a denial's or a suspension's `untilSec`) is still in force:
 * iff `untilSec` is absent or `nowSec < untilSec` — the same exclusive end as `isLive`, so at
 * `untilSec` the restriction has lapsed and at `untilSec − 1` it holds.
 */
export function isInForce(row: { untilSec?: number | null }, nowSec: number): boolean {
  if (row.untilSec == null) return true;
  // Negated so that NaN (in the bound or in now) keeps the restriction in force.
  return !(nowSec >= row.untilSec);
}

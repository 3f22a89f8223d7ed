import { Nip46Method } from '@frostbunker/shared/protocol';
import type { AclRequest, Denial, Grant, KindScope } from './types.js';

/*
 * Which grant and denial rows cover a request, by scope only (method and kind). Time and usage
 * are decided elsewhere (`liveness.ts`, `verdict.ts`). The caller has already checked that the
 * row and the request belong to the same client and that a `sign_event` request carries a valid
 * kind.
 *
 * The kind is a `sign_event` parameter: on every other method it is ignored, for grants and
 * denials alike (so a denial `{ method: '*', kind: 5 }` also denies every non-signing method —
 * over-denying a nonsensical row is the safe reading).
 */

/** The grant tiers, consulted in this order (DESIGN.md: exact kind before wildcard, explicitly). */
export type GrantTier = 'exact' | 'wildcard';

/** Absent or `'*'`: every kind. Anything that is neither a number nor `'*'` matches nothing. */
export function isWildcardKind(kind: KindScope | null | undefined): boolean {
  return kind == null || kind === '*';
}

/**
 * The tier in which a grant covers a request, or null if it does not cover it. A grant for any
 * method other than `sign_event` covers the request in the exact tier (it names the method
 * exactly; there is no method wildcard in the perms grammar).
 */
export function grantTier(grant: Grant, request: AclRequest): GrantTier | null {
  if (grant.method !== request.method) return null;
  if (request.method !== Nip46Method.signEvent) return 'exact';
  if (typeof grant.kind === 'number') return grant.kind === request.kind ? 'exact' : null;
  return isWildcardKind(grant.kind) ? 'wildcard' : null;
}

/** Whether a denial's scope covers a request (a `'*'` method denies every method). */
export function denialCovers(denial: Denial, request: AclRequest): boolean {
  if (denial.method !== '*' && denial.method !== request.method) return false;
  if (request.method !== Nip46Method.signEvent) return true;
  if (typeof denial.kind === 'number') return denial.kind === request.kind;
  // Fail closed: a kind that is neither a number nor '*' (a corrupt row) denies every kind.
  return true;
}

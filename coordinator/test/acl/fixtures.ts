import { Nip46Method, type Nip46MethodName } from '@frostbunker/shared/protocol';
import type { AclRequest, AclRows, Denial, Grant, Subject } from '../../src/acl/types.js';

/** Row builders shared by the ACL table and property tests. */

export const NOW = 1_800_000_000;
export const CLIENT = '3'.repeat(64);
export const OTHER_CLIENT = '4'.repeat(64);

export const ALL_METHODS: readonly Nip46MethodName[] = Object.values(Nip46Method);
export const NON_SIGNING_METHODS: readonly Nip46MethodName[] = ALL_METHODS.filter((m) => m !== Nip46Method.signEvent);

export function subject(overrides: Partial<Subject> = {}): Subject {
  return { clientPubkey: CLIENT, trustLevel: 'reasonable', ...overrides };
}

export function grant(grantId: string, overrides: Partial<Grant> = {}): Grant {
  return { grantId, clientPubkey: CLIENT, method: Nip46Method.signEvent, source: 'explicit', ...overrides };
}

export function denial(denialId: string, overrides: Partial<Denial> = {}): Denial {
  return { denialId, clientPubkey: CLIENT, method: '*', reason: 'operator said no', actor: 'alice', ...overrides };
}

/** Rows for CLIENT with a reasonable-trust subject unless overridden. */
export function rows(overrides: Partial<AclRows> = {}): AclRows {
  return { subject: subject(), grants: [], denials: [], usage: new Map(), ...overrides };
}

export function signRequest(kind: number, clientPubkey = CLIENT): AclRequest {
  return { clientPubkey, method: Nip46Method.signEvent, kind };
}

export function methodRequest(method: Nip46MethodName, clientPubkey = CLIENT): AclRequest {
  return { clientPubkey, method };
}

/**
 * The fast-check seed for this run: FC_SEED if set (to replay a failure), else a fresh random one.
 * Printed either way, so a CI log always carries what it takes to reproduce (RELIABILITY.md G15).
 */
export function fastCheckSeed(label: string): number {
  const fromEnv = process.env.FC_SEED;
  const seed = fromEnv === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(fromEnv);
  if (!Number.isSafeInteger(seed)) throw new Error(`FC_SEED must be an integer, got ${JSON.stringify(fromEnv)}`);
  console.log(`${label}: fast-check seed ${seed} (replay with FC_SEED=${seed})`);
  return seed;
}

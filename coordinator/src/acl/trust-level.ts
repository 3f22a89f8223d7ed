import { Nip46Method, type Nip46MethodName } from '@frostbunker/shared/protocol';
import { classifyKind, type KindRisk } from './kind-risk.js';
import type { TrustLevel } from './types.js';

/*
 * The trust dial: what a live, unrestricted subject may do with no grant covering the request.
 * It is the last tier before "ask" (DESIGN.md Live ACL), so it never denies: at worst it asks.
 *
 * | trust      | ordinary kinds | sensitive kinds | low-risk methods | decryption |
 * |------------|----------------|-----------------|------------------|------------|
 * | paranoid   | ask            | ask             | ask              | ask        |
 * | reasonable | allow          | ask             | allow            | ask        |
 * | full       | allow          | ask             | allow            | allow      |
 *
 * Sensitive kinds ask at every level: only an exact-kind grant signs them (RELIABILITY.md T15).
 */

export const TRUST_LEVELS: readonly TrustLevel[] = ['paranoid', 'reasonable', 'full'];

/**
 * Methods a `reasonable` subject may call without a grant. None of them exercises the
 * identity's signing share or reveals anything secret: `connect` and `logout` only manage the
 * session, `ping` answers "pong", `get_public_key` returns the public npub, `switch_relays`
 * returns the bunker's own list (it never accepts one, RELIABILITY.md §2.4), and encryption only
 * produces ciphertext *to* a peer.
 */
export const LOW_RISK_METHODS: ReadonlySet<Nip46MethodName> = new Set([
  Nip46Method.connect,
  Nip46Method.getPublicKey,
  Nip46Method.ping,
  Nip46Method.switchRelays,
  Nip46Method.logout,
  Nip46Method.nip44Encrypt,
  Nip46Method.nip04Encrypt,
]);

/**
 * Decryption is an oracle over every ciphertext ever sent to this identity (RELIABILITY.md T17):
 * below full trust it needs a per-method grant (which can carry a usage cap).
 */
export const DECRYPTION_METHODS: ReadonlySet<Nip46MethodName> = new Set([
  Nip46Method.nip44Decrypt,
  Nip46Method.nip04Decrypt,
]);

export function isTrustLevel(value: unknown): value is TrustLevel {
  return typeof value === 'string' && (TRUST_LEVELS as readonly string[]).includes(value);
}

/** The kind risk of a request: the classifier's answer for `sign_event`, null for other methods. */
export function kindRiskOf(method: Nip46MethodName, kind: number): KindRisk | null {
  return method === Nip46Method.signEvent ? classifyKind(kind) : null;
}

/**
 * What the trust level alone says about a request no grant covers: `allow` or `ask`, never deny.
 * `kind` is read only for `sign_event` and must already be validated.
 *
 * @example decideTrustLevel('full', 'sign_event', 0) === 'ask' // kind 0 is sensitive
 */
export function decideTrustLevel(trustLevel: TrustLevel, method: Nip46MethodName, kind: number): 'allow' | 'ask' {
  if (trustLevel === 'paranoid') return 'ask';
  if (method === Nip46Method.signEvent) return classifyKind(kind) === 'ordinary' ? 'allow' : 'ask';
  if (LOW_RISK_METHODS.has(method)) return 'allow';
  if (DECRYPTION_METHODS.has(method)) return trustLevel === 'full' ? 'allow' : 'ask';
  // A method added to Nip46Method but not classified here: ask until someone classifies it.
  return 'ask';
}

import { z } from 'zod';
import { ConfigError } from '@frostbunker/shared/errors';
import { WINDOWS } from '@frostbunker/shared/protocol';
import { deepFreeze } from './deep-freeze.js';
import {
  KIND_CASHU_HISTORY,
  KIND_CASHU_QUOTE,
  KIND_CASHU_TOKEN,
  KIND_CASHU_WALLET,
  KIND_CLIENT_AUTH,
  KIND_METADATA,
  KIND_NIP46,
  KIND_NUTZAP_INFO,
  KIND_NWC_NOTIFICATION,
  KIND_NWC_NOTIFICATION_NIP04,
  KIND_NWC_REQUEST,
  KIND_NWC_RESPONSE,
  KIND_RELAY_LIST,
  KIND_ZAP_REQUEST,
} from '@frostbunker/shared/nostr';

/**
 * Never co-signed. A kind-24133 event signed by the user identity could pose as the bunker (or
 * one of its clients) on the NIP-46 channel; frostbunker's transport key signs those, never x(Q).
 */
const DEFAULT_DENIED_KINDS = [KIND_NIP46];

/**
 * Co-signed only after the node operator approves. Each is replaceable or moves money, so one
 * forged signature does lasting harm:
 */
const DEFAULT_ASK_KINDS = [
  KIND_METADATA, // profile: a new lud16 redirects zaps, a new nip05 or name impersonates; replaceable
  KIND_RELAY_LIST, // NIP-65: points every follower's client at other relays, hiding the real notes
  KIND_NWC_REQUEST, // NIP-47: a request signed by the user can spend from a wallet that trusts x(Q)
  KIND_NWC_RESPONSE, // NIP-47: forged wallet answers (payment "done") to the user's apps
  KIND_NWC_NOTIFICATION_NIP04, // NIP-47: forged payment notifications
  KIND_NWC_NOTIFICATION, // NIP-47: forged payment notifications
  KIND_CASHU_QUOTE, // NIP-60: mint quote state of the user's ecash wallet
  KIND_CASHU_TOKEN, // NIP-60: unspent proofs; a forged or replaced token event loses or hides ecash
  KIND_CASHU_HISTORY, // NIP-60: spending history the wallet trusts
  KIND_CASHU_WALLET, // NIP-60: the wallet (mints, wallet key): replacing it swaps the whole wallet
  KIND_NUTZAP_INFO, // NIP-61: where nutzaps go; replacing it sends incoming payments elsewhere
  KIND_ZAP_REQUEST, // NIP-57: a payment request in the user's name
  KIND_CLIENT_AUTH, // NIP-42: relay AUTH as the user opens AUTH-gated relays (DMs) to whoever holds the socket (RELIABILITY.md 2.1)
];

const kindSchema = z.number().int().min(0).max(65_535);
const limitSchema = z.number().int().min(0);
const pubkeyHexSchema = z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 lowercase hex characters');
/** An http(s) URL prefix with a host; `decideVeto` matches it on a URL boundary. */
const urlPrefixSchema = z
  .string()
  .max(2_048)
  .regex(/^https?:\/\/[^/?#\s]+[^\s]*$/, 'expected an http(s) URL prefix with a host, e.g. "https://example.com/api/"');

/**
 * One share node's veto policy file. Every field has a default, so `{}` is the default policy;
 * unknown fields are refused (a misspelt rule must not silently fall back to its default).
 * Lists replace their default: `deniedKinds: [1]` no longer denies 24133 unless listed.
 */
export const vetoPolicySchema = z.strictObject({
  v: z.literal(1).default(1),
  deniedKinds: z.array(kindSchema).max(1_000).default(() => [...DEFAULT_DENIED_KINDS]),
  askKinds: z.array(kindSchema).max(1_000).default(() => [...DEFAULT_ASK_KINDS]),
  /**
   * `created_at` within ± this of the node clock; capped at WINDOWS.eventCreatedAtSec (RELIABILITY.md
   * §4: ±10 min), since back-dated events rewrite history and future-dated replaceables stick.
   */
  createdAtWindowSec: z
    .number()
    .int()
    .min(1)
    .max(WINDOWS.eventCreatedAtSec, `at most ${WINDOWS.eventCreatedAtSec} (RELIABILITY.md: ±10 min)`)
    .default(WINDOWS.eventCreatedAtSec),
  /** Distinct events this node agreed to sign, counted from its own log; 0 signs nothing. */
  rateLimits: z
    .strictObject({
      perMinute: limitSchema.default(60),
      perHour: limitSchema.default(600),
      perDay: limitSchema.default(5_000),
    })
    .prefault({}),
  contactList: z.strictObject({ maxDropPercent: z.number().min(0).max(100).default(10) }).prefault({}),
  deletion: z.strictObject({ maxEvents: limitSchema.default(5) }).prefault({}),
  httpAuth: z.strictObject({ allowedUrlPrefixes: z.array(urlPrefixSchema).max(100).default(() => []) }).prefault({}),
  encryptionKeyEvents: z.strictObject({ allowedPubkeys: z.array(pubkeyHexSchema).max(100).default(() => []) }).prefault({}),
  /** Rule plugin module paths, resolved by the shell relative to the policy file. */
  plugins: z.array(z.string().min(1).max(1_024)).max(32).default(() => []),
  /** How long an `ask` waits for the operator before it counts as a deny. */
  approvalTimeoutSec: z.number().int().min(1).max(3_600).default(120),
});
export type VetoPolicy = z.infer<typeof vetoPolicySchema>;

/** The shipped defaults (examples/POLICY.md explains each); frozen so no caller edits them. */
export const DEFAULT_VETO_POLICY: VetoPolicy = deepFreeze(vetoPolicySchema.parse({}));

/**
 * Validates a policy document (already JSON-parsed) and applies defaults.
 * Throws ConfigError whose field is the path of the first problem, e.g. `rateLimits.perHour`;
 * `source` (the file path) prefixes it as `<source>#<field>`, like readJsonFile.
 */
export function parseVetoPolicy(value: unknown, source?: string): VetoPolicy {
  const parsed = vetoPolicySchema.safeParse(value);
  if (parsed.success) return parsed.data;
  const [issue, ...rest] = parsed.error.issues;
  const path: PropertyKey[] = issue ? [...issue.path] : [];
  if (issue?.code === 'unrecognized_keys' && issue.keys[0] !== undefined) path.push(issue.keys[0]);
  const field = formatPath(path);
  const more = rest.length > 0 ? ` (and ${rest.length} more problem${rest.length === 1 ? '' : 's'})` : '';
  const message = `${issue?.code === 'unrecognized_keys' ? 'unknown field' : (issue?.message ?? 'invalid')}${more}`;
  throw new ConfigError(source === undefined ? field : `${source}#${field}`, message);
}

function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(root)';
  return path.map((key, i) => (typeof key === 'number' ? `[${key}]` : `${i === 0 ? '' : '.'}${String(key)}`)).join('');
}

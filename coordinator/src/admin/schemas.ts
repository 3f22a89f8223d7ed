import { decode as decodeNip19 } from 'nostr-tools/nip19';
import { z } from 'zod';
import { TRUST_LEVELS } from '../acl/trust-level.js';

/*
 * The admin API's request and response shapes. Requests are strict (an unknown field is a 400, so
 * `ttl` for `ttlSec` fails loudly); responses strip whatever a schema does not name.
 */

const HEX_OR_NPUB = /^(?:[0-9a-f]{64}|npub1[02-9ac-hj-np-z]{58})$/;

/** A client pubkey as 64 lower-case hex characters or an npub; parsed to hex. */
export const clientPubkeySchema = z
  .string()
  .regex(HEX_OR_NPUB, 'expected the client pubkey as 64 lower-case hex characters or an npub')
  .transform((text, ctx) => {
    if (!text.startsWith('npub1')) return text;
    try {
      const decoded = decodeNip19(text);
      if (decoded.type === 'npub') return decoded.data;
    } catch {
      // falls through to the issue below
    }
    ctx.addIssue({ code: 'custom', message: 'not a valid npub (bad checksum)' });
    return z.NEVER;
  });

export const identityNameSchema = z.string().regex(/^[a-z0-9-]{1,32}$/, 'expected an identity name (a-z, 0-9, -)');
export const approvalIdSchema = z.string().regex(/^apr_[0-9a-f]{16}$/, 'expected an approval id (apr_ and 16 hex characters)');
export const trustLevelSchema = z.enum(TRUST_LEVELS as ['paranoid', 'reasonable', 'full']);

/** Why: recorded in the change's audit row. */
export const reasonSchema = z.string().trim().min(1).max(500).default('api').describe('why, for the audit row (default "api")');
/** A duration in seconds, at most a year. */
const secondsSchema = z.number().int().min(1).max(366 * 86_400);

/** `?n=20`: how many of the newest rows. */
export const countQuery = (fallback: number, max: number) =>
  z
    .string()
    .regex(/^[1-9][0-9]{0,5}$/, 'expected a positive integer')
    .transform(Number)
    .pipe(z.number().max(max, `at most ${max}`))
    .default(fallback);

export const identityParams = z.strictObject({ identity: identityNameSchema });
export const clientParams = z.strictObject({ identity: identityNameSchema, client: clientPubkeySchema });
export const approvalParams = z.strictObject({ approvalId: approvalIdSchema });

export const trustBody = z.strictObject({ trustLevel: trustLevelSchema, reason: reasonSchema });
export const grantBody = z.strictObject({
  perms: z.string().min(1).max(4_096).describe('NIP-46 perms, e.g. sign_event:1,nip44_encrypt'),
  ttlSec: secondsSchema.optional().describe('the grants expire after this many seconds; default never'),
  cap: z.strictObject({ max: z.number().int().min(1).max(1_000_000), windowSec: secondsSchema }).optional()
    .describe('at most `max` allowed requests per grant in any window of `windowSec`'),
  reason: reasonSchema,
});
export const denyBody = z.strictObject({
  perm: z.string().min(1).max(64).describe('*, a method, or sign_event:<kind>'),
  forSec: secondsSchema.optional().describe('the denial decays after this many seconds; default until removed'),
  reason: reasonSchema,
});
export const suspendBody = z.strictObject({ forSec: secondsSchema, reason: reasonSchema });
export const reasonBody = z.strictObject({ reason: reasonSchema });
export const connectionTokenBody = z.strictObject({
  perms: z.string().min(1).max(4_096).optional().describe('the perms of the token (NIP-46 grammar); default: what a typical client needs'),
  ttlSec: secondsSchema.default(600).describe('how long the token can be redeemed (once)'),
  label: z.string().trim().min(1).max(64).default('api'),
});

const kindScopeSchema = z.union([z.number().int(), z.literal('*')]);

export const identityView = z.object({ name: z.string(), userPubkey: z.string(), transportPubkey: z.string() });

export const grantView = z.object({
  grantId: z.string(),
  method: z.string(),
  kind: kindScopeSchema.optional(),
  source: z.enum(['explicit', 'token']),
  notBeforeSec: z.number().optional(),
  expiresAtSec: z.number().optional(),
  revokedAtSec: z.number().optional(),
  usageCap: z.object({ max: z.number(), windowSec: z.number() }).optional(),
  usedInWindow: z.number().optional(),
  live: z.boolean(),
});

export const denialView = z.object({
  denialId: z.string(),
  method: z.string(),
  kind: kindScopeSchema.optional(),
  untilSec: z.number().optional(),
  reason: z.string(),
  actor: z.string(),
  live: z.boolean(),
});

export const clientView = z.object({
  clientPubkey: z.string(),
  /** Absent for a client with grants or denials but no subject row (it is then unknown: asked). */
  trustLevel: z.string().optional(),
  revokedAtSec: z.number().optional(),
  suspension: z.object({ untilSec: z.number(), reason: z.string(), actor: z.string() }).optional(),
  grants: z.array(grantView),
  denials: z.array(denialView),
});
export type ClientView = z.infer<typeof clientView>;

/** What a list shows of a waiting request: never its content. */
export const approvalSummaryView = z.object({
  approvalId: z.string(),
  identity: z.string(),
  clientPubkey: z.string(),
  requestId: z.string(),
  method: z.string(),
  kind: z.number().optional(),
  eventId: z.string().optional(),
  rule: z.string(),
  waitingOn: z.string(),
  createdAtSec: z.number(),
  expiresAtSec: z.number(),
  state: z.enum(['pending', 'approved', 'denied', 'expired']),
  decidedBy: z.string().optional(),
  decidedAtSec: z.number().optional(),
  decisionReason: z.string().optional(),
  answeredAtSec: z.number().optional(),
});

/** One request in full, for the operator to read before deciding; content is gone once answered. */
export const approvalDetailView = approvalSummaryView.extend({
  scheme: z.string(),
  request: z.object({ method: z.string(), params: z.array(z.string()) }).optional(),
});

export const auditEntryView = z.object({
  seq: z.number(),
  atSec: z.number(),
  actor: z.string(),
  action: z.string(),
  target: z.string(),
  reason: z.string(),
  before: z.unknown(),
  after: z.unknown(),
  prevHash: z.string(),
  hash: z.string(),
});

export const auditCheckView = z.object({
  ok: z.boolean(),
  entries: z.number(),
  headHash: z.string(),
  brokenAtSeq: z.number().optional(),
});

/** One request log row: metadata only (RELIABILITY.md 2.5). */
export const requestLogView = z.object({
  requestSeq: z.number(),
  atSec: z.number(),
  identity: z.string(),
  clientPubkey: z.string(),
  requestId: z.string(),
  method: z.string(),
  kind: z.number().optional(),
  eventId: z.string().optional(),
  decision: z.string(),
  rule: z.string(),
  grantId: z.string().optional(),
});
export type RequestLogView = z.infer<typeof requestLogView>;

import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { checkNodeLogChain, readNodeLogEntries } from '@frostbunker/shared/audit';
import { decode as decodeNip19 } from 'nostr-tools/nip19';
import { ConfigError } from '@frostbunker/shared/errors';
import { parsePerms } from './acl/perms.js';
import { isTrustLevel } from './acl/trust-level.js';
import { AclAdmin } from './acl-store/acl-admin.js';
import { openAclDatabase } from './acl-store/database.js';
import { AclStore } from './acl-store/acl-store.js';
import { ApprovalStore, isApprovalId, type ApprovalRecord } from './approvals/approval-store.js';
import { AuditLog } from './audit/audit-log.js';
import { reconcileSignatures } from './audit/reconcile.js';

export const ACL_USAGE = `  pending                                   requests waiting for approval (NIP-46 auth_url), with
                                            the event to sign; the client is waiting meanwhile
  approve <approval-id>                     let a pending request go on (signs, decrypts, …)
  reject <approval-id>                      refuse it; the client gets an error reply
  clients                                   every known client with its trust level and state
  trust <client> paranoid|reasonable|full   set a client's trust level (creates the client)
  grant <client> <perms> [--ttl 7d] [--cap 10/1m]   grant NIP-46 perms (e.g. sign_event:1,nip44_encrypt)
  deny <client> <method[:kind]> [--for 1h]  deny (time-boxed with --for), beats every grant and trust
  suspend <client> --for 1h                 refuse everything from the client until then
  revoke <client>                           refuse everything from the client, for good
  audit verify | audit tail [--n 20]        check the audit hash chain / show the last changes
  audit reconcile --node-log <file>...      compare what the share nodes co-signed (their
                                            node-log.jsonl) with the coordinator's records
    <client>: hex pubkey or npub; every change takes --reason (default "cli") and is audited`;

export const ACL_GROUPS: ReadonlySet<string> = new Set(['pending', 'approve', 'reject', 'clients', 'trust', 'grant', 'deny', 'suspend', 'revoke', 'audit']);

export interface AclCommandOptions {
  dir: string;
  identity: string;
  reason: string;
  ttlSec?: number;
  forSec?: number;
  cap?: string;
  n: number;
  nodeLogs: readonly string[];
}

/**
 * Operator commands over the live ACL. They write the database the running coordinator reads on
 * every request, so a change applies to the very next request; each one is audited (AclAdmin).
 */
export function runAclCommand(words: readonly string[], options: AclCommandOptions, nowSec: () => number): number {
  // Opening creates the database, so a mistyped --data must fail here rather than report on an empty one.
  if (!existsSync(join(options.dir, 'config.json'))) {
    throw new ConfigError('--data', `${options.dir} is not a coordinator directory (no config.json)`);
  }
  const db = openAclDatabase(join(options.dir, 'acl.db'));
  try {
    const audit = new AuditLog(db, { nowSec });
    const admin = new AclAdmin({ db, audit, identity: options.identity, nowSec });
    const by = { actor: `cli:${userInfo().username}`, reason: options.reason };
    const [group, first, second] = words;
    switch (group) {
      case 'pending': {
        const pending = new ApprovalStore({ db, audit, nowSec }).listPending(options.identity);
        if (pending.length === 0) return ok('no request is waiting for approval');
        for (const record of pending) console.log(describePending(record, nowSec()));
        return 0;
      }
      case 'approve':
      case 'reject': {
        if (!isApprovalId(first)) throw new ConfigError(group, 'expected an approval id (apr_…), see `pending`');
        const record = new ApprovalStore({ db, audit, nowSec }).decide(first, group === 'approve' ? 'approve' : 'deny', by);
        return ok(`${record.approvalId} ${record.state}; the coordinator answers the client within a second`);
      }
      case 'clients':
        console.log(JSON.stringify(db.prepare('SELECT client_pubkey AS client, trust_level AS trust, revoked_at_sec AS revokedAtSec, suspended_until_sec AS suspendedUntilSec, suspension_reason AS suspensionReason FROM subjects WHERE identity = ? ORDER BY created_at_sec').all(options.identity), null, 2));
        return 0;
      case 'trust': {
        if (!isTrustLevel(second)) throw new ConfigError('trust', 'expected paranoid, reasonable or full');
        admin.setTrustLevel(clientPubkey(first), second, by);
        return ok(`trust of ${first} is ${second}`);
      }
      case 'grant': {
        const client = clientPubkey(first);
        const cap = options.cap === undefined ? undefined : parseCap(options.cap);
        for (const spec of parsePerms(second ?? '')) {
          admin.grant({
            clientPubkey: client,
            method: spec.method,
            ...(spec.method === 'sign_event' ? { kind: spec.kind ?? '*' } : {}),
            ...(options.ttlSec === undefined ? {} : { expiresAtSec: nowSec() + options.ttlSec }),
            ...(cap ? { usageCap: cap } : {}),
          }, by);
        }
        return ok(`granted ${second} to ${first}`);
      }
      case 'deny': {
        // `*` (every method), or one perm in NIP-46 grammar: nip44_decrypt, sign_event, sign_event:0.
        const target = second ?? '';
        const spec = target === '*' ? undefined : parsePerms(target)[0];
        if (target !== '*' && spec === undefined) throw new ConfigError('deny', 'expected *, a method, or sign_event:<kind>');
        admin.deny({
          clientPubkey: clientPubkey(first),
          method: spec?.method ?? '*',
          ...(spec?.method === 'sign_event' && spec.kind !== undefined ? { kind: spec.kind } : {}),
          ...(options.forSec === undefined ? {} : { untilSec: nowSec() + options.forSec }),
        }, by);
        return ok(`denied ${target} to ${first}${options.forSec === undefined ? '' : ` for ${options.forSec} s`}`);
      }
      case 'suspend':
        if (options.forSec === undefined) throw new ConfigError('--for', 'suspend needs a duration, e.g. --for 1h');
        admin.suspendSubject(clientPubkey(first), nowSec() + options.forSec, by);
        return ok(`suspended ${first} for ${options.forSec} s`);
      case 'revoke':
        admin.revokeSubject(clientPubkey(first), by);
        return ok(`revoked ${first}`);
      case 'audit': {
        if (first === 'reconcile') {
          if (options.nodeLogs.length === 0) throw new ConfigError('--node-log', 'name at least one share node log (node-log.jsonl)');
          const witnesses = options.nodeLogs.map((path) => {
            const entries = readNodeLogEntries(path);
            return { label: basename(dirname(path)), entries, chain: checkNodeLogChain(entries) };
          });
          const report = reconcileSignatures(new AclStore(db, { nowSec }).signedEventIds(), witnesses);
          console.log(JSON.stringify(report, null, 2));
          return report.ok ? 0 : 1;
        }
        if (first === 'verify') {
          const check = audit.verify();
          console.log(check.ok ? `ok: ${check.entries} entries, head ${check.headHash}` : `BROKEN at seq ${check.brokenAtSeq} (after ${check.entries} good entries)`);
          return check.ok ? 0 : 1;
        }
        for (const entry of audit.tail(options.n)) {
          console.log(`${new Date(entry.atSec * 1000).toISOString()}  ${entry.actor}  ${entry.action}  ${entry.target}  ${entry.reason}`);
        }
        return 0;
      }
      default:
        throw new ConfigError('command', `unknown ACL command ${group}`);
    }
  } finally {
    db.close();
  }
}

/** One pending request as the operator reads it before deciding: who, what, and the event itself. */
function describePending(record: ApprovalRecord, nowSec: number): string {
  const lines = [
    `${record.approvalId}  ${record.method}${record.kind === undefined ? '' : ` kind ${record.kind}`}  from ${record.clientPubkey}`,
    `  why: ${record.rule}`,
    `  decided by: ${record.waitingOn === 'operator' ? 'you (approve / reject)' : `the operator of share node ${record.waitingOn.slice(5)}`}; ${Math.max(0, record.expiresAtSec - nowSec)} s left`,
  ];
  const [first] = record.request?.params ?? [];
  if (record.method === 'sign_event' && first !== undefined) {
    try {
      const event = JSON.parse(first) as { content?: unknown; tags?: unknown };
      lines.push(`  content: ${JSON.stringify(event.content).slice(0, 400)}`, `  tags: ${JSON.stringify(event.tags).slice(0, 400)}`);
    } catch {
      lines.push(`  event: ${first.slice(0, 400)}`);
    }
  } else if (record.request) {
    // Encryption requests: the peer, never the plaintext or ciphertext.
    lines.push(`  peer: ${record.request.params[0] ?? ''}`);
  }
  return lines.join('\n');
}

function ok(message: string): number {
  console.log(message);
  return 0;
}

/** A client named as 64-hex or npub. */
function clientPubkey(text: string | undefined): string {
  if (text && /^[0-9a-f]{64}$/.test(text)) return text;
  if (text?.startsWith('npub1')) {
    const decoded = decodeNip19(text);
    if (decoded.type === 'npub') return decoded.data;
  }
  throw new ConfigError('client', 'expected the client pubkey as 64 hex characters or an npub');
}

/** `10/1m`: at most 10 allowed requests in any minute. */
function parseCap(text: string): { max: number; windowSec: number } {
  const match = /^(\d+)\/(\d+)([smhd])$/.exec(text);
  if (!match) throw new ConfigError('--cap', 'expected max/window, e.g. 10/1m or 100/1d');
  const unit = { s: 1, m: 60, h: 3600, d: 86_400 }[match[3] as 's' | 'm' | 'h' | 'd'];
  return { max: Number(match[1]), windowSec: Number(match[2]) * unit };
}

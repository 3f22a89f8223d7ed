import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { VetoError } from '@frostbunker/shared/errors';
import type { Nip46Request, Nip46Response, UnsignedEventMessage, XOnlyPubkey } from '@frostbunker/shared/protocol';
import { AclStore } from '../../src/acl-store/acl-store.js';
import { openAclDatabase } from '../../src/acl-store/database.js';
import { ApprovalDesk } from '../../src/approvals/approval-desk.js';
import { ApprovalStore } from '../../src/approvals/approval-store.js';
import { ApprovalWaiter } from '../../src/approvals/approval-waiter.js';
import { AuditLog } from '../../src/audit/audit-log.js';
import { dispatchNip46, resumeNip46, type Nip46Context, type ReplyChannel } from '../../src/nip46/dispatch.js';
import type { SignHooks } from '../../src/signing/signing-coordinator.js';

const userPubkey = '2'.repeat(64) as XOnlyPubkey;
const client = '3'.repeat(64) as XOnlyPubkey;
const operator = { actor: 'cli:alice', reason: 'looked fine' };

/** NIP-46 + approval desk over a real SQLite file; the ACL asks about kind 0 and allows the rest. */
function setup(options: { timeoutSec?: number; sign?: (event: UnsignedEventMessage, hooks?: SignHooks) => Promise<void> } = {}) {
  const db = openAclDatabase(join(mkdtempSync(join(tmpdir(), 'frostbunker-approvals-')), 'acl.db'));
  const now = { sec: 1_800_000_000 };
  const nowSec = () => now.sec;
  const audit = new AuditLog(db, { nowSec });
  const acl = new AclStore(db, { nowSec });
  const store = new ApprovalStore({ db, audit, nowSec, limits: { maxOpen: 3, maxOpenPerClient: 2 } });
  const waiter = new ApprovalWaiter({ store, pollMs: 5 });
  const desk = new ApprovalDesk({ identity: 'default', store, waiter, acl, urlFor: (id) => `http://127.0.0.1:7446/approvals/${id}`, timeoutSec: options.timeoutSec ?? 60 });
  const signed: UnsignedEventMessage[] = [];
  const ctx: Nip46Context = {
    transportPubkey: '1'.repeat(64) as XOnlyPubkey,
    userPubkey,
    relays: [],
    acl: {
      connect: () => undefined,
      authorize: (request) =>
        acl.decideAndLog({ identity: 'default', ...request }, () =>
          ({ decision: request.kind === 0 ? 'ask' : 'allow', rule: { rule: 'trust_level', trustLevel: 'reasonable', method: request.method, kindRisk: request.kind === 0 ? 'sensitive' : null } }),
        ).decision === 'ask'
          ? { decision: 'ask', reason: 'kind 0 is sensitive and needs an explicit grant' }
          : { decision: 'allow' },
      logout: () => undefined,
    },
    approvals: desk,
    sign: async (event, hooks) => {
      await options.sign?.(event, hooks);
      signed.push(event);
      return { ...event, id: 'i'.repeat(64), sig: 's'.repeat(128) };
    },
    encryption: {
      nip44Encrypt: () => 'x',
      nip44Decrypt: () => 'x',
      nip04Encrypt: () => 'x',
      nip04Decrypt: () => 'x',
    },
  };
  const interim: Nip46Response[] = [];
  const channel: ReplyChannel = { scheme: 'nip44', sendInterim: async (response) => void interim.push(response) };
  const requestLog = () => db.prepare('SELECT request_id AS requestId, decision, rule FROM request_log ORDER BY request_seq').all();
  return { db, now, audit, store, waiter, desk, ctx, interim, channel, signed, requestLog };
}

const profile = (requestId = 'r1') =>
  ({ requestId, method: 'sign_event', params: [JSON.stringify({ kind: 0, content: '{"name":"x"}', tags: [], created_at: 1 })] }) as Nip46Request;

/** Resolves once the desk has queued something, returning its approval id. */
async function queued(store: ApprovalStore, count = 1): Promise<string[]> {
  for (let i = 0; i < 400; i++) {
    const pending = store.listPending();
    if (pending.length >= count) return pending.map((p) => p.approvalId);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error('nothing queued');
}

describe('auth_url approval flow (NIP-46 + SQLite approval queue)', () => {
  it('answers auth_url with the approval link, then the signature with the same id once an operator approves', async () => {
    const { store, ctx, channel, interim, signed, requestLog, audit } = setup();
    const reply = dispatchNip46(profile(), client, ctx, channel);
    const [approvalId] = await queued(store);
    expect(interim).toEqual([{ id: 'r1', result: 'auth_url', error: `http://127.0.0.1:7446/approvals/${approvalId}` }]);
    expect(signed).toHaveLength(0);
    const pending = store.get(approvalId!)!;
    expect(pending).toMatchObject({ state: 'pending', waitingOn: 'operator', method: 'sign_event', kind: 0, clientPubkey: client, rule: 'kind 0 is sensitive and needs an explicit grant' });
    expect(JSON.parse(pending.request!.params[0]!).content).toBe('{"name":"x"}');

    store.decide(approvalId!, 'approve', operator);
    const final = await reply;
    expect(final.id).toBe('r1');
    expect(JSON.parse(final.result).sig).toBe('s'.repeat(128));
    expect(signed).toHaveLength(1);
    expect(requestLog()).toEqual([
      { requestId: 'r1', decision: 'ask', rule: 'trust_level' },
      { requestId: 'r1', decision: 'allow', rule: 'operator_approval' },
    ]);
    // Audited with the operator as actor; the request's content is forgotten once answered.
    expect(audit.tail(1)[0]).toMatchObject({ actor: 'cli:alice', action: 'approval.approve', reason: 'looked fine' });
    expect(store.get(approvalId!)).toMatchObject({ state: 'approved', answeredAtSec: expect.any(Number) });
    expect(store.get(approvalId!)!.request).toBeUndefined();
  });

  it('ends with an error naming the denial, never signing', async () => {
    const { store, ctx, channel, signed, audit } = setup();
    const reply = dispatchNip46(profile(), client, ctx, channel);
    const [approvalId] = await queued(store);
    store.decide(approvalId!, 'deny', { actor: 'cli:alice', reason: 'not today' });
    expect(await reply).toEqual({ id: 'r1', result: '', error: 'denied by the operator: not today' });
    expect(signed).toHaveLength(0);
    expect(audit.tail(1)[0]!.action).toBe('approval.deny');
  });

  it('ends with a timeout error when nobody decides in time (bounded wait)', async () => {
    const { store, ctx, channel, signed, now, waiter } = setup({ timeoutSec: 30 });
    const reply = dispatchNip46(profile(), client, ctx, channel);
    const [approvalId] = await queued(store);
    expect(store.countPending()).toBe(1);
    now.sec += 30;
    // At the deadline it no longer counts, and counting wrote nothing: the row is still 'pending'.
    expect(store.countPending()).toBe(0);
    expect(store.get(approvalId!)?.state).toBe('pending');
    waiter.poke();
    expect(await reply).toEqual({ id: 'r1', result: '', error: 'no operator decision within 30 s' });
    expect(signed).toHaveLength(0);
    expect(() => store.decide(approvalId!, 'approve', operator)).toThrow(/already expired/);
  });

  it('refuses a decision on an unknown or already decided request', async () => {
    const { store, ctx, channel } = setup();
    expect(() => store.decide('apr_ffffffffffffffff', 'approve', operator)).toThrow(/no request apr_ffffffffffffffff/);
    const reply = dispatchNip46(profile(), client, ctx, channel);
    const [approvalId] = await queued(store);
    store.decide(approvalId!, 'deny', operator);
    expect(() => store.decide(approvalId!, 'approve', operator)).toThrow(/already denied/);
    await reply;
  });

  it('bounds the queue per client and overall, answering the excess with an error at once (G16)', async () => {
    const { store, ctx, channel } = setup();
    const first = [dispatchNip46(profile('a'), client, ctx, channel), dispatchNip46(profile('b'), client, ctx, channel)];
    await queued(store, 2);
    expect((await dispatchNip46(profile('c'), client, ctx, channel)).error).toMatch(/too many requests are waiting for approval/);
    const other = '4'.repeat(64) as XOnlyPubkey;
    const third = dispatchNip46(profile('d'), other, ctx, channel);
    await queued(store, 3);
    expect((await dispatchNip46(profile('e'), '5'.repeat(64) as XOnlyPubkey, ctx, channel)).error).toMatch(/too many/);
    for (const id of store.listPending().map((p) => p.approvalId)) store.decide(id, 'deny', operator);
    await Promise.all([...first, third]);
  });

  it('shows a request a share node holds for its operator with an auth_url, records how it ended, and refuses a coordinator decision on it', async () => {
    let release!: () => void;
    const { store, ctx, channel, interim } = setup({
      sign: async (_event, hooks) => {
        hooks?.onNodeAwaitingApproval?.('node-2', 90, 'kind 10002 needs local approval');
        hooks?.onNodeAwaitingApproval?.('node-2', 90, 'again'); // one notice per request
        await new Promise<void>((resolve) => (release = resolve));
      },
    });
    const reply = dispatchNip46({ requestId: 'n1', method: 'sign_event', params: [JSON.stringify({ kind: 10002, content: '', tags: [], created_at: 1 })] } as Nip46Request, client, ctx, channel);
    const [approvalId] = await queued(store);
    expect(interim).toEqual([{ id: 'n1', result: 'auth_url', error: `http://127.0.0.1:7446/approvals/${approvalId}` }]);
    expect(store.get(approvalId!)).toMatchObject({ waitingOn: 'node:node-2', rule: 'node_approval: kind 10002 needs local approval', state: 'pending' });
    expect(() => store.decide(approvalId!, 'approve', operator)).toThrow(/waits on share node node-2/);
    release();
    expect(JSON.parse((await reply).result).id).toBe('i'.repeat(64));
    expect(store.get(approvalId!)).toMatchObject({ state: 'approved', decidedBy: 'node:node-2', answeredAtSec: expect.any(Number) });
  });

  it('records a share node veto after its operator refused', async () => {
    const { store, ctx, channel } = setup({
      sign: async (_event, hooks) => {
        hooks?.onNodeAwaitingApproval?.('node-1', 90, 'ask');
        throw new VetoError('node-1', 'operator_denied: refused by its operator');
      },
    });
    const reply = await dispatchNip46({ requestId: 'n2', method: 'sign_event', params: [JSON.stringify({ kind: 10002, content: '', tags: [], created_at: 1 })] } as Nip46Request, client, ctx, channel);
    expect(reply.error).toBe('vetoed by node-1: operator_denied: refused by its operator');
    expect(store.listRecent(1)[0]).toMatchObject({ state: 'denied', decidedBy: 'node:node-1' });
  });

  it('lets a restarted coordinator finish a request approved while it was down (G10: no silence after restart)', async () => {
    const { store, ctx, channel, desk, signed, db } = setup();
    // The first process queued the request and died before anyone decided.
    const abandoned = dispatchNip46(profile('r9'), client, ctx, channel);
    const [approvalId] = await queued(store);
    store.decide(approvalId!, 'approve', operator);
    await abandoned; // (in the real crash this reply never went out)
    db.prepare('UPDATE approvals SET answered_at_sec = NULL, request_json = ? WHERE approval_id = ?').run(JSON.stringify({ method: 'sign_event', params: profile().params }), approvalId);
    signed.length = 0;

    const [record] = desk.unanswered();
    expect(record).toMatchObject({ approvalId, state: 'approved' });
    const reply = await resumeNip46(profile('r9'), approvalId!, client, ctx, channel);
    expect(reply.id).toBe('r9');
    expect(JSON.parse(reply.result).sig).toBe('s'.repeat(128));
    expect(signed).toHaveLength(1);
    expect(desk.unanswered()).toEqual([]);
  });
});

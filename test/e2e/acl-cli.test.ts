import { verifyEvent } from 'nostr-tools/pure';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { openAclDatabase } from '@frostbunker/coordinator';
import { Lab } from '@frostbunker/deploy/lab';
import { connectBunkerSigner, withDeadline } from '../harness/bunker-client.js';
import { frostbunkerCli } from '../harness/frostbunker-cli.js';
import { makeTempDir } from '../harness/tmp.js';

/** Polls `read` until it returns a value (a client callback has fired). */
async function until<T>(read: () => T | undefined, what: string, timeoutMs = 15_000): Promise<T> {
  for (const started = Date.now(); Date.now() - started < timeoutMs; ) {
    const value = read();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${what}: nothing within ${timeoutMs} ms`);
}

const note = (kind: number, tags: string[][] = []) => ({ kind, content: `acl ${Math.random()}`, tags, created_at: Math.floor(Date.now() / 1000) });

// Issue 3: the operator changes the live ACL with the CLI while the coordinator runs; each change
// applies to the very next request, and every change is in a verifiable audit chain.
describe('live ACL through the operator CLI (real processes)', () => {
  const dir = makeTempDir('acl-cli');
  let lab: Lab;
  let client: Awaited<ReturnType<typeof connectBunkerSigner>>;
  const cli = (...args: string[]) => frostbunkerCli(...args, '--data', lab.layout.coordinatorDir, ...(args.includes('--reason') ? [] : ['--reason', 'e2e']));
  const authUrls: string[] = [];
  const sign = (template: ReturnType<typeof note>) => withDeadline(client.signer.signEvent(template), 20_000, `sign kind ${template.kind}`);

  beforeAll(async () => {
    lab = await Lab.start({ root: dir.path, relayPort: 0 });
    await lab.waitForQuorum();
    client = await connectBunkerSigner(lab.bunkerUrl, { onauth: (url) => void authUrls.push(url) });
  });
  afterAll(async () => {
    await client?.close();
    await lab?.stop();
    dir.remove();
  });

  it('a time-boxed deny beats the token grant on the next request, for that kind only', async () => {
    expect(verifyEvent({ ...(await sign(note(1))) })).toBe(true);
    await cli('deny', client.clientPubkey, 'sign_event:1', '--for', '1h');
    await expect(sign(note(1))).rejects.toThrow(/denied: sign_event is denied/);
    expect(verifyEvent({ ...(await sign(note(7))) })).toBe(true);
  });

  it('a sensitive kind answers auth_url, waits, and completes once the operator approves it with the CLI', async () => {
    authUrls.length = 0;
    // Kind 5 (sensitive here; the nodes' default policy signs a deletion of a few events).
    const deletion = { ...note(5, [['e', 'c'.repeat(64)]]), content: 'approved by e2e' };
    const pending = sign(deletion);
    const url = await until(() => authUrls[0], 'auth_url');
    const approvalId = /\/approvals\/(apr_[0-9a-f]{16})$/.exec(url)?.[1];
    expect(approvalId).toBeDefined();
    const listing = await cli('pending');
    expect(listing).toContain(`${approvalId}  sign_event kind 5  from ${client.clientPubkey}`);
    expect(listing).toContain('approved by e2e');
    expect(listing).toContain('kind 5 is sensitive and needs an explicit grant');
    await cli('approve', approvalId!);
    const signed = await pending;
    expect(verifyEvent({ ...signed })).toBe(true);
    expect(signed.content).toBe(deletion.content);
    expect(authUrls).toHaveLength(1);
    expect(await cli('pending')).toMatch(/no request is waiting/);
  });

  it('a request the operator rejects ends with an error reply; an explicit grant then lets that kind through', async () => {
    authUrls.length = 0;
    const refused = expect(sign(note(5, [['e', 'a'.repeat(64)]]))).rejects.toThrow(/denied by the operator: no deletions today/);
    const approvalId = /(apr_[0-9a-f]{16})$/.exec(await until(() => authUrls[0], 'auth_url'))![1]!;
    await cli('reject', approvalId, '--reason', 'no deletions today');
    await refused;
    await cli('grant', client.clientPubkey, 'sign_event:5');
    expect((await sign(note(5, [['e', 'b'.repeat(64)]]))).kind).toBe(5);
    expect(authUrls).toHaveLength(1); // the granted one went straight through
  });

  it('suspend and revoke are honoured on the very next request', async () => {
    await cli('suspend', client.clientPubkey, '--for', '1h');
    await expect(sign(note(7))).rejects.toThrow(/suspended until/);
    await cli('revoke', client.clientPubkey);
    await expect(withDeadline(client.signer.getPublicKey(), 15_000, 'get_public_key')).rejects.toThrow(/revoked/);
    const clients = JSON.parse(await cli('clients')) as { client: string; revokedAtSec: number | null }[];
    expect(clients.find((c) => c.client === client.clientPubkey)?.revokedAtSec).toEqual(expect.any(Number));
  });

  it('keeps every change in an intact audit chain', async () => {
    expect(await cli('audit', 'verify')).toMatch(/^ok: \d+ entries/);
    const tail = await cli('audit', 'tail', '--n', '20');
    for (const action of ['approval.approve', 'approval.deny', 'denial.create', 'grant.create', 'subject.suspend', 'subject.revoke']) expect(tail).toContain(action);
  });

  it('reconciles the coordinator records with the share nodes logs, and catches a deleted record (T2)', async () => {
    const nodeLogs = lab.layout.nodeDirs.flatMap((d) => ['--node-log', join(d, 'node-log.jsonl')]);
    const clean = JSON.parse(await cli('audit', 'reconcile', ...nodeLogs)) as { ok: boolean; coordinatorEvents: number };
    expect(clean).toMatchObject({ ok: true });
    expect(clean.coordinatorEvents).toBeGreaterThanOrEqual(5); // 10044 announcement + kinds 1, 7, 5 (approved), 5 (granted)
    // A compromised coordinator deletes the record of one signature.
    const db = openAclDatabase(join(lab.layout.coordinatorDir, 'acl.db'));
    const victim = db.prepare<[], { event_id: string }>("SELECT event_id FROM request_log WHERE method = 'sign_event' AND decision = 'allow' AND kind = 7").get()!;
    db.prepare('DELETE FROM request_log WHERE event_id = ?').run(victim.event_id);
    db.close();
    const failure = await cli('audit', 'reconcile', ...nodeLogs).then(
      () => undefined,
      (error: { code?: number; stdout?: string }) => error,
    );
    expect(failure?.code).toBe(1);
    const report = JSON.parse(failure!.stdout!) as { unrecorded: { eventId: string }[] };
    expect(report.unrecorded.map((u) => u.eventId)).toContain(victim.event_id);
  });
});

import { join } from 'node:path';
import { verifyEvent } from 'nostr-tools/pure';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeJsonFileAtomic } from '@frostbunker/shared/config';
import { ensureLabIdentity, Lab, labLayout } from '@frostbunker/deploy/lab';
import { connectBunkerSigner, withDeadline } from '../harness/bunker-client.js';
import { frostbunkerCli } from '../harness/frostbunker-cli.js';
import { shareNodeCli } from '../harness/share-node-cli.js';
import { makeTempDir } from '../harness/tmp.js';

const LONG_FORM = 30023;
const REACTION = 7;
const NODE2_PER_MINUTE = 8;

const template = (kind: number, content = `veto e2e ${Math.random()}`) => ({ kind, content, tags: [], created_at: Math.floor(Date.now() / 1000) });

/** Starts a lab whose share nodes run the given policy files (node index -> policy.json contents). */
async function startLabWithPolicies(dir: string, threshold: number, maxSigners: number, policies: Record<number, unknown>) {
  await ensureLabIdentity({ root: dir, threshold, maxSigners, relays: ['ws://127.0.0.1:1'] });
  const layout = labLayout(dir, maxSigners);
  for (const [index, policy] of Object.entries(policies)) writeJsonFileAtomic(join(layout.nodeDirs[Number(index) - 1]!, 'policy.json'), policy);
  const lab = await Lab.start({ root: dir, threshold, maxSigners, relayPort: 0 });
  await lab.waitForQuorum();
  const authUrls: string[] = [];
  return { lab, layout, authUrls, client: await connectBunkerSigner(lab.bunkerUrl, { onauth: (url) => void authUrls.push(url) }) };
}

describe('share-node veto through NIP-46 (2-of-3, real processes)', () => {
  const dir = makeTempDir('veto');
  let ctx: Awaited<ReturnType<typeof startLabWithPolicies>>;

  beforeAll(async () => {
    ctx = await startLabWithPolicies(dir.path, 2, 3, {
      1: { v: 1, deniedKinds: [24133, LONG_FORM], askKinds: [REACTION] },
      2: { v: 1, rateLimits: { perMinute: NODE2_PER_MINUTE, perHour: 600, perDay: 5000 } },
    });
  });
  afterAll(async () => {
    await ctx?.client.close();
    await ctx?.lab.stop();
    dir.remove();
  });

  it('returns an error naming the node and its rule for a denied kind', async () => {
    await expect(withDeadline(ctx.client.signer.signEvent(template(LONG_FORM)), 20_000, 'sign 30023')).rejects.toThrow(
      /vetoed by node-1: vetoed: denied_kind/,
    );
  });

  it('tells the client with auth_url while a node operator decides, and completes once they approve with the CLI', async () => {
    const signing = withDeadline(ctx.client.signer.signEvent(template(REACTION, '+')), 60_000, 'sign kind 7');
    let pending: { sessionId: string; kind: number }[] = [];
    for (let attempt = 0; attempt < 50 && pending.length === 0; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      pending = JSON.parse(await shareNodeCli(ctx.layout.nodeDirs[0]!, 'pending')) as typeof pending;
    }
    expect(pending).toMatchObject([{ kind: REACTION }]);
    // Meanwhile the client has been told (NIP-46 auth_url), and the coordinator's queue shows who decides.
    expect(ctx.authUrls).toEqual([expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/approvals\/apr_[0-9a-f]{16}$/)]);
    const queue = await frostbunkerCli('pending', '--data', ctx.layout.coordinatorDir);
    expect(queue).toContain('sign_event kind 7');
    expect(queue).toContain('the operator of share node node-1');
    expect(await shareNodeCli(ctx.layout.nodeDirs[0]!, 'approve', pending[0]!.sessionId.slice(0, 8))).toMatch(/^approved /);
    const signed = await signing;
    expect(signed.kind).toBe(REACTION);
    expect(verifyEvent({ ...signed })).toBe(true);
  });

  it('keeps signing ordinary kinds with one node frozen by its operator, and reports it', async () => {
    expect(await shareNodeCli(ctx.layout.nodeDirs[2]!, 'freeze', '--reason', 'drill')).toMatch(/frozen/);
    const status = JSON.parse(await shareNodeCli(ctx.layout.nodeDirs[2]!, 'status')) as { frozen: { reason: string } | null };
    expect(status.frozen?.reason).toBe('drill');
    const signed = await withDeadline(ctx.client.signer.signEvent(template(1)), 20_000, 'sign with node-3 frozen');
    expect(verifyEvent({ ...signed })).toBe(true);
    expect(await shareNodeCli(ctx.layout.nodeDirs[2]!, 'unfreeze')).toMatch(/unfrozen/);
  });

  it('trips node-2 rate limit at exactly its configured count, naming the node and the rule', async () => {
    const status = JSON.parse(await shareNodeCli(ctx.layout.nodeDirs[1]!, 'status')) as { approved: { lastMinute: number } };
    const remaining = NODE2_PER_MINUTE - status.approved.lastMinute;
    expect(remaining).toBeGreaterThan(0);
    for (let i = 0; i < remaining; i++) {
      const signed = await withDeadline(ctx.client.signer.signEvent(template(1)), 20_000, `sign ${i}`);
      expect(verifyEvent({ ...signed })).toBe(true);
    }
    await expect(withDeadline(ctx.client.signer.signEvent(template(1)), 20_000, 'sign over the limit')).rejects.toThrow(
      /vetoed by node-2: vetoed: rate_limit/,
    );
  });

  it('keeps an intact hash-chained log on every node', async () => {
    for (const nodeDir of ctx.layout.nodeDirs) expect(await shareNodeCli(nodeDir, 'log-verify')).toMatch(/^ok: \d+ entries, chain intact/);
  });
});

describe('kill switch in 2-of-2 (real processes)', () => {
  const dir = makeTempDir('freeze');
  let ctx: Awaited<ReturnType<typeof startLabWithPolicies>>;
  beforeAll(async () => {
    ctx = await startLabWithPolicies(dir.path, 2, 2, {});
  });
  afterAll(async () => {
    await ctx?.client.close();
    await ctx?.lab.stop();
    dir.remove();
  });

  it('blocks the quorum while one node is frozen, with an error saying so, and signs again after unfreeze', async () => {
    await shareNodeCli(ctx.layout.nodeDirs[1]!, 'freeze');
    await expect(withDeadline(ctx.client.signer.signEvent(template(1)), 20_000, 'sign frozen')).rejects.toThrow(/node-2 \(frozen\)/);
    await shareNodeCli(ctx.layout.nodeDirs[1]!, 'unfreeze');
    const signed = await withDeadline(ctx.client.signer.signEvent(template(1)), 20_000, 'sign unfrozen');
    expect(verifyEvent({ ...signed })).toBe(true);
  });
});

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { AbstractSimplePool } from 'nostr-tools/abstract-pool';
import { verifyEvent, type Event } from 'nostr-tools/pure';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openAclDatabase } from '@frostbunker/coordinator';
import { Lab } from '@frostbunker/deploy/lab';
import { connectBunkerSigner, withDeadline } from '../harness/bunker-client.js';
import { frostbunkerCli } from '../harness/frostbunker-cli.js';
import { makeTempDir } from '../harness/tmp.js';

const KIND_NIP46 = 24133;

function signedOnNodes(lab: Lab): number {
  return lab.layout.nodeDirs
    .map((dir) => readFileSync(join(dir, 'node-log.jsonl'), 'utf8').split('\n').filter((line) => line.includes('"decision":"signed"')).length)
    .reduce((a, b) => a + b, 0);
}

function requestLogRows(lab: Lab): number {
  const db = openAclDatabase(join(lab.layout.coordinatorDir, 'acl.db'));
  try {
    return (db.prepare('SELECT count(*) AS n FROM request_log').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

// RELIABILITY.md G17 (b): requests captured off the relay and replayed after a coordinator crash
// start no signing round, because (client, request id) is remembered on disk for the window.
describe('replayed requests after a coordinator restart (real processes)', () => {
  const dir = makeTempDir('replay');
  let lab: Lab;
  let pool: AbstractSimplePool;
  const captured: Event[] = [];

  beforeAll(async () => {
    lab = await Lab.start({ root: dir.path, relayPort: 0 });
    await lab.waitForQuorum();
    pool = new AbstractSimplePool({ verifyEvent, websocketImplementation: WebSocket as unknown as typeof globalThis.WebSocket, maxWaitForConnection: 5_000 });
    // An eavesdropper on the relay: every request addressed to the bunker.
    pool.subscribeMany(lab.relayUrls, { kinds: [KIND_NIP46], '#p': [lab.transportPubkey] }, { onevent: (event) => void captured.push(event) });
    await new Promise((resolve) => setTimeout(resolve, 300));
  });
  afterAll(async () => {
    pool?.destroy();
    await lab?.stop();
    dir.remove();
  });

  it('signs nothing twice when every captured request is replayed after a SIGKILL and restart', async () => {
    const client = await connectBunkerSigner(lab.bunkerUrl);
    for (let i = 0; i < 5; i++) {
      await withDeadline(client.signer.signEvent({ kind: 1, content: `replay me ${i}`, tags: [], created_at: Math.floor(Date.now() / 1000) }), 20_000, 'sign');
    }
    await client.close();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(captured.length).toBeGreaterThanOrEqual(6); // connect + 5 sign_event
    const [signedBefore, rowsBefore] = [signedOnNodes(lab), requestLogRows(lab)];

    await lab.restartCoordinator(true);
    await lab.waitForQuorum();
    // G10: every signature the nodes made before the SIGKILL has its request-log row.
    const nodeLogs = lab.layout.nodeDirs.flatMap((d) => ['--node-log', join(d, 'node-log.jsonl')]);
    expect(JSON.parse(await frostbunkerCli('audit', 'reconcile', '--data', lab.layout.coordinatorDir, ...nodeLogs))).toMatchObject({ ok: true, unrecorded: [] });
    for (const event of captured) await Promise.any(pool.publish(lab.relayUrls, event));
    await new Promise((resolve) => setTimeout(resolve, 3_000));

    expect(signedOnNodes(lab)).toBe(signedBefore);
    expect(requestLogRows(lab)).toBe(rowsBefore);
    const log = readFileSync(join(dir.path, 'logs', 'coordinator.log'), 'utf8');
    console.log(`[figure] G17(b): ${captured.length} captured requests replayed after SIGKILL; ${log.split('"reason":"duplicate"').length - 1} logged as duplicates (debug level may hide them)`);
  });
});

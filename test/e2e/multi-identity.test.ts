import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { verifyEvent } from 'nostr-tools/pure';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeJsonFileAtomic } from '@frostbunker/shared/config';
import { ENTRY_POINTS, ensureLabIdentity, labLayout, parseStatusLine, startProcess, type ManagedProcess } from '@frostbunker/deploy/lab';
import { startLocalRelay, type LocalRelay } from '@frostbunker/deploy/relay';
import { connectBunkerSigner, withDeadline } from '../harness/bunker-client.js';
import { frostbunkerCli } from '../harness/frostbunker-cli.js';
import { makeTempDir } from '../harness/tmp.js';

type Secrets = { identities: { name: string }[] } & Record<string, unknown>;

// Issue 3: "Several identities (groups) on one coordinator, each with its own transport key."
// Two 2-of-2 groups (alice, bob), one coordinator process, four share-node processes, one relay.
describe('two identities on one coordinator (real processes)', () => {
  const dir = makeTempDir('multi-identity');
  const processes: ManagedProcess[] = [];
  let relay: LocalRelay;
  let coordinatorDir = '';
  const transport: Record<string, string> = {};
  const users: Record<string, string> = {};

  beforeAll(async () => {
    relay = await startLocalRelay({ port: 0 });
    const relays = [relay.url];
    // Each group made as a lab would; then the coordinator of "alice" takes over "bob" too.
    for (const name of ['alice', 'bob']) await ensureLabIdentity({ root: join(dir.path, name), threshold: 2, maxSigners: 2, relays });
    const [alice, bob] = [labLayout(join(dir.path, 'alice'), 2), labLayout(join(dir.path, 'bob'), 2)];
    coordinatorDir = alice.coordinatorDir;
    const config = (root: string) => JSON.parse(readFileSync(join(root, 'config.json'), 'utf8')) as { identities: { name: string }[] } & Record<string, unknown>;
    const [aliceConfig, bobConfig] = [config(alice.coordinatorDir), config(bob.coordinatorDir)];
    // The lab's secrets are plaintext-marked JSON (a real deployment seals them).
    const secrets = (root: string) => JSON.parse(readFileSync(join(root, 'secrets.json'), 'utf8')) as Secrets;
    const [aliceSecrets, bobSecrets] = [secrets(alice.coordinatorDir), secrets(bob.coordinatorDir)];
    writeJsonFileAtomic(join(coordinatorDir, 'config.json'), {
      ...aliceConfig,
      identities: [{ ...aliceConfig.identities[0]!, name: 'alice' }, { ...bobConfig.identities[0]!, name: 'bob' }],
    });
    writeJsonFileAtomic(join(coordinatorDir, 'secrets.json'), {
      ...aliceSecrets,
      identities: [{ ...aliceSecrets.identities[0]!, name: 'alice' }, { ...bobSecrets.identities[0]!, name: 'bob' }],
    });
    // bob's nodes now answer alice's coordinator.
    const coordinatorPubkey = (JSON.parse(readFileSync(join(alice.nodeDirs[0]!, 'config.json'), 'utf8')) as { coordinatorPubkey: string }).coordinatorPubkey;
    for (const nodeDir of bob.nodeDirs) {
      const nodeConfig = JSON.parse(readFileSync(join(nodeDir, 'config.json'), 'utf8')) as Record<string, unknown>;
      writeJsonFileAtomic(join(nodeDir, 'config.json'), { ...nodeConfig, coordinatorPubkey });
    }
    for (const [i, nodeDir] of [...alice.nodeDirs, ...bob.nodeDirs].entries()) {
      processes.push(startProcess({ name: `node-${i}`, script: ENTRY_POINTS.shareNode, args: ['--data', nodeDir, '--insecure-plaintext'] }));
    }
    const coordinator = startProcess({ name: 'coordinator', script: ENTRY_POINTS.coordinator, args: ['--data', coordinatorDir, '--insecure-plaintext'] });
    processes.push(coordinator);
    for (const name of ['alice', 'bob']) {
      const line = await coordinator.waitForLine((l) => parseStatusLine(l)?.event === 'identity' && parseStatusLine(l)?.identity === name, 30_000);
      transport[name] = String(parseStatusLine(line)!.transportPubkey);
      users[name] = String(parseStatusLine(line)!.userPubkey);
    }
    for (const name of ['alice', 'bob']) {
      await coordinator.waitForLine((l) => {
        const status = parseStatusLine(l);
        return status?.event === 'quorum' && status.identity === name && status.available === true;
      }, 30_000);
    }
  });

  afterAll(async () => {
    await Promise.all(processes.map((p) => p.stop()));
    await relay?.close();
    dir.remove();
  });

  const token = async (identity: string) => (await frostbunkerCli('token', 'create', '--identity', identity, '--perms', 'get_public_key,sign_event:1', '--data', coordinatorDir, '--insecure-plaintext')).trim();

  it('answers each identity on its own transport key, signing under its own group key', async () => {
    expect(transport.alice).not.toBe(transport.bob);
    expect(users.alice).not.toBe(users.bob);
    for (const name of ['alice', 'bob']) {
      const url = await token(name);
      expect(url.startsWith(`bunker://${transport[name]}?`)).toBe(true);
      const client = await connectBunkerSigner(url);
      try {
        expect(await withDeadline(client.signer.getPublicKey(), 15_000, 'get_public_key')).toBe(users[name]);
        const signed = await withDeadline(client.signer.signEvent({ kind: 1, content: `from ${name}`, tags: [], created_at: Math.floor(Date.now() / 1000) }), 20_000, 'sign');
        expect(signed.pubkey).toBe(users[name]);
        expect(verifyEvent({ ...signed })).toBe(true);
      } finally {
        await client.close();
      }
    }
  });

  it("keeps each identity's ACL apart: alice's token does not connect to bob", async () => {
    const url = await token('alice');
    const crossed = url.replace(`bunker://${transport.alice}`, `bunker://${transport.bob}`);
    await expect(connectBunkerSigner(crossed)).rejects.toThrow(/connection token/);
    const clients = (identity: string) => frostbunkerCli('clients', '--identity', identity, '--data', coordinatorDir).then((out) => JSON.parse(out) as unknown[]);
    expect((await clients('alice')).length).toBe(1);
    expect((await clients('bob')).length).toBe(1);
  });
});

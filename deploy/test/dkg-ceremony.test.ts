import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getPublicKey } from 'nostr-tools/pure';
import { afterEach, describe, expect, it } from 'vitest';
import { groupXOnlyKey, hexToBytes, identifierFromIndex, parseGroupPackage, startDkg } from '@frostbunker/shared/crypto';
import type { SecretsAccess } from '@frostbunker/shared/config';
import { silentLogger } from '@frostbunker/shared/logger';
import { createNip44Codec } from '@frostbunker/shared/nostr';
import {
  fromNodeCeremonyMessageSchema,
  isCeremonyMessage,
  toShareNodeMessageSchema,
  type FromNodeCeremonyMessage,
  type ToNodeCeremonyMessage,
  type ToShareNodeMessage,
  type XOnlyPubkey,
} from '@frostbunker/shared/protocol';
import { createMemoryNetwork, type Transport } from '@frostbunker/shared/transport';
import { CeremonyHandler } from '../../share-node/src/ceremony/ceremony-handler.js';
import { EpochFiles } from '../../share-node/src/ceremony/epoch-files.js';
import { initJoiningNode, loadJoiningNode } from '../../share-node/src/ceremony/joining.js';
import { loadShareNodeConfig, type ShareNodeConfig } from '../../share-node/src/config.js';
import { DkgCeremony, formatDkgReport } from '../src/keygen/dkg-ceremony.js';
import { writeCoordinatorConfig } from '../src/lab/lab-identity.js';

const ACCESS: SecretsAccess = { insecurePlaintext: true };
const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8'));
const roots: string[] = [];

type ReplyEdit = (label: string, reply: FromNodeCeremonyMessage) => FromNodeCeremonyMessage;
type SendEdit = (label: string, message: ToNodeCeremonyMessage) => ToNodeCeremonyMessage;

/**
 * n joining share nodes (made by `share-node init`) with the production CeremonyHandler and
 * EpochFiles, and the DKG driver as `keygen --dkg` builds it, over the in-memory transport.
 */
async function runDkg(options: { threshold: number; maxSigners: number; replyEdit?: ReplyEdit; sendEdit?: SendEdit }) {
  const network = createMemoryNetwork();
  const root = mkdtempSync(join(tmpdir(), 'frostbunker-dkg-'));
  roots.push(root);
  const coordinatorKey = randomBytes(32);
  const coordinatorPubkey = getPublicKey(coordinatorKey) as XOnlyPubkey;
  const coordinatorDir = join(root, 'coordinator');
  const nodes: { label: string; dir: string; nodePubkey: string; config: () => ShareNodeConfig | null }[] = [];
  for (let i = 1; i <= options.maxSigners; i++) {
    const dir = join(root, `node-${i}`);
    const label = `node-${i}`;
    const nodePubkey = await initJoiningNode(dir, { v: 1, label, relays: ['ws://127.0.0.1:1'], coordinatorPubkey, encryptionPubkeys: [] });
    const joining = await loadJoiningNode(dir, ACCESS);
    let config: ShareNodeConfig | null = null;
    const transport = network.transport<ToShareNodeMessage, FromNodeCeremonyMessage>({
      secretKey: hexToBytes(joining.nodeSecretKey),
      schema: toShareNodeMessageSchema,
      isKnownSender: (pubkey) => pubkey === coordinatorPubkey,
    });
    const handler = new CeremonyHandler({
      config: () => config,
      joining,
      files: new EpochFiles(dir, ACCESS),
      pending: null,
      codec: createNip44Codec(hexToBytes(joining.nodeSecretKey)),
      isFrozen: () => false,
      onSwitched: async () => {
        config = await loadShareNodeConfig(dir, ACCESS);
      },
      logger: silentLogger,
      nowSec: () => Math.floor(Date.now() / 1000),
      monotonicMs: () => performance.now(),
    });
    transport.onMessage(({ senderPubkey, message }) => {
      if (!isCeremonyMessage(message)) return;
      void handler.handle(message).then((reply) => transport.send(senderPubkey, options.replyEdit ? options.replyEdit(label, reply) : reply));
    });
    nodes.push({ label, dir, nodePubkey, config: () => config });
  }
  const inner = network.transport<FromNodeCeremonyMessage, ToNodeCeremonyMessage>({
    secretKey: coordinatorKey,
    schema: fromNodeCeremonyMessageSchema,
    isKnownSender: (pubkey) => nodes.some((n) => n.nodePubkey === pubkey),
  });
  const labelOf = (pubkey: string) => nodes.find((n) => n.nodePubkey === pubkey)!.label;
  const transport: Transport<FromNodeCeremonyMessage, ToNodeCeremonyMessage> = {
    selfPubkey: inner.selfPubkey,
    send: (to, message) => inner.send(to, options.sendEdit ? options.sendEdit(labelOf(to), message) : message),
    onMessage: (handler) => inner.onMessage(handler),
    dropped: () => inner.dropped(),
    close: () => inner.close(),
  };
  const ceremony = new DkgCeremony({
    threshold: options.threshold,
    members: nodes.map((n) => ({ label: n.label, nodePubkey: n.nodePubkey as XOnlyPubkey })),
    transport,
    commit: (group, members) => writeCoordinatorConfig({ coordinatorDir, relays: ['ws://127.0.0.1:1'], adminPort: 0, group, members }),
    stepTimeoutMs: 2_000,
    progress: () => {},
    nowSec: () => Math.floor(Date.now() / 1000),
    monotonicMs: () => performance.now(),
  });
  try {
    return { report: await ceremony.run(), nodes, coordinatorDir };
  } finally {
    ceremony.close();
    await inner.close();
  }
}

/** Nothing of the attempt is left: no coordinator identity, every node still joining with no pending share. */
function expectNothingCommitted(run: Awaited<ReturnType<typeof runDkg>>) {
  expect(existsSync(join(run.coordinatorDir, 'config.json'))).toBe(false);
  for (const node of run.nodes) {
    expect(node.config()).toBeNull();
    expect(readdirSync(node.dir).sort()).toEqual(['joining.json', 'node-key.json']);
  }
}

afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

describe('DKG among joining share nodes (keygen --dkg, issue 7)', () => {
  it('enrols every node at epoch 0 under one new group key that no single share makes, after a verified test signature', async () => {
    const run = await runDkg({ threshold: 2, maxSigners: 3 });
    console.log(`[figure]\n${formatDkgReport(run.report)}`);
    expect(run.report.outcome).toBe('committed');
    expect(run.report.steps.map((s) => [s.step, s.ok])).toEqual([['D1', true], ['D2', true], ['D3', true], ['D4', true], ['D5', true], ['D6', true]]);
    expect(run.report.testSignature).toEqual({ signers: ['node-1', 'node-2'], verified: true });
    expect(run.report.acknowledged).toEqual(['node-1', 'node-2', 'node-3']);
    const coordinator = readJson(join(run.coordinatorDir, 'config.json')).identities[0];
    const group = parseGroupPackage(coordinator.group);
    expect(group.groupKey).toBe(run.report.groupKey);
    expect(coordinator.epoch).toBe(0);
    expect(coordinator.members.map((m: { label: string; identifier: string }) => [m.label, m.identifier])).toEqual([1, 2, 3].map((i) => [`node-${i}`, identifierFromIndex(i)]));
    for (const node of run.nodes) {
      const config = node.config()!;
      expect([config.epoch, config.group.groupKey, config.share.identifier]).toEqual([0, group.groupKey, coordinator.members.find((m: { label: string }) => m.label === node.label).identifier]);
      expect(readdirSync(node.dir).sort()).toEqual(['config.json', 'secrets.json']);
      const share = readJson(join(node.dir, 'secrets.json')).signingShare as string;
      // share·G (x-only, as a Nostr key) is not the group's key: no single file holds the secret.
      expect(getPublicKey(hexToBytes(share))).not.toBe(groupXOnlyKey(group));
    }
  });

  it('aborts naming the node whose proof of knowledge was tampered with; nothing is committed anywhere', async () => {
    const run = await runDkg({
      threshold: 2,
      maxSigners: 3,
      replyEdit: (label, reply) => {
        if (label !== 'node-2' || reply.type !== 'ceremony_dkg_round1') return reply;
        const proof = reply.proofOfKnowledge;
        return { ...reply, proofOfKnowledge: `${proof.slice(0, 100)}${proof[100] === '0' ? '1' : '0'}${proof.slice(101)}` };
      },
    });
    expect(run.report.outcome).toBe('aborted');
    expect(run.report.failure?.reason).toMatch(/round two: .*contribution_rejected/);
    expect(run.report.failure?.culprits).toEqual(['node-2']);
    expect(run.report.groupKey).toBeNull();
    expectNothingCommitted(run);
  });

  it('aborts with a commitment mismatch naming node-1 when node-3 is shown another (valid) commitment vector for node-1', async () => {
    const other = startDkg({ identifier: identifierFromIndex(1), threshold: 2, maxSigners: 3 });
    other.state.discard();
    const run = await runDkg({
      threshold: 2,
      maxSigners: 3,
      sendEdit: (label, message) =>
        label === 'node-3' && message.type === 'ceremony_dkg_round1s'
          ? { ...message, round1: { ...message.round1, [identifierFromIndex(1)]: { commitments: [...other.message.commitments], proofOfKnowledge: other.message.proofOfKnowledge } } }
          : message,
    });
    expect(run.report.outcome).toBe('aborted');
    expect(run.report.failure?.reason).toMatch(/finish: .*commitment_mismatch/);
    expect(run.report.failure?.culprits).toContain('node-1');
    expect(run.report.failure?.culprits).not.toContain('node-2');
    expectNothingCommitted(run);
  });
});

import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getPublicKey } from 'nostr-tools/pure';
import { bytesToHex, dealerKeygen, type GroupPackage } from '@frostbunker/shared/crypto';
import { readJsonFile, writeJsonFileAtomic, writeSecretsFile, type SecretsAccess } from '@frostbunker/shared/config';
import { silentLogger } from '@frostbunker/shared/logger';
import { createNip44Codec } from '@frostbunker/shared/nostr';
import {
  computeGroupId,
  fromNodeCeremonyMessageSchema,
  isCeremonyMessage,
  toShareNodeMessageSchema,
  type FromNodeCeremonyMessage,
  type ToNodeCeremonyMessage,
  type ToShareNodeMessage,
  type XOnlyPubkey,
} from '@frostbunker/shared/protocol';
import { createMemoryNetwork, type Transport } from '@frostbunker/shared/transport';
import { z } from 'zod';
import { CeremonyHandler } from '../../../share-node/src/ceremony/ceremony-handler.js';
import { EpochFiles } from '../../../share-node/src/ceremony/epoch-files.js';
import { loadShareNodeConfig, type ShareNodeConfig } from '../../../share-node/src/config.js';
import { commitIdentityEpoch, DrillStateStore } from '../../src/drill/drill-state.js';
import { FailpointCrash, RefreshDrill } from '../../src/drill/refresh-drill.js';

export { FailpointCrash };
import { loadCoordinatorConfig } from '../../src/config.js';

export const ACCESS: SecretsAccess = { insecurePlaintext: true };


/** How a node misbehaves: rewrite (or drop, with undefined) its ceremony replies. */
export type ReplyEdit = (reply: FromNodeCeremonyMessage) => FromNodeCeremonyMessage | undefined;
/** What the coordinator does to a message on its way to `recipient` (equivocation tests). */
export type SendEdit = (recipientLabel: string, message: ToNodeCeremonyMessage) => ToNodeCeremonyMessage;

interface RunningNode {
  label: string;
  dir: string;
  config: ShareNodeConfig;
  handler: CeremonyHandler;
  transport: Transport<ToShareNodeMessage, FromNodeCeremonyMessage>;
  edit?: ReplyEdit;
  failpoints: Set<string>;
}

/**
 * A coordinator data directory and n share-node data directories on disk (plaintext secrets),
 * wired over the in-memory transport with the production CeremonyHandler, EpochFiles and
 * RefreshDrill. Nodes can be "killed" (at a failpoint) and restarted from their files.
 */
export async function createRefreshCluster(options: { threshold: number; maxSigners: number }) {
  const network = createMemoryNetwork();
  const root = mkdtempSync(join(tmpdir(), 'frostbunker-drill-'));
  const { group, shares } = dealerKeygen({ threshold: options.threshold, maxSigners: options.maxSigners });
  const coordinatorKey = randomBytes(32);
  const coordinatorPubkey = getPublicKey(coordinatorKey) as XOnlyPubkey;
  const nodeKeys = shares.map(() => randomBytes(32));
  const members = shares.map((share, i) => ({ identifier: share.identifier, nodePubkey: getPublicKey(nodeKeys[i]!) as XOnlyPubkey, label: `node-${i + 1}` }));
  const coordinatorDir = join(root, 'coordinator');
  const nodeDirs = shares.map((_, i) => join(root, `node-${i + 1}`));
  for (const [i, share] of shares.entries()) {
    writeJsonFileAtomic(join(nodeDirs[i]!, 'config.json'), {
      v: 1, label: members[i]!.label, relays: ['ws://127.0.0.1:1'], coordinatorPubkey, identifier: share.identifier, group, epoch: 0, members, encryptionPubkeys: [],
    });
    await writeSecretsFile(join(nodeDirs[i]!, 'secrets.json'), { v: 1, nodeSecretKey: bytesToHex(nodeKeys[i]!), signingShare: share.toHex() }, {});
  }
  await writeSecretsFile(join(coordinatorDir, 'secrets.json'), {
    v: 1, coordinatorSecretKey: bytesToHex(coordinatorKey), identities: [{ name: 'default', transportSecretKey: bytesToHex(randomBytes(32)), encryptionKeys: [bytesToHex(randomBytes(32))] }],
  }, {});
  writeJsonFileAtomic(join(coordinatorDir, 'config.json'), { v: 1, relays: ['ws://127.0.0.1:1'], identities: [{ name: 'default', group, epoch: 0, members }] });

  const nodes: (RunningNode | undefined)[] = [];

  /** Starts node `index` (0-based) from its files, as share-node/src/main.ts does. */
  async function startNode(index: number): Promise<RunningNode> {
    const dir = nodeDirs[index]!;
    const files = new EpochFiles(dir, ACCESS);
    files.recoverCommitted();
    let config = await loadShareNodeConfig(dir, ACCESS);
    const pending = await files.loadPending(config.share.identifier);
    const node: RunningNode = {
      label: members[index]!.label,
      dir,
      config,
      failpoints: nodes[index]?.failpoints ?? new Set(),
      transport: network.transport<ToShareNodeMessage, FromNodeCeremonyMessage>({
        secretKey: nodeKeys[index]!,
        schema: toShareNodeMessageSchema,
        isKnownSender: (pubkey) => pubkey === coordinatorPubkey,
      }),
      handler: undefined as unknown as CeremonyHandler,
    };
    node.handler = new CeremonyHandler({
      config: () => config,
      files,
      pending,
      codec: createNip44Codec(nodeKeys[index]!),
      isFrozen: () => false,
      onSwitched: async () => {
        config = await loadShareNodeConfig(dir, ACCESS);
        node.config = config;
      },
      logger: silentLogger,
      nowSec: () => Math.floor(Date.now() / 1000),
      monotonicMs: () => performance.now(),
      failpoint: (name) => {
        if (node.failpoints.has(name)) throw new FailpointCrash(name);
      },
    });
    node.transport.onMessage(({ senderPubkey, message }) => {
      if (!isCeremonyMessage(message)) return;
      node.handler.handle(message).then(
        (reply) => {
          const edited = node.edit ? node.edit(reply) : reply;
          if (edited) void node.transport.send(senderPubkey, edited);
        },
        () => void stopNode(index), // a crash: the process is gone
      );
    });
    nodes[index] = node;
    return node;
  }

  function stopNode(index: number): Promise<void> {
    const node = nodes[index];
    nodes[index] = undefined;
    return node ? node.transport.close() : Promise.resolve();
  }

  for (let i = 0; i < shares.length; i++) await startNode(i);

  /** A drill as `frostbunker drill refresh` builds it, from the coordinator's files as they are now. */
  async function drill(opts: { dryRun?: boolean; sendEdit?: SendEdit; failpoints?: string[]; stepTimeoutMs?: number } = {}) {
    const config = await loadCoordinatorConfig(coordinatorDir, ACCESS);
    const identity = config.identities[0]!;
    const memberKeys = new Set<string>(members.map((m) => m.nodePubkey));
    const inner = network.transport<FromNodeCeremonyMessage, ToNodeCeremonyMessage>({
      secretKey: coordinatorKey,
      schema: fromNodeCeremonyMessageSchema,
      isKnownSender: (pubkey) => memberKeys.has(pubkey),
    });
    const byPubkey = new Map<string, string>(members.map((m) => [m.nodePubkey, m.label]));
    const transport: Transport<FromNodeCeremonyMessage, ToNodeCeremonyMessage> = {
      selfPubkey: inner.selfPubkey,
      send: (to, message) => inner.send(to, opts.sendEdit ? opts.sendEdit(byPubkey.get(to)!, message) : message),
      onMessage: (handler) => inner.onMessage(handler),
      dropped: () => inner.dropped(),
      close: () => inner.close(),
    };
    const progress: string[] = [];
    const runner = new RefreshDrill({
      identityName: 'default',
      identity: identity.signing,
      transport,
      store: new DrillStateStore(coordinatorDir, 'default'),
      commitCoordinatorConfig: (g, epoch) => commitIdentityEpoch(coordinatorDir, 'default', g, epoch),
      dryRun: opts.dryRun ?? false,
      stepTimeoutMs: opts.stepTimeoutMs ?? 1_500,
      progress: (line) => void progress.push(line),
      nowSec: () => Math.floor(Date.now() / 1000),
      monotonicMs: () => performance.now(),
      failpoint: (name) => {
        if (opts.failpoints?.includes(name)) throw new FailpointCrash(name);
      },
    });
    try {
      return { report: await runner.run(), progress };
    } finally {
      runner.close();
      await inner.close();
    }
  }

  const coordinatorEpoch = () =>
    readJsonFile(join(coordinatorDir, 'config.json'), z.looseObject({ identities: z.array(z.looseObject({ epoch: z.number(), group: z.unknown() })) })).identities[0]!;

  return {
    root,
    group: group as GroupPackage,
    shares,
    members,
    groupId: computeGroupId({ ...group, members }),
    coordinatorDir,
    nodeDirs,
    nodes,
    startNode,
    stopNode,
    drill,
    coordinatorEpoch,
    loadNode: (index: number) => loadShareNodeConfig(nodeDirs[index]!, ACCESS),
  };
}

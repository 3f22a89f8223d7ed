import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getPublicKey } from 'nostr-tools/pure';
import { dealerKeygen, groupXOnlyKey } from '@frostbunker/shared/crypto';
import { createLogger, silentLogger } from '@frostbunker/shared/logger';
import {
  computeGroupId,
  fromNodeMessageSchema,
  toNodeMessageSchema,
  type FromNodeMessage,
  type ToNodeMessage,
  type XOnlyPubkey,
} from '@frostbunker/shared/protocol';
import { createMemoryNetwork } from '@frostbunker/shared/transport';
import { ShareSigner } from '../../../share-node/src/signer/share-signer.js';
import { NodeLog } from '../../../share-node/src/node-log.js';
import { NodeState } from '../../../share-node/src/node-state.js';
import { DEFAULT_VETO_POLICY, type VetoPolicy } from '../../../share-node/src/veto/policy-schema.js';
import { SigningCoordinator, type OneRoundOptions, type SigningObserver } from '../../src/signing/signing-coordinator.js';
import type { SigningIdentity } from '../../src/signing/identity.js';

/** How a test node misbehaves: answer normally, stay silent, or rewrite (or hold back) its reply. */
export type NodeBehaviour =
  | 'honest'
  | 'silent'
  | ((reply: FromNodeMessage) => FromNodeMessage | undefined | Promise<FromNodeMessage | undefined>);

/** A behaviour that sends the replies `which` selects `ms` later: a slow node, not a silent one. */
export function delayReplies(ms: number, which: (reply: FromNodeMessage) => boolean): NodeBehaviour {
  return (reply) => (which(reply) ? new Promise((resolve) => setTimeout(() => resolve(reply), ms)) : reply);
}

/**
 * A coordinator and k-of-n share signers wired over the in-memory transport, with the production
 * SigningCoordinator and ShareSigner. Behaviour per node can be changed between requests.
 */
export function createMemoryCluster(options: {
  threshold: number;
  maxSigners: number;
  roundTimeoutMs?: number;
  /** Directory for each node's log and state (`<dir>/node-<i>`); a fresh temp dir by default. */
  dir?: string;
  policies?: Partial<Record<number, Partial<VetoPolicy>>>;
  /** One-round signing with pre-shared commitments (issue 9); two rounds only when absent. */
  oneRound?: OneRoundOptions;
  observer?: SigningObserver;
}) {
  const network = createMemoryNetwork();
  const baseDir = options.dir ?? mkdtempSync(join(tmpdir(), 'frostbunker-memory-cluster-'));
  const { group, shares } = dealerKeygen({ threshold: options.threshold, maxSigners: options.maxSigners });
  const coordinatorKey = randomBytes(32);
  const coordinatorPubkey = getPublicKey(coordinatorKey) as XOnlyPubkey;
  const nodeKeys = shares.map(() => randomBytes(32));
  const members = shares.map((share, i) => ({
    identifier: share.identifier,
    nodePubkey: getPublicKey(nodeKeys[i]!) as XOnlyPubkey,
    label: `node-${i + 1}`,
  }));
  const groupId = computeGroupId({ ...group, members });
  const identity: SigningIdentity = { groupId, group, epoch: 0, members };
  const memberKeys = new Set(members.map((m) => m.nodePubkey));

  const coordinatorTransport = network.transport<FromNodeMessage, ToNodeMessage>({
    secretKey: coordinatorKey,
    schema: fromNodeMessageSchema,
    isKnownSender: (pubkey) => memberKeys.has(pubkey),
  });
  const logLines: Record<string, unknown>[] = [];
  const coordinator = new SigningCoordinator({
    identity,
    sender: coordinatorTransport,
    roundTimeoutMs: options.roundTimeoutMs ?? 300,
    logger: createLogger({ name: 'coordinator', level: 'debug', write: (line) => void logLines.push(JSON.parse(line)) }),
    ...(options.oneRound ? { oneRound: options.oneRound } : {}),
    ...(options.observer ? { observer: options.observer } : {}),
  });
  coordinatorTransport.onMessage((received) => coordinator.handleMessage(received));

  const behaviours: NodeBehaviour[] = shares.map(() => 'honest');
  const sendLater: ((message: FromNodeMessage) => void)[] = [];
  const makeSigner = (i: number) => {
    const nodeDir = join(baseDir, `node-${i + 1}`);
    const policy = { ...DEFAULT_VETO_POLICY, ...options.policies?.[i + 1] };
    return new ShareSigner({
      groupId,
      epoch: 0,
      group,
      groupPubkey: groupXOnlyKey(group),
      share: shares[i]!,
      logger: silentLogger,
      nowSec: () => Math.floor(Date.now() / 1000),
      monotonicMs: () => performance.now(),
      policy: () => ({ policy, rules: [] }),
      log: NodeLog.open(`${nodeDir}/node-log.jsonl`, { nowSec: () => Math.floor(Date.now() / 1000) }),
      state: new NodeState(`${nodeDir}/state.json`),
      sendLater: (message) => sendLater[i]!(message),
    });
  };
  const signers = shares.map((_, i) => {
    const transport = network.transport<ToNodeMessage, FromNodeMessage>({
      secretKey: nodeKeys[i]!,
      schema: toNodeMessageSchema,
      isKnownSender: (pubkey) => pubkey === coordinatorPubkey,
    });
    transport.onMessage(({ senderPubkey, message }) => {
      const behaviour = behaviours[i]!;
      if (behaviour === 'silent') return;
      // signers[i], not a captured signer: restartNode swaps in a new process's state.
      // Sent at once, not held for the node log's fsync as serveShareSigner does: delivery order
      // stays deterministic here (the gate itself: share-node/test/node-log-flush.test.ts).
      const reply = signers[i]!.handle(message);
      const sent = behaviour === 'honest' ? reply : behaviour(reply);
      if (sent instanceof Promise) void sent.then((later) => later && transport.send(senderPubkey, later));
      else if (sent) void transport.send(senderPubkey, sent);
    });
    sendLater[i] = (message) => void transport.send(coordinatorPubkey, message);
    return makeSigner(i);
  });

  return {
    coordinator,
    signers,
    group,
    groupId,
    members,
    userPubkey: groupXOnlyKey(group),
    network,
    logLines,
    baseDir,
    setBehaviour(index: number, behaviour: NodeBehaviour) {
      behaviours[index - 1] = behaviour;
    },
    /** Node `index` (1-based) restarts: same share, log and state on disk, nothing from memory. */
    restartNode(index: number) {
      signers[index - 1] = makeSigner(index - 1);
    },
  };
}

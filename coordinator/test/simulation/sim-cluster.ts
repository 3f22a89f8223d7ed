import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { getPublicKey } from 'nostr-tools/pure';
import { dealerKeygen, groupXOnlyKey, type SigningCommitments, type SigningShare } from '@frostbunker/shared/crypto';
import { silentLogger } from '@frostbunker/shared/logger';
import {
  computeGroupId,
  fromNodeMessageSchema,
  toNodeMessageSchema,
  type FromNodeMessage,
  type ToNodeMessage,
  type UnsignedEventMessage,
  type XOnlyPubkey,
} from '@frostbunker/shared/protocol';
import { createMemoryNetwork, type MemoryNetwork, type ReceivedMessage, type Transport } from '@frostbunker/shared/transport';
import { NodeLog } from '../../../share-node/src/node-log.js';
import { NodeState } from '../../../share-node/src/node-state.js';
import { serveShareSigner } from '../../../share-node/src/share-node-service.js';
import { ShareSigner } from '../../../share-node/src/signer/share-signer.js';
import { DEFAULT_VETO_POLICY } from '../../../share-node/src/veto/policy-schema.js';
import type { SigningIdentity } from '../../src/signing/identity.js';
import { IdentityRuntime } from '../../src/signing/identity-runtime.js';
import { QuorumMonitor, type QuorumStatus, type ShareNodeHealth } from '../../src/signing/quorum-monitor.js';
import { SigningCoordinator, type NodeSender, type SignedEvent, type SignHooks } from '../../src/signing/signing-coordinator.js';
import { CommitmentLedger } from './commitment-ledger.js';
import type { SimBus } from './sim-bus.js';

export const COORDINATOR = 'coordinator';
/** config.ts default pingIntervalMs. */
const PING_INTERVAL_MS = 2_000;

export type SessionKind = 'one-round' | 'two-round';

/** Counters a coordinator process loses when it dies, summed over every process of the run. */
export interface CoordinatorTotals {
  sessionsStarted: number;
  oneRoundSessions: number;
  lateMessages: number;
}

interface Process {
  generation: number;
  up: boolean;
  close: () => void;
}

/**
 * The production coordinator signing stack as main.ts builds it (IdentityRuntime over a
 * SigningCoordinator with one-round signing on, and a QuorumMonitor) and k-of-n production
 * ShareSigners served by `serveShareSigner`, each on its own in-memory transport, with the SimBus
 * on every receive path. A crash closes a component's transport (it hears nothing and
 * its sends fail); a restart builds a new process: a fresh transport and a fresh SigningCoordinator
 * or ShareSigner from the same share, log and state files, so in-memory nonces and pools are gone.
 */
export class SimCluster {
  readonly userPubkey: XOnlyPubkey;
  readonly nodeLabels: readonly string[];
  readonly ledger = new CommitmentLedger();
  /** Every signing session the coordinators opened, by event id, with its protocol. */
  readonly sessionsByEvent = new Map<string, Map<string, SessionKind>>();
  /** Node logs whose hash chain did not check out when a restarted node reopened them. */
  readonly brokenLogs: string[] = [];
  readonly #bus: SimBus;
  readonly #network: MemoryNetwork = createMemoryNetwork();
  readonly #dir: string;
  readonly #roundTimeoutMs: number;
  readonly #identity: SigningIdentity;
  readonly #shares: readonly SigningShare[];
  readonly #coordinatorKey = randomBytes(32);
  readonly #coordinatorPubkey: XOnlyPubkey;
  readonly #nodeKeys: readonly Uint8Array[];
  readonly #labelByPubkey: ReadonlyMap<string, string>;
  readonly #processes = new Map<string, Process>();
  readonly #signers = new Map<string, ShareSigner>();
  readonly #totals: CoordinatorTotals = { sessionsStarted: 0, oneRoundSessions: 0, lateMessages: 0 };
  #coordinator: SigningCoordinator | undefined;
  #runtime: IdentityRuntime<SignedEvent, SignHooks, QuorumStatus, ShareNodeHealth[]> | undefined;

  constructor(options: { bus: SimBus; dir: string; threshold: number; maxSigners: number; roundTimeoutMs: number }) {
    this.#bus = options.bus;
    this.#dir = options.dir;
    this.#roundTimeoutMs = options.roundTimeoutMs;
    const { group, shares } = dealerKeygen({ threshold: options.threshold, maxSigners: options.maxSigners });
    this.#shares = shares;
    this.#nodeKeys = shares.map(() => randomBytes(32));
    const members = shares.map((share, i) => ({
      identifier: share.identifier,
      nodePubkey: getPublicKey(this.#nodeKeys[i]!) as XOnlyPubkey,
      label: `node-${i + 1}`,
    }));
    this.#identity = { groupId: computeGroupId({ ...group, members }), group, epoch: 0, members };
    this.#coordinatorPubkey = getPublicKey(this.#coordinatorKey) as XOnlyPubkey;
    this.#labelByPubkey = new Map(members.map((m) => [m.nodePubkey, m.label]));
    this.userPubkey = groupXOnlyKey(group);
    this.nodeLabels = members.map((m) => m.label);
    this.#startCoordinator(0);
    members.forEach((_, i) => this.#startNode(i, 0));
  }

  /** The running coordinator's signer (for its counters). */
  get coordinator(): SigningCoordinator {
    if (this.#coordinator === undefined || !this.isUp(COORDINATOR)) throw new Error('the coordinator is down');
    return this.#coordinator;
  }

  /** What the NIP-46 endpoint signs through, as in main.ts. */
  sign(event: UnsignedEventMessage): Promise<SignedEvent> {
    if (this.#runtime === undefined || !this.isUp(COORDINATOR)) throw new Error('the coordinator is down');
    return this.#runtime.sign(event);
  }

  get coordinatorGeneration(): number {
    return this.#processes.get(COORDINATOR)!.generation;
  }

  /** Live share signers (down nodes are left out). */
  get signers(): ShareSigner[] {
    return this.nodeLabels.filter((label) => this.isUp(label)).map((label) => this.#signers.get(label)!);
  }

  isUp(component: string): boolean {
    return this.#processes.get(component)?.up === true;
  }

  crash(component: string): void {
    const running = this.#processes.get(component);
    if (running === undefined || !running.up) throw new Error(`${component} is not running`);
    if (component === COORDINATOR) {
      const stats = this.#coordinator!.stats();
      this.#totals.sessionsStarted += stats.sessionsStarted;
      this.#totals.oneRoundSessions += stats.oneRoundSessions;
      this.#totals.lateMessages += stats.lateMessages;
    }
    running.up = false;
    running.close();
    this.#bus.note('crash', component);
  }

  restart(component: string): void {
    const running = this.#processes.get(component);
    if (running === undefined || running.up) throw new Error(`${component} is running`);
    if (component === COORDINATOR) this.#startCoordinator(running.generation + 1);
    else this.#startNode(this.nodeLabels.indexOf(component), running.generation + 1);
  }

  /** The run's totals including the coordinator process still running. */
  coordinatorTotals(): CoordinatorTotals {
    const live = this.isUp(COORDINATOR) ? this.#coordinator!.stats() : { sessionsStarted: 0, oneRoundSessions: 0, lateMessages: 0 };
    return {
      sessionsStarted: this.#totals.sessionsStarted + live.sessionsStarted,
      oneRoundSessions: this.#totals.oneRoundSessions + live.oneRoundSessions,
      lateMessages: this.#totals.lateMessages + live.lateMessages,
    };
  }

  #startCoordinator(generation: number): void {
    const memberKeys = new Set(this.#identity.members.map((m) => m.nodePubkey));
    const transport = this.#network.transport<FromNodeMessage, ToNodeMessage>({
      secretKey: this.#coordinatorKey,
      schema: fromNodeMessageSchema,
      isKnownSender: (pubkey) => memberKeys.has(pubkey),
    });
    const sender: NodeSender = {
      send: (recipient, message) => {
        if (message.type === 'round1_request' || message.type === 'sign_request') {
          const sessions = this.sessionsByEvent.get(message.eventId) ?? new Map<string, SessionKind>();
          this.sessionsByEvent.set(message.eventId, sessions.set(message.sessionId, message.type === 'sign_request' ? 'one-round' : 'two-round'));
        }
        return transport.send(recipient, message);
      },
    };
    // As main.ts builds it: the signer and the quorum monitor (whose pongs also refill the pools).
    const runtime = new IdentityRuntime({
      name: 'default',
      identity: this.#identity,
      makeSigner: (identity) => {
        this.#coordinator = new SigningCoordinator({ identity, sender, roundTimeoutMs: this.#roundTimeoutMs, logger: silentLogger, oneRound: {} });
        return this.#coordinator;
      },
      makeMonitor: (identity) => new QuorumMonitor({ identity, sender, intervalMs: PING_INTERVAL_MS, logger: silentLogger, onChange: () => {} }),
      retireAfterMs: 4 * this.#roundTimeoutMs,
      logger: silentLogger,
    });
    const running: Process = {
      generation,
      up: true,
      close: () => {
        runtime.stop();
        void transport.close();
      },
    };
    this.#processes.set(COORDINATOR, running);
    this.#runtime = runtime;
    transport.onMessage((received) => {
      const { message } = received;
      this.#bus.post(
        { from: this.#labelByPubkey.get(received.senderPubkey) ?? 'unknown', to: COORDINATOR, type: message.type, sessionId: message.sessionId, ...eventIdOf(message) },
        () => runtime.handleMessage(received),
        () => running.up && running.generation === generation,
      );
    });
    runtime.start();
    if (generation > 0) this.#bus.note('restart', COORDINATOR);
  }

  #startNode(index: number, generation: number): void {
    const label = this.nodeLabels[index]!;
    const share = this.#shares[index]!;
    const nodeDir = join(this.#dir, label);
    const nowSec = () => Math.floor(Date.now() / 1000);
    const log = NodeLog.open(join(nodeDir, 'node-log.jsonl'), { nowSec });
    if (!log.chainAtOpen.ok) this.brokenLogs.push(`${label} generation ${generation}: line ${log.chainAtOpen.brokenAtLine}`);
    const transport = this.#network.transport<ToNodeMessage, FromNodeMessage>({
      secretKey: this.#nodeKeys[index]!,
      schema: toNodeMessageSchema,
      isKnownSender: (pubkey) => pubkey === this.#coordinatorPubkey,
    });
    // Replies are not held for the node log's fsync here (the ledgered sender ignores it): real
    // fsyncs would finish in real time, outside the simulation's virtual clock.
    const running: Process = {
      generation,
      up: true,
      close: () => {
        log.close();
        void transport.close();
      },
    };
    this.#processes.set(label, running);
    // The request being answered: serveShareSigner replies synchronously, so the reply that
    // follows is to this message, and a partial signature was made with its own commitment in it.
    let answering: ToNodeMessage | undefined;
    const ledgered: Transport<ToNodeMessage, FromNodeMessage> = {
      selfPubkey: transport.selfPubkey,
      send: (recipient, reply) => {
        if (reply.type === 'round2_share' || reply.type === 'sign_share') {
          const own = ownCommitment(answering, reply.sessionId, share.identifier);
          if (own === undefined) throw new Error(`${label} sent ${reply.type} for ${reply.sessionId} with no request carrying its commitment`);
          this.ledger.record(own, { node: label, generation, sessionId: reply.sessionId, type: reply.type });
        }
        return transport.send(recipient, reply);
      },
      onMessage: (handler) =>
        transport.onMessage((received: ReceivedMessage<ToNodeMessage>) => {
          const { message } = received;
          this.#bus.post(
            { from: COORDINATOR, to: label, type: message.type, sessionId: message.sessionId, ...eventIdOf(message) },
            () => {
              answering = message;
              handler(received);
              answering = undefined;
            },
            () => running.up && running.generation === generation,
          );
        }),
      dropped: () => transport.dropped(),
      close: () => transport.close(),
    };
    const signer = new ShareSigner({
      groupId: this.#identity.groupId,
      epoch: this.#identity.epoch,
      group: this.#identity.group,
      groupPubkey: this.userPubkey,
      share,
      logger: silentLogger,
      nowSec,
      monotonicMs: () => performance.now(),
      // Node-local rate limits would end the run at the 60th kind-1 of a minute; G15b is about the protocol.
      policy: () => ({ policy: { ...DEFAULT_VETO_POLICY, rateLimits: { perMinute: 1e9, perHour: 1e9, perDay: 1e9 } }, rules: [] }),
      log,
      state: new NodeState(join(nodeDir, 'state.json')),
      sendLater: (message) => void ledgered.send(this.#coordinatorPubkey, message),
    });
    this.#signers.set(label, signer);
    serveShareSigner({ transport: ledgered, signer, logger: silentLogger });
    if (generation > 0) this.#bus.note('restart', label);
  }
}

function eventIdOf(message: ToNodeMessage | FromNodeMessage): { eventId?: string } {
  return 'eventId' in message ? { eventId: message.eventId } : {};
}

/** The answering node's own commitment in the request `sessionId` (round 2 or one-round package). */
function ownCommitment(request: ToNodeMessage | undefined, sessionId: string, identifier: string): SigningCommitments | undefined {
  if (request === undefined || request.sessionId !== sessionId) return undefined;
  if (request.type !== 'round2_request' && request.type !== 'sign_request') return undefined;
  return request.commitments.find((c) => c.identifier === identifier);
}

import { randomBytes } from 'node:crypto';
import type { Logger } from '@frostbunker/shared/logger';
import { NODE_PROTOCOL_VERSION, type FromNodeMessage, type SessionId } from '@frostbunker/shared/protocol';
import type { ReceivedMessage } from '@frostbunker/shared/transport';
import type { SigningIdentity } from './identity.js';
import type { NodeSender } from './signing-coordinator.js';

export interface QuorumStatus {
  /** At least k nodes answer and are not frozen. */
  available: boolean;
  threshold: number;
  online: string[];
  offline: string[];
  /** Online but refusing everything (kill switch). */
  frozen: string[];
}

/** One share node as health reports show it. */
export interface ShareNodeHealth {
  label: string;
  online: boolean;
  frozen: boolean;
  /** Since the last pong, or null if none yet. */
  lastSeenMsAgo: number | null;
  /** Round trip of the last answered ping, or null. */
  latencyMs: number | null;
  epoch: number;
}

/**
 * Pings every share node of one identity at a fixed interval and reports which answered recently.
 * Only informs operators and readiness; signing never waits for it (round 1 goes to all nodes).
 */
export class QuorumMonitor {
  readonly #identity: SigningIdentity;
  readonly #sender: NodeSender;
  readonly #intervalMs: number;
  readonly #logger: Logger;
  readonly #onChange: (status: QuorumStatus) => void;
  readonly #lastPongMs = new Map<string, number>();
  readonly #frozen = new Set<string>();
  readonly #latencyMs = new Map<string, number>();
  readonly #epochs = new Map<string, number>();
  /** Probe id -> when it was sent, for round-trip times (the last few probes only). */
  readonly #probes = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;
  #lastReported = '';

  constructor(options: {
    identity: SigningIdentity;
    sender: NodeSender;
    intervalMs: number;
    logger: Logger;
    onChange: (status: QuorumStatus) => void;
  }) {
    this.#identity = options.identity;
    this.#sender = options.sender;
    this.#intervalMs = options.intervalMs;
    this.#logger = options.logger;
    this.#onChange = options.onChange;
  }

  start(): void {
    this.#tick();
    this.#timer = setInterval(() => this.#tick(), this.#intervalMs);
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  handleMessage(received: ReceivedMessage<FromNodeMessage>): void {
    const { message } = received;
    if (message.type !== 'pong' || message.groupId !== this.#identity.groupId) return;
    const member = this.#identity.members.find((m) => m.nodePubkey === received.senderPubkey);
    if (!member || member.identifier !== message.identifier) return;
    const nowMs = performance.now();
    this.#lastPongMs.set(member.label, nowMs);
    const sentMs = this.#probes.get(message.sessionId);
    if (sentMs !== undefined) this.#latencyMs.set(member.label, Math.round((nowMs - sentMs) * 10) / 10);
    this.#epochs.set(member.label, message.epoch);
    if (message.frozen) this.#frozen.add(member.label);
    else this.#frozen.delete(member.label);
    this.#report();
  }

  status(): QuorumStatus {
    const now = performance.now();
    const online: string[] = [];
    const offline: string[] = [];
    for (const member of this.#identity.members) {
      const seen = this.#lastPongMs.get(member.label);
      (seen !== undefined && now - seen < this.#intervalMs * 3 ? online : offline).push(member.label);
    }
    const frozen = online.filter((label) => this.#frozen.has(label));
    const serving = online.length - frozen.length;
    return { available: serving >= this.#identity.group.threshold, threshold: this.#identity.group.threshold, online, offline, frozen };
  }

  /** Per-node detail for `/health` and `/metrics`. */
  details(): ShareNodeHealth[] {
    const now = performance.now();
    const { online } = this.status();
    return this.#identity.members.map((member) => {
      const seen = this.#lastPongMs.get(member.label);
      return {
        label: member.label,
        online: online.includes(member.label),
        frozen: this.#frozen.has(member.label),
        lastSeenMsAgo: seen === undefined ? null : Math.round(now - seen),
        latencyMs: this.#latencyMs.get(member.label) ?? null,
        epoch: this.#epochs.get(member.label) ?? this.#identity.epoch,
      };
    });
  }

  #tick(): void {
    const sessionId = randomBytes(16).toString('hex') as SessionId;
    this.#probes.set(sessionId, performance.now());
    if (this.#probes.size > 8) this.#probes.delete(this.#probes.keys().next().value!);
    for (const member of this.#identity.members) {
      const ping = { v: NODE_PROTOCOL_VERSION, type: 'ping', groupId: this.#identity.groupId, epoch: this.#identity.epoch, sessionId } as const;
      this.#sender.send(member.nodePubkey, ping).catch((error: unknown) => {
        this.#logger.debug('ping not sent', { node: member.label, error: String(error) });
      });
    }
    this.#report();
  }

  #report(): void {
    const status = this.status();
    const key = JSON.stringify(status);
    if (key === this.#lastReported) return;
    this.#lastReported = key;
    this.#onChange(status);
  }
}

import { FrostbunkerError, VetoError } from '@frostbunker/shared/errors';
import type { RelayHealth } from '@frostbunker/shared/transport';
import type { ShareNodeHealth } from '../signing/quorum-monitor.js';
import { MetricsRegistry } from './metrics.js';

/** Seconds; a threshold signature takes ~0.1–0.5 s here, an approval up to minutes. */
const SIGN_BUCKETS = [0.05, 0.1, 0.2, 0.3, 0.5, 1, 2, 5, 10, 30, 120];

/** Sessions per signing request; the ROAST bound is n − k + 1 (2 in 2-of-3). */
const SESSION_BUCKETS = [1, 2, 3, 4, 6];

/** What `/metrics` reads at scrape time (each identity's live state). */
export interface MetricsSources {
  identities(): Iterable<{
    name: string;
    quorumAvailable: boolean;
    nodes: readonly ShareNodeHealth[];
    dropped: Readonly<Record<string, number | undefined>>;
    /** One-round signing: unused pre-shared commitments held per node label. */
    pooledCommitments: Readonly<Record<string, number>>;
  }>;
  relays(): readonly RelayHealth[];
  pendingApprovals(): number;
  /** Node channel (coordinator <-> share nodes) events dropped by the transport, by reason, since start. */
  nodeChannelDropped(): Readonly<Record<string, number | undefined>>;
}

/**
 * The coordinator's Prometheus metrics (issue 5): requests by method and outcome, ACL decisions,
 * sign latency, vetoes by node and reason, failovers, quorum availability, relay health, drops.
 */
export class CoordinatorMetrics {
  readonly registry = new MetricsRegistry();
  readonly #requests = this.registry.counter('frostbunker_nip46_requests_total', 'NIP-46 requests answered, by identity, method and outcome');
  readonly #decisions = this.registry.counter('frostbunker_acl_decisions_total', 'Live ACL verdicts, by identity and decision (allow, deny, ask)');
  readonly #signSeconds = this.registry.histogram('frostbunker_sign_duration_seconds', 'Threshold signing time per request (both rounds, failovers included)', SIGN_BUCKETS);
  readonly #signFailures = this.registry.counter('frostbunker_sign_failures_total', 'Signing requests that ended without a signature, by identity and error code');
  readonly #vetoes = this.registry.counter('frostbunker_vetoes_total', 'Share node refusals, by identity, node and reason code');
  readonly #failovers = this.registry.counter('frostbunker_signing_failovers_total', 'Signing sessions retried without some nodes, by identity, node and cause');
  readonly #lateMessages = this.registry.counter('frostbunker_late_messages_total', 'Share node messages no open session could use (closed or unknown session, or past its phase): dropped, never aggregated; by identity, node and type');
  readonly #sessionsPerRequest = this.registry.histogram('frostbunker_signing_sessions_per_request', 'Signing sessions started per signing request (signed or not)', SESSION_BUCKETS);
  readonly #invalidPartials = this.registry.counter('frostbunker_invalid_partials_total', 'Partial signatures that failed verification, by identity and node (each has an audit row with the node-signed evidence)');

  constructor(sources: MetricsSources) {
    this.registry.gauge('frostbunker_quorum_available', '1 when at least k share nodes of the identity answer and are not frozen', () =>
      [...sources.identities()].map((i) => [{ identity: i.name }, i.quorumAvailable ? 1 : 0] as const),
    );
    this.registry.gauge('frostbunker_share_node_online', '1 when the share node answered a recent ping', () =>
      [...sources.identities()].flatMap((i) => i.nodes.map((n) => [{ identity: i.name, node: n.label }, n.online ? 1 : 0] as const)),
    );
    this.registry.gauge('frostbunker_share_node_frozen', '1 when the share node reports its kill switch on', () =>
      [...sources.identities()].flatMap((i) => i.nodes.map((n) => [{ identity: i.name, node: n.label }, n.frozen ? 1 : 0] as const)),
    );
    this.registry.gauge('frostbunker_share_node_ping_ms', 'Round trip of the last answered ping', () =>
      [...sources.identities()].flatMap((i) => i.nodes.filter((n) => n.latencyMs !== null).map((n) => [{ identity: i.name, node: n.label }, n.latencyMs!] as const)),
    );
    this.registry.gauge('frostbunker_relay_connected', '1 when the relay socket is open', () => sources.relays().map((r) => [{ relay: r.url }, r.connected ? 1 : 0] as const));
    this.registry.gauge('frostbunker_relay_reconnects', 'Reconnections since start, per relay', () => sources.relays().map((r) => [{ relay: r.url }, r.reconnects] as const));
    this.registry.gauge('frostbunker_relay_degraded', '1 while a subscription probe on the relay is unanswered (connected, not delivering)', () =>
      sources.relays().map((r) => [{ relay: r.url }, r.degraded ? 1 : 0] as const),
    );
    this.registry.gauge('frostbunker_relay_probe_misses', 'Subscription probes the relay accepted but never delivered, since start', () =>
      sources.relays().map((r) => [{ relay: r.url }, r.probeMisses] as const),
    );
    this.registry.gauge('frostbunker_nip46_dropped', 'NIP-46 events dropped without a reply, by identity and reason (since start)', () =>
      [...sources.identities()].flatMap((i) => Object.entries(i.dropped).map(([reason, n]) => [{ identity: i.name, reason }, n ?? 0] as const)),
    );
    this.registry.gauge('frostbunker_node_channel_dropped', 'Share node events dropped by the coordinator\'s node transport, by reason (since start)', () =>
      Object.entries(sources.nodeChannelDropped()).map(([reason, n]) => [{ reason }, n ?? 0] as const),
    );
    this.registry.gauge('frostbunker_pooled_commitments', 'One-round signing: unused pre-shared commitments held per share node', () =>
      [...sources.identities()].flatMap((i) => Object.entries(i.pooledCommitments).map(([node, n]) => [{ identity: i.name, node }, n] as const)),
    );
    this.registry.gauge('frostbunker_approvals_pending', 'Requests waiting for an operator (auth_url)', () => [[{}, sources.pendingApprovals()]]);
  }

  request(identity: string, method: string, ok: boolean): void {
    this.#requests.inc({ identity, method, outcome: ok ? 'ok' : 'error' });
  }

  decision(identity: string, decision: 'allow' | 'deny' | 'ask'): void {
    this.#decisions.inc({ identity, decision });
  }

  /** Wraps one signing request: latency when it succeeds, the code (and the vetoing node) when not. */
  async timeSigning<T>(identity: string, sign: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      const signed = await sign();
      this.#signSeconds.observe((performance.now() - started) / 1000, { identity });
      return signed;
    } catch (error) {
      const code = error instanceof FrostbunkerError ? error.code : 'INTERNAL';
      this.#signFailures.inc({ identity, code });
      if (error instanceof VetoError) this.#vetoes.inc({ identity, node: error.nodeId, reason: error.reason.split(':')[0]!.trim() });
      throw error;
    }
  }

  failover(identity: string, excluded: readonly string[], cause: string): void {
    for (const node of excluded) this.#failovers.inc({ identity, node, cause });
  }

  lateMessage(identity: string, node: string, type: string): void {
    this.#lateMessages.inc({ identity, node, type });
  }

  sessionsPerRequest(identity: string, sessions: number): void {
    this.#sessionsPerRequest.observe(sessions, { identity });
  }

  invalidPartial(identity: string, node: string): void {
    this.#invalidPartials.inc({ identity, node });
  }

  render(): string {
    return this.registry.render();
  }
}

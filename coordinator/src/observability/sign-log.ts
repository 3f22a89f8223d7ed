import { FrostbunkerError, VetoError } from '@frostbunker/shared/errors';
import { withDeferredFsync, type AclDatabase } from '../acl-store/database.js';

/** How one signing request ended: what the dashboard's activity view shows (metadata only). */
export interface SignOutcome {
  outcomeSeq: number;
  atSec: number;
  identity: string;
  kind: number;
  eventId: string;
  ok: boolean;
  durationMs: number;
  /** The error code when it did not sign. */
  code?: string;
  /** The share node that vetoed, from the authenticated sender (STYLE.md: blame). */
  node?: string;
  /** The veto's reason, or the error's message. */
  reason?: string;
}

/** Signatures and failures in one hour, with the latency of the signatures. */
export interface HourlySigning {
  hourStartSec: number;
  requests: number;
  signed: number;
  failed: number;
  vetoed: number;
  latencyMsP50: number | null;
  latencyMsMax: number | null;
}

interface OutcomeRow {
  outcome_seq: number;
  at_sec: number;
  identity: string;
  kind: number;
  event_id: string;
  ok: number;
  duration_ms: number;
  code: string | null;
  node: string | null;
  reason: string | null;
}

const REASON_MAX_CHARS = 300;

/**
 * The `sign_outcomes` table (migration 8): one row per signing request the NIP-46 layer ran, its
 * latency or why it failed. Written after the round, so a failed write never costs a signature.
 */
export class SignLog {
  readonly #db: AclDatabase;
  readonly #nowSec: () => number;
  readonly #onWriteError: () => void;

  constructor(options: { db: AclDatabase; nowSec: () => number; onWriteError?: () => void }) {
    this.#db = options.db;
    this.#nowSec = options.nowSec;
    this.#onWriteError = options.onWriteError ?? (() => {});
  }

  /** Runs `sign` and records how it ended; rethrows its error unchanged. */
  async time<T>(identity: string, event: { kind: number; eventId: string }, sign: () => Promise<T>): Promise<T> {
    const started = performance.now();
    let signed: T;
    try {
      signed = await sign();
    } catch (error) {
      this.#recordSafely(identity, event, Math.round(performance.now() - started), error);
      throw error;
    }
    this.#recordSafely(identity, event, Math.round(performance.now() - started), undefined);
    return signed;
  }

  /** The newest `count` outcomes, newest first. */
  recent(count: number, filter: { identity?: string; failedOnly?: boolean } = {}): SignOutcome[] {
    return this.#db
      .prepare<[{ identity: string | null; failed: number; count: number }], OutcomeRow>(
        `SELECT * FROM sign_outcomes WHERE (@identity IS NULL OR identity = @identity) AND (@failed = 0 OR ok = 0)
         ORDER BY outcome_seq DESC LIMIT @count`,
      )
      .all({ identity: filter.identity ?? null, failed: filter.failedOnly ? 1 : 0, count })
      .map(toOutcome);
  }

  /** The last `hours` whole hours up to now, oldest first, every hour present (zeros included). */
  hourly(hours: number, identity?: string): HourlySigning[] {
    const currentHour = Math.floor(this.#nowSec() / 3600) * 3600;
    const fromSec = currentHour - (hours - 1) * 3600;
    const rows = this.#db
      .prepare<[{ from: number; identity: string | null }], Pick<OutcomeRow, 'at_sec' | 'ok' | 'duration_ms' | 'node'>>(
        'SELECT at_sec, ok, duration_ms, node FROM sign_outcomes WHERE at_sec >= @from AND (@identity IS NULL OR identity = @identity)',
      )
      .all({ from: fromSec, identity: identity ?? null });
    const buckets = Array.from({ length: hours }, (_, i) => ({ hourStartSec: fromSec + i * 3600, latencies: [] as number[], failed: 0, vetoed: 0 }));
    for (const row of rows) {
      const bucket = buckets[Math.floor((row.at_sec - fromSec) / 3600)];
      if (!bucket) continue;
      if (row.ok) bucket.latencies.push(row.duration_ms);
      else {
        bucket.failed++;
        if (row.node !== null) bucket.vetoed++;
      }
    }
    return buckets.map(({ hourStartSec, latencies, failed, vetoed }) => {
      latencies.sort((a, b) => a - b);
      return {
        hourStartSec,
        requests: latencies.length + failed,
        signed: latencies.length,
        failed,
        vetoed,
        latencyMsP50: latencies.length ? latencies[Math.floor((latencies.length - 1) / 2)]! : null,
        latencyMsMax: latencies.length ? latencies.at(-1)! : null,
      };
    });
  }

  /** @NOTE a full disk must not turn a signature into an error: the row is lost, the reply is not. */
  #recordSafely(identity: string, event: { kind: number; eventId: string }, durationMs: number, error: unknown): void {
    try {
      this.#record(identity, event, durationMs, error);
    } catch {
      this.#onWriteError();
    }
  }

  #record(identity: string, event: { kind: number; eventId: string }, durationMs: number, error: unknown): void {
    const failure = error === undefined ? undefined : describeFailure(error);
    // Observability, not a record anything depends on: no fsync of its own in front of the reply
    // (issue 9); the next durable commit (the answered batch, the next decision) carries it.
    withDeferredFsync(this.#db, () =>
      this.#db
        .prepare('INSERT INTO sign_outcomes (at_sec, identity, kind, event_id, ok, duration_ms, code, node, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
        .run(this.#nowSec(), identity, event.kind, event.eventId, failure ? 0 : 1, durationMs, failure?.code ?? null, failure?.node ?? null, failure?.reason ?? null),
    );
  }
}

function describeFailure(error: unknown): { code: string; node?: string; reason: string } {
  if (error instanceof VetoError) return { code: error.code, node: error.nodeId, reason: error.reason.slice(0, REASON_MAX_CHARS) };
  // Only domain errors carry a message meant for people; anything else is an internal error.
  if (error instanceof FrostbunkerError) return { code: error.code, reason: error.message.slice(0, REASON_MAX_CHARS) };
  return { code: 'INTERNAL', reason: 'internal error' };
}

function toOutcome(row: OutcomeRow): SignOutcome {
  return {
    outcomeSeq: row.outcome_seq,
    atSec: row.at_sec,
    identity: row.identity,
    kind: row.kind,
    eventId: row.event_id,
    ok: row.ok === 1,
    durationMs: row.duration_ms,
    ...(row.code === null ? {} : { code: row.code }),
    ...(row.node === null ? {} : { node: row.node }),
    ...(row.reason === null ? {} : { reason: row.reason }),
  };
}

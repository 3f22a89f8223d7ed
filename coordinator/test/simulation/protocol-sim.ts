import { setImmediate as realSetImmediate } from 'node:timers/promises';
import { vi } from 'vitest';
import { computeEventId } from '@frostbunker/shared/crypto';
import { History } from '../../../test/harness/history.js';
import { SeededRandom } from './seeded-random.js';
import { SimBus, type BusFaults } from './sim-bus.js';
import { COORDINATOR, SimCluster, type SessionKind } from './sim-cluster.js';

/** RELIABILITY.md G15b fault model. */
export const G15B_FAULTS: BusFaults = { dropP: 0.1, dupP: 0.2, fastP: 0.5, reorderWindowMs: 50, maxDelayMs: 2_000 };

/** The production defaults (config.ts roundTimeoutMs, SigningCoordinator vetoGraceMs). */
export const ROUND_TIMEOUT_MS = 5_000;
export const VETO_GRACE_MS = 300;
export const THRESHOLD = 2;
export const MAX_SIGNERS = 3;

/**
 * The longest one session can last, read off SigningCoordinator: a one-round session waits one
 * deadline (plus the veto grace if k answered near its end); a two-round session that for each round.
 */
export const SESSION_BUDGET_MS: Readonly<Record<SessionKind, number>> = {
  'one-round': ROUND_TIMEOUT_MS + VETO_GRACE_MS,
  'two-round': 2 * ROUND_TIMEOUT_MS + VETO_GRACE_MS,
};

/** 2026-01-01: a fixed virtual epoch, so a seed replays the same `created_at`s too. */
const SIM_EPOCH_MS = Date.UTC(2026, 0, 1);
/** Idle virtual time after the last answer: late copies land, zombie sessions time out. */
const QUIESCENCE_MS = 60_000;
/** No invoke or answer for this long is a hang: far beyond any request's session budgets. */
const STALL_MS = 120_000;

export interface SimOptions {
  seed: number;
  requests: number;
  concurrency: number;
  faults: BusFaults;
  /** Virtual time from one restart to the next crash (one component down at a time). */
  crashGapMs: [number, number];
  coordinatorCrashP: number;
  nodeDowntimeMs: [number, number];
  coordinatorDowntimeMs: [number, number];
  /** Node logs and state files. */
  dir: string;
}

export interface SimRun {
  history: History;
  cluster: SimCluster;
  bus: SimBus;
  eventIdByReqId: Map<string, string>;
  crashes: { coordinator: number; node: number };
  /** Requests pending on a coordinator that crashed, answered "interrupted" by the next one. */
  interrupted: number;
  /** `sign` calls of crashed coordinators that settled anyway: no process was left to answer. */
  zombieSettlements: number;
  virtualMs: number;
}

/**
 * Runs `requests` sign requests (kind 1, `concurrency` in flight) through a SimCluster on vitest's
 * fake clock (setTimeout, Date and performance), with crashes and restarts on the seeded schedule.
 * Returns the client history and everything the checks need.
 */
export async function runSimulation(options: SimOptions): Promise<SimRun> {
  vi.useFakeTimers({ now: SIM_EPOCH_MS, toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date', 'performance'] });
  try {
    return await simulate(options);
  } finally {
    vi.useRealTimers();
  }
}

async function simulate(options: SimOptions): Promise<SimRun> {
  const rng = new SeededRandom(options.seed);
  const startedMs = performance.now();
  const bus = new SimBus(rng, options.faults, () => performance.now() - startedMs);
  const cluster = new SimCluster({ bus, dir: options.dir, threshold: THRESHOLD, maxSigners: MAX_SIGNERS, roundTimeoutMs: ROUND_TIMEOUT_MS });
  const history = new History();
  const eventIdByReqId = new Map<string, string>();
  const pending = new Map<string, { finish: (type: 'ok' | 'fail', value: unknown) => void }>();
  const crashes = { coordinator: 0, node: 0 };
  let interrupted = 0;
  let zombieSettlements = 0;
  let nextIndex = 0;
  let finished = false;
  let coordinatorBack: (() => void)[] = [];
  let lastProgressMs = performance.now();

  const invoke = (index: number) =>
    new Promise<void>((resolve) => {
      const reqId = `r${index}`;
      const template = {
        pubkey: cluster.userPubkey as string,
        created_at: Math.floor(Date.now() / 1000),
        kind: 1,
        tags: [['t', 'simulation']],
        content: `request ${index} of seed ${options.seed}: ${rng.next().toString(36).slice(2)}`,
      };
      eventIdByReqId.set(reqId, computeEventId(template));
      history.record({ client: 'sim', reqId, f: 'sign_event', type: 'invoke', value: template });
      lastProgressMs = performance.now();
      const generation = cluster.coordinatorGeneration;
      const finish = (type: 'ok' | 'fail', value: unknown) => {
        if (!pending.delete(reqId)) return;
        history.record({ client: 'sim', reqId, f: 'sign_event', type, value });
        lastProgressMs = performance.now();
        resolve();
      };
      pending.set(reqId, { finish });
      const alive = () => cluster.isUp(COORDINATOR) && cluster.coordinatorGeneration === generation;
      cluster.sign(template).then(
        (signed) => (alive() ? finish('ok', signed) : zombieSettlements++),
        (error: unknown) => (alive() ? finish('fail', error instanceof Error ? error.message : String(error)) : zombieSettlements++),
      );
    });

  const worker = async () => {
    while (nextIndex < options.requests) {
      if (!cluster.isUp(COORDINATOR)) {
        await new Promise<void>((resolve) => coordinatorBack.push(resolve));
        continue;
      }
      await invoke(nextIndex++);
    }
  };

  const scheduleCrash = () =>
    setTimeout(() => {
      if (finished) return;
      const component = rng.chance(options.coordinatorCrashP) ? COORDINATOR : rng.pick(cluster.nodeLabels);
      cluster.crash(component);
      crashes[component === COORDINATOR ? 'coordinator' : 'node']++;
      const downtimeMs = rng.betweenMs(...(component === COORDINATOR ? options.coordinatorDowntimeMs : options.nodeDowntimeMs));
      setTimeout(() => {
        cluster.restart(component);
        if (component === COORDINATOR) {
          // What the NIP-46 endpoint does for requests a restart interrupted (endpoint.ts).
          for (const { finish } of [...pending.values()]) {
            interrupted++;
            finish('fail', 'interrupted by a bunker restart; send the request again');
          }
          for (const wake of coordinatorBack) wake();
          coordinatorBack = [];
        }
        scheduleCrash();
      }, downtimeMs);
    }, rng.betweenMs(...options.crashGapMs));

  scheduleCrash();
  const all = Promise.all(Array.from({ length: options.concurrency }, worker)).then(() => {
    finished = true;
  });
  await advanceUntil(
    () => finished,
    () => (performance.now() - lastProgressMs > STALL_MS ? `stalled: no request invoked or answered for ${STALL_MS} ms, ${pending.size} pending: ${[...pending.keys()].slice(0, 10).join(', ')}` : undefined),
  );
  await all;
  const quietUntilMs = performance.now() + QUIESCENCE_MS;
  await advanceUntil(() => performance.now() >= quietUntilMs || vi.getTimerCount() === 0);
  return { history, cluster, bus, eventIdByReqId, crashes, interrupted, zombieSettlements, virtualMs: performance.now() - startedMs };
}

/**
 * Fires fake timers one at a time, letting every promise chain (and the memory network's
 * microtasks) settle in between, until `done()`. No timer left, or `stalled()`, is a hang.
 */
async function advanceUntil(done: () => boolean, stalled: () => string | undefined = () => undefined): Promise<void> {
  for (;;) {
    // Settle first: sends made before the first timer must reach the bus at the time they were made.
    await realSetImmediate();
    if (done()) return;
    const stall = vi.getTimerCount() === 0 ? 'stalled: no timer left' : stalled();
    if (stall !== undefined) throw new Error(`simulation ${stall}`);
    vi.advanceTimersToNextTimer();
  }
}

import type { SeededRandom } from './seeded-random.js';

/** The fault model of one run (RELIABILITY.md G15b). */
export interface BusFaults {
  dropP: number;
  dupP: number;
  /** Share of copies that arrive within the reorder window; the others wait 0..maxDelayMs. */
  fastP: number;
  reorderWindowMs: number;
  maxDelayMs: number;
}

/** One message as the bus saw it; `deliverAtMs` is empty when it was dropped. */
export interface ScheduledMessage {
  atMs: number;
  from: string;
  to: string;
  type: string;
  sessionId: string;
  eventId?: string;
  deliverAtMs: number[];
  /** Copies that found their recipient crashed or restarted. */
  lostCopies: number;
}

export interface ScheduledFault {
  atMs: number;
  fault: 'crash' | 'restart';
  component: string;
}

export type ScheduleEntry = ScheduledMessage | ScheduledFault;

/**
 * The seeded scheduler between the components: each message is dropped, or delivered once or
 * twice, each copy after its own delay, on the (virtual) setTimeout clock. A copy whose recipient
 * crashed (or restarted: another process) in the meantime is lost, as it is on a relay that does
 * not store ephemeral events. Every decision goes to `schedule`, the failure report's source.
 */
export class SimBus {
  readonly schedule: ScheduleEntry[] = [];
  readonly counts = { messages: 0, dropped: 0, duplicated: 0, delivered: 0, lostToCrash: 0 };
  readonly #rng: SeededRandom;
  readonly #faults: BusFaults;
  readonly #nowMs: () => number;

  constructor(rng: SeededRandom, faults: BusFaults, nowMs: () => number) {
    this.#rng = rng;
    this.#faults = faults;
    this.#nowMs = nowMs;
  }

  /** Schedules `deliver` (or not); `isAlive` is asked at delivery time whether the recipient process still runs. */
  post(message: Omit<ScheduledMessage, 'atMs' | 'deliverAtMs' | 'lostCopies'>, deliver: () => void, isAlive: () => boolean): void {
    const atMs = this.#nowMs();
    const entry: ScheduledMessage = { atMs, ...message, deliverAtMs: [], lostCopies: 0 };
    this.schedule.push(entry);
    this.counts.messages++;
    if (this.#rng.chance(this.#faults.dropP)) {
      this.counts.dropped++;
      return;
    }
    const copies = this.#rng.chance(this.#faults.dupP) ? 2 : 1;
    if (copies === 2) this.counts.duplicated++;
    for (let copy = 0; copy < copies; copy++) {
      const { fastP, reorderWindowMs, maxDelayMs } = this.#faults;
      const delayMs = this.#rng.betweenMs(0, this.#rng.chance(fastP) ? reorderWindowMs : maxDelayMs);
      entry.deliverAtMs.push(atMs + delayMs);
      setTimeout(() => {
        if (!isAlive()) {
          this.counts.lostToCrash++;
          entry.lostCopies++;
          return;
        }
        this.counts.delivered++;
        deliver();
      }, delayMs);
    }
  }

  note(fault: ScheduledFault['fault'], component: string): void {
    this.schedule.push({ atMs: this.#nowMs(), fault, component });
  }
}

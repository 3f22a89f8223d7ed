import type { ApprovalRecord, ApprovalStore } from './approval-store.js';

/**
 * Waits for decisions on pending approvals. Decisions may come from another process (the CLI
 * writes the shared database), so one timer polls the few open rows while anything waits; an
 * in-process decision (admin API, dashboard) calls `poke` and is seen at once.
 */
export class ApprovalWaiter {
  readonly #store: ApprovalStore;
  readonly #pollMs: number;
  readonly #waiting = new Map<string, ((record: ApprovalRecord) => void)[]>();
  #timer: NodeJS.Timeout | undefined;

  constructor(options: { store: ApprovalStore; pollMs?: number }) {
    this.#store = options.store;
    this.#pollMs = options.pollMs ?? 250;
  }

  /** Resolves with the record once it is no longer pending (approved, denied or expired). */
  wait(approvalId: string): Promise<ApprovalRecord> {
    return new Promise((resolve) => {
      const list = this.#waiting.get(approvalId) ?? [];
      list.push(resolve);
      this.#waiting.set(approvalId, list);
      this.#timer ??= setInterval(() => this.poke(), this.#pollMs);
      this.poke();
    });
  }

  /** Checks every awaited request now. */
  poke(): void {
    if (this.#waiting.size === 0) return;
    this.#store.expireDue();
    for (const [approvalId, resolvers] of this.#waiting) {
      const record = this.#store.get(approvalId);
      if (record === undefined || record.state === 'pending') continue;
      this.#waiting.delete(approvalId);
      for (const resolve of resolvers) resolve(record);
    }
    if (this.#waiting.size === 0) this.stop();
  }

  /** Stops polling; waits still open stay unresolved (the process is shutting down). */
  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}

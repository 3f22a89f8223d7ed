/**
 * Waits until `check` yields a value or `timeoutMs` passes. `poke()` re-runs the check; callers
 * poke on every inbound message. Timers use the monotonic clock underneath (setTimeout).
 */
export class SessionWaiter {
  #wake: (() => void) | undefined;

  poke(): void {
    this.#wake?.();
  }

  async waitFor<T>(check: () => T | undefined, timeoutMs: number): Promise<T | 'timeout'> {
    const first = check();
    if (first !== undefined) return first;
    return new Promise<T | 'timeout'>((resolve) => {
      const timer = setTimeout(() => {
        this.#wake = undefined;
        resolve('timeout');
      }, timeoutMs);
      this.#wake = () => {
        const value = check();
        if (value === undefined) return;
        clearTimeout(timer);
        this.#wake = undefined;
        resolve(value);
      };
    });
  }
}

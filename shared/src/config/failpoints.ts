import { FrostbunkerError } from '../errors.js';
import { parseFailpoints } from '../protocol/ceremony-messages.js';

export type FailpointAction = 'kill' | 'throw';

/**
 * Failpoints for crash and fail-closed tests (RELIABILITY.md harness §3): named places where a
 * test makes the process throw or die. Armed from `FROSTBUNKER_FAILPOINTS` only in test mode
 * (`FROSTBUNKER_TEST_MODE=1` and `NODE_ENV=test`), with a loud warning; in production the variable
 * is ignored, so a stray environment can never make a bunker fail on purpose.
 */
export class Failpoints {
  readonly #armed = new Map<string, FailpointAction>();

  /** Reads the environment; `warn` is told when anything is armed (or ignored outside test mode). */
  static fromEnv(env: NodeJS.ProcessEnv, warn: (message: string) => void): Failpoints {
    const failpoints = new Failpoints();
    if (!env.FROSTBUNKER_FAILPOINTS) return failpoints;
    if (env.FROSTBUNKER_TEST_MODE !== '1' || env.NODE_ENV !== 'test') {
      warn('FROSTBUNKER_FAILPOINTS ignored: failpoints are armed only with FROSTBUNKER_TEST_MODE=1 and NODE_ENV=test');
      return failpoints;
    }
    for (const [name, action] of parseFailpoints(env.FROSTBUNKER_FAILPOINTS)) failpoints.set(name, action);
    warn(`TEST MODE: failpoints armed: ${[...failpoints.#armed].map(([n, a]) => `${n}=${a}`).join(', ')}`);
    return failpoints;
  }

  /** Arms (or with `undefined`, clears) one failpoint; tests toggle them at run time. */
  set(name: string, action: FailpointAction | undefined): void {
    if (action === undefined) this.#armed.delete(name);
    else this.#armed.set(name, action);
  }

  get armed(): readonly string[] {
    return [...this.#armed.keys()];
  }

  /** Name -> action of every armed failpoint. */
  entries(): ReadonlyMap<string, FailpointAction> {
    return new Map(this.#armed);
  }

  /** Called where the failpoint lives: throws STORE_FAILED, or SIGKILLs this process. */
  hit(name: string): void {
    const action = this.#armed.get(name);
    if (action === 'throw') throw new FrostbunkerError('STORE_FAILED', `failpoint ${name}`);
    if (action === 'kill') process.kill(process.pid, 'SIGKILL');
  }
}

/**
 * The armed failpoints as name -> action, for code that looks them up itself (share node, drill
 * CLI): empty outside test mode, with the same warning as `Failpoints.fromEnv`.
 */
export function armedFailpoints(env: NodeJS.ProcessEnv, warn: (message: string) => void): ReadonlyMap<string, FailpointAction> {
  return Failpoints.fromEnv(env, warn).entries();
}

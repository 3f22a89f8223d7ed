import { watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '@frostbunker/shared/logger';
import { readSigningIdentities } from './config.js';
import type { SigningIdentity } from './signing/identity.js';
import { checkIdentitySwap, type SwapOutcome } from './signing/identity-runtime.js';

/** One identity as the reloader swaps it (IdentityRuntime). */
export interface ReloadableIdentity {
  readonly name: string;
  readonly identity: SigningIdentity;
  swap(next: SigningIdentity): SwapOutcome;
}

/** The result of one reload attempt, for logs, status lines and the audit log. */
export type ReloadResult =
  | { ok: true; swapped: { identity: string; fromEpoch: number; toEpoch: number }[] }
  | { ok: false; error: string };

/**
 * Re-reads `<dir>/config.json` and puts newer epochs in service (issue 7: a committed drill rewrites
 * the file atomically; the running coordinator picks it up without a restart). All or nothing: the
 * whole file is validated (schema, group packages, members, group ids) and every identity is
 * checked (same npub, epoch never backwards, same epoch = same group) before any is swapped; on any
 * error the old config stays in force and the error is reported. Identities added or removed, and
 * other settings (relays, timeouts), need a restart and are only logged.
 */
export function reloadSigningConfig(dir: string, identities: readonly ReloadableIdentity[], logger: Logger): ReloadResult {
  let next: Map<string, SigningIdentity>;
  try {
    next = readSigningIdentities(dir);
    for (const runtime of identities) {
      const candidate = next.get(runtime.name);
      if (!candidate) throw new Error(`identity "${runtime.name}" is gone from config.json (removing an identity needs a restart)`);
      checkIdentitySwap(runtime.identity, candidate);
    }
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    logger.error('config.json not reloaded; the previous config stays in force', { error: message });
    return { ok: false, error: message };
  }
  const known = new Set(identities.map((i) => i.name));
  const added = [...next.keys()].filter((name) => !known.has(name));
  if (added.length > 0) logger.warn('new identities in config.json start at the next restart', { identities: added });
  const swapped: { identity: string; fromEpoch: number; toEpoch: number }[] = [];
  for (const runtime of identities) {
    const outcome = runtime.swap(next.get(runtime.name)!);
    if (outcome.swapped) swapped.push({ identity: runtime.name, fromEpoch: outcome.fromEpoch, toEpoch: outcome.toEpoch });
  }
  return { ok: true, swapped };
}

/**
 * Watches the directory of `config.json` (an atomic rename replaces the file's inode, so watching
 * the file itself would go deaf after the first drill) and calls `reload` once the writes settle.
 */
export class ConfigWatcher {
  readonly #watcher: FSWatcher;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: { dir: string; debounceMs: number; reload: () => void; logger: Logger }) {
    const { dir, debounceMs, reload, logger } = options;
    this.#watcher = watch(dir, { persistent: false }, (_event, filename) => {
      // Some platforms give no name; a spurious reload is harmless (same epoch: nothing happens).
      if (filename !== null && filename !== 'config.json') return;
      clearTimeout(this.#timer);
      this.#timer = setTimeout(reload, debounceMs);
    });
    this.#watcher.on('error', (error) => logger.warn('config.json watch failed; SIGHUP still reloads', { error: String(error), path: join(dir, 'config.json') }));
  }

  close(): void {
    clearTimeout(this.#timer);
    this.#watcher.close();
  }
}

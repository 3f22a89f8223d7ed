import { existsSync, readFileSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import { ConfigError } from '@frostbunker/shared/errors';
import type { Logger } from '@frostbunker/shared/logger';
import { loadRulePlugins } from './veto/plugin.js';
import { DEFAULT_VETO_POLICY, parseVetoPolicy, type VetoPolicy } from './veto/policy-schema.js';
import type { LoadedPolicy } from './signer/share-signer.js';

/**
 * Holds the node's veto policy (`<data>/policy.json`, defaults when absent) and its plugin rules.
 * A reload that fails (bad JSON, bad field, bad plugin) is logged and the previous policy stays in
 * force (RELIABILITY.md T19); at start a bad file refuses to start.
 */
export interface PolicyStoreOptions {
  /**
   * Encryption keys from enrolment (config.json): always allowed in NIP-4e key events, on top of
   * whatever the operator's policy lists (issue 6: a 10044 is co-signed only for these).
   */
  enrolledEncryptionPubkeys?: readonly string[];
}

export class PolicyStore {
  readonly #path: string;
  readonly #logger: Logger;
  readonly #options: PolicyStoreOptions;
  #current: LoadedPolicy;
  #watcher: FSWatcher | undefined;
  #debounce: NodeJS.Timeout | undefined;

  private constructor(path: string, logger: Logger, options: PolicyStoreOptions, initial: LoadedPolicy) {
    this.#path = path;
    this.#logger = logger;
    this.#options = options;
    this.#current = initial;
  }

  static async open(path: string, logger: Logger, options: PolicyStoreOptions = {}): Promise<PolicyStore> {
    return new PolicyStore(path, logger, options, await load(path, options));
  }

  current(): LoadedPolicy {
    return this.#current;
  }

  /** Re-reads the policy; on any error keeps the one in force and says why. */
  async reload(): Promise<{ ok: boolean; error?: string }> {
    try {
      this.#current = await load(this.#path, this.#options);
      this.#logger.info('policy reloaded', { path: this.#path, plugins: this.#current.rules.length });
      return { ok: true };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.#logger.error('policy reload refused; previous policy stays in force', { path: this.#path, error: message });
      return { ok: false, error: message };
    }
  }

  /** Reloads when the file changes (editors replace files, so the directory is watched). */
  watch(): void {
    const name = basename(this.#path);
    this.#watcher = watch(dirname(this.#path), (_event, changed) => {
      if (changed !== name) return;
      clearTimeout(this.#debounce);
      this.#debounce = setTimeout(() => void this.reload(), 200);
    });
    this.#watcher.unref();
  }

  close(): void {
    clearTimeout(this.#debounce);
    this.#watcher?.close();
  }
}

async function load(path: string, options: PolicyStoreOptions): Promise<LoadedPolicy> {
  if (!existsSync(path)) return { policy: withEnrolledKeys(DEFAULT_VETO_POLICY, options), rules: [] };
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ConfigError(path, 'not valid JSON', { cause: error });
  }
  const policy = parseVetoPolicy(json, path);
  return { policy: withEnrolledKeys(policy, options), rules: await loadRulePlugins(policy.plugins, dirname(path)) };
}

function withEnrolledKeys(policy: VetoPolicy, options: PolicyStoreOptions): VetoPolicy {
  const enrolled = options.enrolledEncryptionPubkeys ?? [];
  if (enrolled.length === 0) return policy;
  const allowedPubkeys = [...new Set([...policy.encryptionKeyEvents.allowedPubkeys, ...enrolled])];
  return { ...policy, encryptionKeyEvents: { ...policy.encryptionKeyEvents, allowedPubkeys } };
}

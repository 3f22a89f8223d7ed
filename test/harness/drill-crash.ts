import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { verifyEvent, type VerifiedEvent } from 'nostr-tools/pure';
import { expect } from 'vitest';
import { parseStatusLine, type Lab } from '@frostbunker/deploy/lab';
import { parseGroupPackage } from '@frostbunker/shared/crypto';
import type { FrostIdentifier } from '@frostbunker/shared/protocol';
import { withDeadline, type connectBunkerSigner } from './bunker-client.js';
import { frostbunkerCliOutcome } from './frostbunker-cli.js';
import { shareCensus, signableEpochs, type EpochCensus } from './share-census.js';
import { shareNodeCli } from './share-node-cli.js';

/*
 * Helpers of the G12 rotation crash tests (RELIABILITY.md G12) on a running lab: the e2e slice
 * (test/e2e/drill-refresh.test.ts) and the full chaos-tier matrix (test/chaos/g12-matrix.test.ts).
 */

export interface NodeFiles {
  config: { identifier: FrostIdentifier; group: unknown; epoch: number; label?: string };
  secrets: { signingShare: string };
}

/** A share node's plaintext (lab) config and secrets. */
export const readNode = (dir: string): NodeFiles => ({
  config: JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')),
  secrets: JSON.parse(readFileSync(join(dir, 'secrets.json'), 'utf8')),
});

export const template = (content: string) => ({ kind: 1, content, tags: [], created_at: Math.floor(Date.now() / 1000) });

export type BunkerSigner = Awaited<ReturnType<typeof connectBunkerSigner>>['signer'];

export type DrillOutcome = Awaited<ReturnType<typeof frostbunkerCliOutcome>>;

/** The running coordinator's status line saying epoch `epoch` is in service (config.json watch). */
export const waitReloaded = (lab: Lab, epoch: number, timeoutMs = 15_000) =>
  lab.coordinator.waitForLine((l) => {
    const s = parseStatusLine(l);
    return s?.event === 'reloaded' && s.toEpoch === epoch;
  }, timeoutMs);

/** Census as one line: `epoch 3 intact node-1+node-2; epoch 4 intact node-2`. */
export const describeCensus = (census: readonly EpochCensus[]): string =>
  census.map((e) => `epoch ${e.epoch} intact ${e.intact.join('+') || '-'}${e.broken.length ? ` broken ${e.broken.join('+')}` : ''}`).join('; ');

/**
 * One lab's crash-test toolkit: runs `frostbunker drill refresh` as the operator would, restarts
 * nodes (optionally armed with failpoints), checks G12 (a), (b) and (d).
 */
export class DrillCrashKit {
  #groupKey = '';
  /** The last `rerun`'s CLI outcome and duration. */
  lastRerun: { outcome: DrillOutcome; ms: number } | undefined;

  constructor(
    readonly lab: Lab,
    readonly signer: BunkerSigner,
    readonly stepTimeout = '4s',
  ) {}

  /** `frostbunker drill refresh` on the coordinator's data directory, with extra environment. */
  drill(env: Record<string, string> = {}): Promise<DrillOutcome> {
    return frostbunkerCliOutcome(['drill', 'refresh', '--data', this.lab.layout.coordinatorDir, '--insecure-plaintext', '--step-timeout', this.stepTimeout], env);
  }

  epochOf(nodeDir: string): number {
    return readNode(nodeDir).config.epoch;
  }

  epochs(): number[] {
    return this.lab.layout.nodeDirs.map((d) => this.epochOf(d));
  }

  get groupKey(): string {
    this.#groupKey ||= parseGroupPackage(readNode(this.lab.layout.nodeDirs[0]!).config.group).groupKey;
    return this.#groupKey;
  }

  waitReloaded(epoch: number): Promise<string> {
    return waitReloaded(this.lab, epoch);
  }

  /** G12 (a) and (b): an epoch of the same key with >= k intact shares on disk, and a signature within 30 s. */
  async expectSafe(what: string): Promise<{ census: EpochCensus[]; signed: VerifiedEvent; signMs: number }> {
    const groupKey = this.groupKey;
    const census = shareCensus(this.lab.layout.nodeDirs);
    const signable = signableEpochs(census, groupKey);
    console.log(`[figure] ${what}: ${describeCensus(census)}`);
    expect(signable.length, `${what}: an epoch with k intact shares`).toBeGreaterThan(0);
    expect(census.every((e) => e.groupKey === groupKey), `${what}: one group key`).toBe(true);
    const started = performance.now();
    const signed = await withDeadline(this.signer.signEvent(template(what)), 30_000, `sign ${what}`);
    const signMs = performance.now() - started;
    console.log(`[figure] ${what}: signed in ${signMs.toFixed(0)} ms`);
    expect(signed.pubkey).toBe(this.lab.userPubkey);
    expect(verifyEvent({ ...signed })).toBe(true);
    return { census, signed, signMs };
  }

  /** Restarts node `index` and waits until its relay subscription is live (so a drill's S0 reaches it). */
  async restartNode(index: number, env: Record<string, string> = {}): Promise<void> {
    await this.lab.stopNode(index);
    await this.lab.startNode(index, env);
    for (let i = 0; i < 50; i++) {
      const status = await shareNodeCli(this.lab.layout.nodeDirs[index - 1]!, 'status').catch(() => '');
      if (/"liveSubscriptions":\s*[1-9]/.test(status)) return;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`node-${index} never subscribed to the relay`);
  }

  /**
   * Re-running the drill completes (G12 d) with a new epoch (or, given `expectEpoch`, on that one:
   * a resumed drill whose nodes had all switched already); returns the epoch it committed.
   */
  async rerun(what: string, expectEpoch?: number): Promise<number> {
    const before = this.epochOf(this.lab.layout.nodeDirs[0]!);
    const started = performance.now();
    const outcome = await this.drill();
    this.lastRerun = { outcome, ms: performance.now() - started };
    console.log(`[figure] ${what}: re-run drill ${(performance.now() - started).toFixed(0)} ms`);
    expect(outcome.code, outcome.stdout + outcome.stderr).toBe(0);
    expect(outcome.stdout).toMatch(/committed: npub unchanged/);
    expect(outcome.stdout).toMatch(/every node acknowledged/);
    const epoch = Math.max(...this.epochs());
    expect(epoch).toBe(expectEpoch ?? before + 1);
    expect(this.epochs()).toEqual([epoch, epoch, epoch]);
    await this.waitReloaded(epoch);
    await this.expectSafe(`${what}, after the re-run`);
    return epoch;
  }
}

import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { schnorr } from '@noble/curves/secp256k1.js';
import { describe, expect, it } from 'vitest';
import {
  aggregateSignature,
  commit,
  createSigningPackage,
  groupXOnlyKey,
  hexToBytes,
  SigningShare,
  signShare,
  type GroupPackage,
} from '@frostbunker/shared/crypto';
import { CheaterError } from '@frostbunker/shared/errors';
import type { ShareNodeConfig } from '../../../share-node/src/config.js';
import { formatDrillReport, writeDrillReport } from '../../src/drill/drill-report.js';
import { FailpointCrash, createRefreshCluster } from './refresh-cluster.js';

/** Signs a fixed message with the given loaded node configs (their shares and group). */
function signsWith(configs: readonly ShareNodeConfig[]): string {
  const message = hexToBytes('42'.repeat(32));
  const rounds = configs.map((c) => ({ c, ...commit(c.share) }));
  const pkg = createSigningPackage(message, rounds.map((r) => r.commitments));
  const partials = Object.fromEntries(rounds.map((r) => [r.c.share.identifier, signShare(r.c.share, r.c.group, r.nonces, pkg)]));
  const signature = aggregateSignature(configs[0]!.group, pkg, partials);
  expect(schnorr.verify(hexToBytes(signature), message, hexToBytes(groupXOnlyKey(configs[0]!.group)))).toBe(true);
  return signature;
}

async function loadAll(cluster: Awaited<ReturnType<typeof createRefreshCluster>>): Promise<ShareNodeConfig[]> {
  return Promise.all(cluster.nodeDirs.map((_, i) => cluster.loadNode(i)));
}

function pendingFiles(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.includes('pending'));
}

describe('refresh drill over the in-memory transport (issue 7)', () => {
  it('commits a 2-of-3 refresh: same key, epoch 1 everywhere, new shares sign, the old share is named in a mixed round', async () => {
    const cluster = await createRefreshCluster({ threshold: 2, maxSigners: 3 });
    const oldShareHex = cluster.shares[0]!.toHex();
    const { report, progress } = await cluster.drill();
    expect(report.failure).toBeNull();
    expect(report.outcome).toBe('committed');
    expect(report.sameNpub).toBe(true);
    expect([report.epochBefore, report.epochAfter]).toEqual([0, 1]);
    expect(report.testSignature).toEqual({ signers: ['node-1', 'node-2', 'node-3'], verified: true });
    expect(report.mixedRound).toEqual({ oldShareOf: 'node-1', newSharesOf: ['node-2'], failed: true, named: ['node-1'] });
    expect(report.acknowledged).toEqual(['node-1', 'node-2', 'node-3']);
    expect(report.notAcknowledged).toEqual([]);
    expect(report.steps.map((s) => s.step)).toEqual(['S0', 'S1', 'S2', 'S3', 'S4', 'S5', 'S6', 'S7']);
    expect(progress.some((line) => line.startsWith('[S5]'))).toBe(true);

    const configs = await loadAll(cluster);
    const next = cluster.coordinatorEpoch();
    expect(next.epoch).toBe(1);
    for (const [i, config] of configs.entries()) {
      expect(config.epoch).toBe(1);
      expect(config.group.groupKey).toBe(cluster.group.groupKey);
      expect(config.group).toEqual(next.group);
      expect(config.share.toHex()).not.toBe(cluster.shares[i]!.toHex());
      expect(pendingFiles(cluster.nodeDirs[i]!)).toEqual([]);
      // The old share is gone from the node's directory.
      for (const file of readdirSync(cluster.nodeDirs[i]!)) {
        expect(readFileSync(join(cluster.nodeDirs[i]!, file), 'utf8')).not.toContain(cluster.shares[i]!.toHex());
      }
    }
    signsWith([configs[1]!, configs[2]!]);
    // An old share kept aside: it does not fit the new group, and a mixed round names its holder.
    expect(() => SigningShare.fromHex(cluster.shares[0]!.identifier, oldShareHex, configs[0]!.group)).toThrow();
    const mixed = [{ share: cluster.shares[0]!, group: cluster.group as GroupPackage }, { share: configs[1]!.share, group: configs[1]!.group }];
    const rounds = mixed.map((m) => ({ m, ...commit(m.share) }));
    const pkg = createSigningPackage(hexToBytes('43'.repeat(32)), rounds.map((r) => r.commitments));
    const partials = Object.fromEntries(rounds.map((r) => [r.m.share.identifier, signShare(r.m.share, r.m.group, r.nonces, pkg)]));
    const error = (() => {
      try {
        aggregateSignature(configs[1]!.group, pkg, partials);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(CheaterError);
    expect((error as CheaterError).culprits).toEqual([cluster.shares[0]!.identifier]);

    const paths = writeDrillReport(cluster.coordinatorDir, report);
    expect(JSON.parse(readFileSync(paths.json, 'utf8'))).toMatchObject({ outcome: 'committed', sameNpub: true });
    expect(readFileSync(paths.text, 'utf8')).toBe(formatDrillReport(report));
    console.log(formatDrillReport(report));
  });

  it('a dry run tests the new shares, then aborts: the old epoch and old share files stay, no pending file is left', async () => {
    const cluster = await createRefreshCluster({ threshold: 2, maxSigners: 3 });
    const { report } = await cluster.drill({ dryRun: true });
    expect(report.outcome).toBe('dry-run');
    expect(report.testSignature?.verified).toBe(true);
    expect(report.epochAfter).toBe(0);
    const configs = await loadAll(cluster);
    for (const [i, config] of configs.entries()) {
      expect(config.epoch).toBe(0);
      expect(config.share.toHex()).toBe(cluster.shares[i]!.toHex());
      expect(pendingFiles(cluster.nodeDirs[i]!)).toEqual([]);
    }
    expect(cluster.coordinatorEpoch().epoch).toBe(0);
    signsWith([configs[0]!, configs[2]!]);
  });

  it('a tampered contribution (non-zero constant term from node-3) is rejected, node-3 is named, nothing is committed (G12b)', async () => {
    const cluster = await createRefreshCluster({ threshold: 2, maxSigners: 3 });
    const extra = schnorr.utils.randomSecretKey();
    const cG = Buffer.from((await import('@noble/curves/secp256k1.js')).secp256k1.getPublicKey(extra, true)).toString('hex');
    cluster.nodes[2]!.edit = (reply) => (reply.type === 'ceremony_contribution' ? { ...reply, commitments: [cG, ...reply.commitments] } : reply);
    const { report } = await cluster.drill();
    expect(report.outcome).toBe('aborted');
    expect(report.failure?.culprits).toEqual(['node-3']);
    expect(report.failure?.reason).toMatch(/dealer 3 sent 2 commitments/);
    const configs = await loadAll(cluster);
    for (const [i, config] of configs.entries()) {
      expect(config.epoch).toBe(0);
      expect(config.share.toHex()).toBe(cluster.shares[i]!.toHex());
      expect(pendingFiles(cluster.nodeDirs[i]!)).toEqual([]);
    }
    expect(cluster.coordinatorEpoch().epoch).toBe(0);
    signsWith([configs[0]!, configs[1]!]);
  });

  it('a coordinator showing node-1 a different vector for dealer 3 makes every node abort with "commitment mismatch (dealer 3)" (G12c)', async () => {
    const cluster = await createRefreshCluster({ threshold: 2, maxSigners: 3 });
    const dealer3 = cluster.members[2]!.identifier;
    const other = (await import('@noble/curves/secp256k1.js')).secp256k1.getPublicKey(schnorr.utils.randomSecretKey(), true);
    const { report } = await cluster.drill({
      sendEdit: (label, message) =>
        label === 'node-1' && message.type === 'ceremony_deliver'
          ? { ...message, contributions: { ...message.contributions, [dealer3]: { ...message.contributions[dealer3]!, commitments: [Buffer.from(other).toString('hex')] } } }
          : message,
    });
    expect(report.outcome).toBe('aborted');
    expect(report.failure?.reason.match(/commitment mismatch \(dealer 3\)/g)?.length).toBe(3);
    for (const [i, config] of (await loadAll(cluster)).entries()) {
      expect(config.epoch).toBe(0);
      expect(pendingFiles(cluster.nodeDirs[i]!)).toEqual([]);
    }
  });

  it('a node silent mid-ceremony aborts the drill naming it; the old epoch still signs; re-running completes', async () => {
    const cluster = await createRefreshCluster({ threshold: 2, maxSigners: 3 });
    cluster.nodes[1]!.edit = (reply) => (reply.type === 'ceremony_echo' ? undefined : reply);
    const { report } = await cluster.drill();
    expect(report.outcome).toBe('aborted');
    expect(report.failure?.reason).toMatch(/silent: node-2/);
    const configs = await loadAll(cluster);
    for (const config of configs) expect(config.epoch).toBe(0);
    signsWith([configs[0]!, configs[1]!]);
    cluster.nodes[1]!.edit = undefined;
    const rerun = await cluster.drill();
    expect(rerun.report.outcome).toBe('committed');
    for (const config of await loadAll(cluster)) expect(config.epoch).toBe(1);
  });

  it('refuses to start without all n nodes, naming the missing one, and changes nothing (T21)', async () => {
    const cluster = await createRefreshCluster({ threshold: 2, maxSigners: 3 });
    await cluster.stopNode(2);
    const { report } = await cluster.drill();
    expect(report.outcome).toBe('refused');
    expect(report.failure?.reason).toBe('node-3 unreachable; refresh needs all 3 (use repair/reshare)');
    expect(report.steps.map((s) => s.step)).toEqual(['S0']);
  });

  describe('crash matrix slice (G12): some epoch keeps k intact shares, the npub never changes', () => {
    it('node-2 killed after S3: the drill aborts, node-2 restarts with a pending share, the re-run destroys it and completes', async () => {
      const cluster = await createRefreshCluster({ threshold: 2, maxSigners: 3 });
      cluster.nodes[1]!.failpoints.add('refresh.after_S3');
      const { report } = await cluster.drill();
      expect(report.outcome).toBe('aborted');
      expect(pendingFiles(cluster.nodeDirs[1]!).sort()).toEqual(['pending-epoch.json', 'secrets.pending.json']);
      const old = await loadAll(cluster);
      signsWith([old[0]!, old[1]!]); // the old epoch still has k intact shares
      cluster.nodes[1]?.failpoints.clear();
      const restarted = await cluster.startNode(1);
      restarted.failpoints.clear();
      expect(restarted.handler.pending?.toEpoch).toBe(1);
      const rerun = await cluster.drill();
      expect(rerun.report.outcome).toBe('committed');
      expect(rerun.report.interrupted.length).toBeGreaterThan(0);
      for (const [i, config] of (await loadAll(cluster)).entries()) {
        expect(config.epoch).toBe(1);
        expect(pendingFiles(cluster.nodeDirs[i]!)).toEqual([]);
      }
    });

    it('coordinator killed after S5: nothing switched yet; the re-run finishes the committed ceremony (same npub, epoch 1)', async () => {
      const cluster = await createRefreshCluster({ threshold: 2, maxSigners: 3 });
      await expect(cluster.drill({ failpoints: ['refresh.after_S5'] })).rejects.toBeInstanceOf(FailpointCrash);
      expect(cluster.coordinatorEpoch().epoch).toBe(0);
      const mid = await loadAll(cluster);
      for (const config of mid) expect(config.epoch).toBe(0);
      signsWith([mid[1]!, mid[2]!]); // the old shares are still intact until the nodes learn the decision
      const { report } = await cluster.drill();
      expect(report.outcome).toBe('committed');
      expect(report.resumed).toBe(true);
      expect(report.sameNpub).toBe(true);
      expect(cluster.coordinatorEpoch().epoch).toBe(1);
      const after = await loadAll(cluster);
      for (const config of after) expect(config.epoch).toBe(1);
      signsWith([after[0]!, after[2]!]);
    });

    it('node-2 killed in the middle of its switch (S6): it is named as not acknowledged, and finishes the switch on restart', async () => {
      const cluster = await createRefreshCluster({ threshold: 2, maxSigners: 3 });
      cluster.nodes[1]!.failpoints.add('refresh.after_S6');
      const { report } = await cluster.drill();
      expect(report.outcome).toBe('committed');
      expect(report.notAcknowledged).toEqual(['node-2']);
      expect(existsSync(join(cluster.nodeDirs[1]!, 'pending-epoch.json'))).toBe(true);
      const restarted = await cluster.startNode(1);
      restarted.failpoints.clear();
      const configs = await loadAll(cluster);
      for (const [i, config] of configs.entries()) {
        expect(config.epoch).toBe(1);
        expect(pendingFiles(cluster.nodeDirs[i]!)).toEqual([]);
      }
      signsWith([configs[0]!, configs[1]!]);
    });

    it('node-2 killed after recording the commit but before switching: its restart finishes the switch', async () => {
      const cluster = await createRefreshCluster({ threshold: 2, maxSigners: 3 });
      cluster.nodes[1]!.failpoints.add('refresh.before_S6');
      const { report } = await cluster.drill();
      expect(report.notAcknowledged).toEqual(['node-2']);
      // Its files: old config and old secrets, the commit recorded in pending-epoch.json.
      expect(JSON.parse(readFileSync(join(cluster.nodeDirs[1]!, 'pending-epoch.json'), 'utf8')).committed).toBe(true);
      const restarted = await cluster.startNode(1);
      restarted.failpoints.clear();
      expect((await cluster.loadNode(1)).epoch).toBe(1);
    });
  });
});

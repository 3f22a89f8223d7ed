import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { verifyEvent } from 'nostr-tools/pure';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lab, parseStatusLine } from '@frostbunker/deploy/lab';
import { AuditLog, openAclDatabase } from '@frostbunker/coordinator';
import { checkNodeLogChain, readNodeLogEntries } from '@frostbunker/shared/audit';
import {
  aggregateSignature,
  commit,
  createSigningPackage,
  hexToBytes,
  parseGroupPackage,
  SigningShare,
  signShare,
} from '@frostbunker/shared/crypto';
import { CheaterError } from '@frostbunker/shared/errors';
import { connectBunkerSigner, withDeadline } from '../harness/bunker-client.js';
import { DrillCrashKit, readNode, template, waitReloaded as waitReloadedOn } from '../harness/drill-crash.js';
import { frostbunkerCli } from '../harness/frostbunker-cli.js';
import { shareCensus } from '../harness/share-census.js';
import { failpointEnv } from '../harness/process-nemesis.js';
import { makeTempDir } from '../harness/tmp.js';

// Real relay, coordinator and three share-node processes; the drill runs as the operator's CLI.
describe('refresh drill on a running 2-of-3 lab (issue 7)', () => {
  const dir = makeTempDir('e2e-drill');
  let lab: Lab;
  let client: Awaited<ReturnType<typeof connectBunkerSigner>>;

  beforeAll(async () => {
    lab = await Lab.start({ root: dir.path, relayPort: 0 });
    await lab.waitForQuorum();
    lab.coordinator.onLine((line) => {
      const status = parseStatusLine(line);
      if (status?.event === 'reloaded') reloaded.push(status.toEpoch);
    });
    client = await connectBunkerSigner(lab.bunkerUrl);
  });

  afterAll(async () => {
    await client?.close();
    await lab?.stop();
    dir.remove();
  });

  /** The running coordinator's status line saying epoch `epoch` is in service (config.json watch). */
  const waitReloaded = (epoch: number) => waitReloadedOn(lab, epoch);
  const reloaded: unknown[] = [];
  const reloadedEpochs = () => reloaded;

  it('keeps the npub and the bunker:// client without restarting the coordinator, destroys every old share file, and an old share kept aside fails a mixed round, named', async () => {
    const npub = lab.userPubkey;
    const before = await withDeadline(client.signer.signEvent(template('before the refresh')), 20_000, 'sign before');
    expect(before.pubkey).toBe(npub);
    // The operator's mistake the drill must survive: node-1's old share copied aside.
    const aside = join(dir.path, 'aside');
    mkdirSync(aside);
    for (const file of ['config.json', 'secrets.json']) copyFileSync(join(lab.layout.nodeDirs[0]!, file), join(aside, file));
    const old = readNode(aside);
    const oldShares = lab.layout.nodeDirs.map((nodeDir) => readNode(nodeDir).secrets.signingShare);

    const started = performance.now();
    const stdout = await frostbunkerCli('drill', 'refresh', '--data', lab.layout.coordinatorDir, '--insecure-plaintext');
    console.log(`[figure] drill refresh on the lab: ${(performance.now() - started).toFixed(0)} ms (CLI process included)`);
    expect(stdout).toMatch(/\[S7\] old shares destroyed and acknowledged .*every node acknowledged/);
    expect(stdout).toMatch(/committed: npub unchanged, epoch 0 -> 1/);

    // The report: JSON and a readable summary.
    const drills = join(lab.layout.coordinatorDir, 'drills');
    const jsonFile = readdirSync(drills).find((f) => f.endsWith('-refresh.json'))!;
    const report = JSON.parse(readFileSync(join(drills, jsonFile), 'utf8'));
    expect(report).toMatchObject({ outcome: 'committed', sameNpub: true, epochBefore: 0, epochAfter: 1, notAcknowledged: [] });
    expect(report.mixedRound).toMatchObject({ oldShareOf: 'node-1', failed: true, named: ['node-1'] });
    expect(report.steps.map((s: { step: string }) => s.step)).toEqual(['S0', 'S1', 'S2', 'S3', 'S4', 'S5', 'S6', 'S7']);
    expect(readFileSync(join(drills, jsonFile.replace(/\.json$/, '.txt')), 'utf8')).toContain('(unchanged)');

    // Every node is on epoch 1 with a new share; no file in any node directory holds an old share.
    const nodes = lab.layout.nodeDirs.map(readNode);
    for (const [i, node] of nodes.entries()) {
      expect(node.config.epoch).toBe(1);
      expect(node.secrets.signingShare).not.toBe(oldShares[i]);
      for (const file of readdirSync(lab.layout.nodeDirs[i]!)) {
        const path = join(lab.layout.nodeDirs[i]!, file);
        if (statSync(path).isFile()) for (const share of oldShares) expect(readFileSync(path, 'utf8')).not.toContain(share);
      }
      expect(readdirSync(lab.layout.nodeDirs[i]!).filter((f) => f.includes('pending'))).toEqual([]);
    }

    // The running coordinator picks up the new epoch from config.json (no restart: same pid); the
    // same client keeps signing.
    const pid = lab.coordinator.pid;
    await waitReloaded(1);
    expect(lab.coordinator.pid).toBe(pid);
    const after = await withDeadline(client.signer.signEvent(template('after the refresh')), 30_000, 'sign after');
    expect(after.pubkey).toBe(npub);
    expect(verifyEvent({ ...after })).toBe(true);

    // Every node's hash-chained log holds its steps of this ceremony; the coordinator's audit log
    // holds the drill's start, commit decision and finish, and the running coordinator's swap.
    for (const nodeDir of lab.layout.nodeDirs) {
      const entries = readNodeLogEntries(join(nodeDir, 'node-log.jsonl'));
      const steps = entries.filter((e) => e.decision === 'ceremony' && e.sessionId === report.ceremonyId).map((e) => e.code);
      expect(steps, nodeDir).toEqual(['refresh.S1.dealt', 'refresh.S3.pending', 'S6.switched']);
      expect(checkNodeLogChain(entries).ok).toBe(true);
    }
    const db = openAclDatabase(join(lab.layout.coordinatorDir, 'acl.db'));
    try {
      const audit = new AuditLog(db, { nowSec: () => Math.floor(Date.now() / 1000) });
      const actions = audit.tail(50).map((e) => e.action);
      for (const action of ['drill.started', 'drill.commit_decided', 'drill.finished', 'identity.epoch_swapped']) expect(actions).toContain(action);
      expect(audit.verify().ok).toBe(true);
    } finally {
      db.close();
    }

    // The old share kept aside, in a round with node-2's new share: the round fails and names node-1.
    const oldGroup = parseGroupPackage(old.config.group);
    const newGroup = parseGroupPackage(nodes[1]!.config.group);
    const oldShare = SigningShare.fromHex(old.config.identifier, old.secrets.signingShare, oldGroup);
    const newShare = SigningShare.fromHex(nodes[1]!.config.identifier, nodes[1]!.secrets.signingShare, newGroup);
    expect(() => SigningShare.fromHex(old.config.identifier, old.secrets.signingShare, newGroup)).toThrow();
    const a = commit(oldShare);
    const b = commit(newShare);
    const pkg = createSigningPackage(hexToBytes('77'.repeat(32)), [a.commitments, b.commitments]);
    const partials = { [oldShare.identifier]: signShare(oldShare, oldGroup, a.nonces, pkg), [newShare.identifier]: signShare(newShare, newGroup, b.nonces, pkg) };
    let error: unknown;
    try {
      aggregateSignature(newGroup, pkg, partials);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CheaterError);
    expect((error as CheaterError).culprits).toEqual([old.config.identifier]);
  });

  // RELIABILITY.md G12, the CI slice with real processes: N2 killed at S3, S5 and S6, and the
  // drill's coordinator process (C) killed at S5, one after another on the same lab. A share node
  // learns S5 (the decision) only when it is told, so "N2 at S5" kills it right after it records the
  // commit decision and before it switches (`refresh.before_S6`); "N2 at S6" kills it mid-switch.
  describe('crash slice (G12): after each crash and restart some epoch has k intact shares, the npub never changes, the client signs, a re-run completes', () => {
    let kit: DrillCrashKit;
    beforeAll(() => {
      kit = new DrillCrashKit(lab, client.signer, '4s');
    });
    const drill = (env: Record<string, string> = {}) => kit.drill(env);
    const epochOf = (nodeDir: string) => kit.epochOf(nodeDir);
    const expectSafe = async (what: string) => void (await kit.expectSafe(what));
    const restartNode2 = (env: Record<string, string> = {}) => kit.restartNode(2, env);
    const rerun = (what: string) => kit.rerun(what);

    it('N2 killed after persisting its pending share (S3): the drill aborts, the old epoch signs, node-2 restarts holding an undecided share, the re-run destroys it and completes', async () => {
      const epoch = epochOf(lab.layout.nodeDirs[0]!);
      await restartNode2(failpointEnv('refresh.after_S3=kill'));
      const outcome = await drill();
      expect(outcome.code).toBe(1);
      expect(outcome.stdout).toMatch(/silent: node-2/);
      expect(await lab.nodes[1]!.exited).toBe(null);
      expect(existsSync(join(lab.layout.nodeDirs[1]!, 'pending-epoch.json'))).toBe(true);
      expect(lab.layout.nodeDirs.map(epochOf)).toEqual([epoch, epoch, epoch]);
      expect(reloadedEpochs()).not.toContain(epoch + 1);
      await expectSafe('N2 at S3, node-2 down');
      await restartNode2();
      await expectSafe('N2 at S3, node-2 back with a pending share');
      const committed = await rerun('N2 at S3');
      expect(committed).toBe(epoch + 1);
      expect(existsSync(join(lab.layout.nodeDirs[1]!, 'pending-epoch.json'))).toBe(false);
    });

    for (const [step, failpoint] of [['S5', 'refresh.before_S6'], ['S6', 'refresh.after_S6']] as const) {
      it(`N2 killed at ${step} (${failpoint}): the drill commits, the coordinator and the others move on, node-2 finishes its switch at restart, a re-run completes`, async () => {
        const epoch = epochOf(lab.layout.nodeDirs[0]!);
        await restartNode2(failpointEnv(`${failpoint}=kill`));
        const outcome = await drill();
        expect(outcome.code, outcome.stdout).toBe(0);
        expect(outcome.stdout).toMatch(/not acknowledged: node-2/);
        expect(await lab.nodes[1]!.exited).toBe(null);
        await waitReloaded(epoch + 1);
        expect(epochOf(lab.layout.nodeDirs[0]!)).toBe(epoch + 1);
        await expectSafe(`N2 at ${step}, node-2 down`);
        await restartNode2();
        expect(epochOf(lab.layout.nodeDirs[1]!)).toBe(epoch + 1);
        expect(existsSync(join(lab.layout.nodeDirs[1]!, 'pending-epoch.json'))).toBe(false);
        await expectSafe(`N2 at ${step}, node-2 back`);
        expect(await rerun(`N2 at ${step}`)).toBe(epoch + 2);
      });
    }

    it('C (the drill process) killed right after its commit decision is durable (S5): the old epoch still signs, the re-run finishes the committed ceremony', async () => {
      const epoch = epochOf(lab.layout.nodeDirs[0]!);
      const outcome = await drill(failpointEnv('refresh.after_S5=kill'));
      expect(outcome.signal).toBe('SIGKILL');
      expect(outcome.stdout).toMatch(/\[S5\] commit decision durable/);
      expect(lab.layout.nodeDirs.map(epochOf)).toEqual([epoch, epoch, epoch]);
      expect(reloadedEpochs()).not.toContain(epoch + 1);
      await expectSafe('C at S5');
      const started = performance.now();
      const rerunOutcome = await drill();
      console.log(`[figure] C at S5: resumed drill ${(performance.now() - started).toFixed(0)} ms`);
      expect(rerunOutcome.code, rerunOutcome.stdout).toBe(0);
      expect(rerunOutcome.stdout).toMatch(/resuming committed drill/);
      expect(lab.layout.nodeDirs.map(epochOf)).toEqual([epoch + 1, epoch + 1, epoch + 1]);
      await waitReloaded(epoch + 1);
      await expectSafe('C at S5, after the re-run');
      // At the end: no pending or old-epoch share file in any node directory.
      for (const nodeDir of lab.layout.nodeDirs) expect(readdirSync(nodeDir).filter((f) => f.includes('pending'))).toEqual([]);
      const census = shareCensus(lab.layout.nodeDirs);
      expect(census.map((e) => [e.epoch, e.intact.length])).toEqual([[epoch + 1, 3]]);
    });
  });
});

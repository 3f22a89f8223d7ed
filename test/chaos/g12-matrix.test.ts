import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lab, parseStatusLine } from '@frostbunker/deploy/lab';
import { readNodeLogEntries } from '@frostbunker/shared/audit';
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
import { connectBunkerSigner } from '../harness/bunker-client.js';
import { goal } from '../harness/chaos-report.js';
import { describeCensus, DrillCrashKit, readNode, type DrillOutcome } from '../harness/drill-crash.js';
import { failpointEnv } from '../harness/process-nemesis.js';
import { shareCensus } from '../harness/share-census.js';
import { shareNodeCli } from '../harness/share-node-cli.js';
import { makeTempDir } from '../harness/tmp.js';

type Step = 'S1' | 'S2' | 'S3' | 'S4' | 'S5' | 'S6' | 'S7';
type Victim = 'C' | 'N2' | 'N1+N2';

interface Case {
  victim: Victim;
  step: Step;
  failpoint: string;
}

/*
 * Where each victim dies. The drill process (C) has a failpoint after each of its steps. A share
 * node learns S4's verdict and S5's decision only when told: "N2 at S4" dies in the test round
 * (its test share computed, not sent: `refresh.after_S4`), "N2 at S5" right after recording the
 * commit decision and before switching (`refresh.before_S6`), "at S6" between the switch's two
 * renames, "at S7" after destroying the old share and before acknowledging.
 */
const NODE_FAILPOINT: Record<Step, string> = {
  S1: 'refresh.after_S1',
  S2: 'refresh.after_S2',
  S3: 'refresh.after_S3',
  S4: 'refresh.after_S4',
  S5: 'refresh.before_S6',
  S6: 'refresh.after_S6',
  S7: 'refresh.after_S7',
};
const STEPS: Step[] = ['S1', 'S2', 'S3', 'S4', 'S5', 'S6', 'S7'];
const CASES: Case[] = [
  ...STEPS.map((step) => ({ victim: 'N2' as const, step, failpoint: NODE_FAILPOINT[step] })),
  { victim: 'N1+N2', step: 'S6', failpoint: NODE_FAILPOINT.S6 },
  ...STEPS.map((step) => ({ victim: 'C' as const, step, failpoint: `refresh.after_${step}` })),
];
/** What the drill's state file says right after C died at each step. */
const C_PHASE: Record<Step, string> = { S1: 'started', S2: 'started', S3: 'pending', S4: 'tested', S5: 'committed', S6: 'committed', S7: 'done' };
const C_STEP_LINE: Record<Step, RegExp> = {
  S1: /\[S1\] contributions dealt/,
  S2: /\[S2\] contributions verified/,
  S3: /\[S3\] pending shares persisted/,
  S4: /\[S4\] test signature verified/,
  S5: /\[S5\] commit decision durable/,
  S6: /\[S6\] nodes switched epoch/,
  S7: /\[S7\] old shares destroyed and acknowledged/,
};
const afterDecision = (step: Step) => step >= 'S5';

interface Row {
  n: number;
  victim: Victim;
  step: Step;
  recoveryMs: number;
  census: string;
  epochs: string;
}

// RELIABILITY.md G12, the full 15-case matrix with real processes, on one 2-of-3 lab: every case
// starts from a finished drill (all nodes on one epoch) and ends with a re-run that completes.
describe('G12 rotation crash matrix (chaos tier)', () => {
  const dir = makeTempDir('chaos-g12');
  let lab: Lab;
  let client: Awaited<ReturnType<typeof connectBunkerSigner>>;
  let kit: DrillCrashKit;
  const reloaded: number[] = [];
  const rows: Row[] = [];
  /** Every share any node held at the start of a case or pending after a crash: none may survive. */
  const sharesSeen = new Set<string>();
  let npub = '';
  const aside = join(dir.path, 'aside');
  /** The report of the drill that resumed after C died at S6. */
  let resumedAfterS6: { notAcknowledged: string[]; acknowledged: string[] } | undefined;

  const drillsDir = () => join(lab.layout.coordinatorDir, 'drills');
  const reportFiles = () => (existsSync(drillsDir()) ? readdirSync(drillsDir()).filter((f) => f.endsWith('-refresh.json')).sort() : []);
  const readReport = (file: string) => JSON.parse(readFileSync(join(drillsDir(), file), 'utf8'));
  const coordinatorEpoch = (): number => JSON.parse(readFileSync(join(lab.layout.coordinatorDir, 'config.json'), 'utf8')).identities[0].epoch;
  const drillPhase = (): string => {
    const file = readdirSync(drillsDir()).find((f) => f.endsWith('.state.json'))!;
    return JSON.parse(readFileSync(join(drillsDir(), file), 'utf8')).phase;
  };
  const victimsOf = (victim: Victim): number[] => (victim === 'C' ? [] : victim === 'N2' ? [2] : [1, 2]);

  const collectShares = () => {
    for (const nodeDir of lab.layout.nodeDirs) {
      for (const file of ['secrets.json', 'secrets.pending.json']) {
        const path = join(nodeDir, file);
        if (existsSync(path)) sharesSeen.add(String(JSON.parse(readFileSync(path, 'utf8')).signingShare));
      }
    }
  };

  /** The running epoch of each node that logged `signed` for `eventId` (status over the control socket). */
  const signerEpochs = async (eventId: string): Promise<Record<string, number>> => {
    const out: Record<string, number> = {};
    for (const [i, nodeDir] of lab.layout.nodeDirs.entries()) {
      if (!readNodeLogEntries(join(nodeDir, 'node-log.jsonl')).some((e) => e.decision === 'signed' && e.eventId === eventId)) continue;
      const status = await shareNodeCli(nodeDir, 'status');
      out[`node-${i + 1}`] = Number(/"epoch":\s*(\d+)/.exec(status)?.[1]);
    }
    return out;
  };

  /** G12 (a) + (b), and (c): the nodes that signed were running the authoritative epoch. */
  const expectSafeOn = async (what: string, authoritative: number): Promise<number> => {
    const { signed, signMs } = await kit.expectSafe(what);
    const signers = await signerEpochs(signed.id);
    expect(Object.keys(signers).length, `${what}: nodes that logged the signature`).toBeGreaterThanOrEqual(2);
    for (const [label, epoch] of Object.entries(signers)) expect(epoch, `${what}: ${label} signed on epoch`).toBe(authoritative);
    return signMs;
  };

  beforeAll(async () => {
    lab = await Lab.start({ root: dir.path, relayPort: 0 });
    await lab.waitForQuorum();
    lab.coordinator.onLine((line) => {
      const status = parseStatusLine(line);
      if (status?.event === 'reloaded') reloaded.push(Number(status.toEpoch));
    });
    client = await connectBunkerSigner(lab.bunkerUrl);
    kit = new DrillCrashKit(lab, client.signer, '4s');
    npub = lab.userPubkey;
    // The operator's mistake the matrix must survive: node-1's first share copied aside.
    mkdirSync(aside);
    for (const file of ['config.json', 'secrets.json']) copyFileSync(join(lab.layout.nodeDirs[0]!, file), join(aside, file));
  });

  afterAll(async () => {
    await client?.close();
    await lab?.stop();
    dir.remove();
  });

  for (const [index, c] of CASES.entries()) {
    const n = index + 1;
    const committed = afterDecision(c.step);
    it(`case ${n}: ${c.victim} killed at ${c.step} (${c.failpoint}) → k intact shares on disk, signs within 30 s with the same npub, ${committed ? 'the new' : 'only the old'} epoch in service, a re-run completes`, async () => {
      await goal(`G12.${n}`, `${c.victim} at ${c.step} (${c.failpoint}=kill)`, '2-of-3, one crash', async (figure) => {
        const e = kit.epochOf(lab.layout.nodeDirs[0]!);
        expect(kit.epochs(), 'every case starts on one epoch').toEqual([e, e, e]);
        collectShares();
        const victims = victimsOf(c.victim);
        const reportsBefore = new Set(reportFiles());

        // The crash.
        let outcome: DrillOutcome;
        if (c.victim === 'C') {
          outcome = await kit.drill(failpointEnv(`${c.failpoint}=kill`));
          expect(outcome.signal, outcome.stdout + outcome.stderr).toBe('SIGKILL');
          expect(outcome.stdout).toMatch(C_STEP_LINE[c.step]);
          expect(reportFiles().filter((f) => !reportsBefore.has(f)), 'a killed drill writes no report').toEqual([]);
          expect(drillPhase()).toBe(C_PHASE[c.step]);
        } else {
          for (const v of victims) await kit.restartNode(v, failpointEnv(`${c.failpoint}=kill`));
          outcome = await kit.drill();
          for (const v of victims) expect(await lab.nodes[v - 1]!.exited, `node-${v} killed`).toBe(null);
          const labels = victims.map((v) => `node-${v}`).join(', ');
          if (committed) {
            expect(outcome.code, outcome.stdout).toBe(0);
            expect(outcome.stdout).toContain(`not acknowledged: ${labels}`);
          } else {
            expect(outcome.code, outcome.stdout).toBe(1);
            expect(outcome.stdout).toMatch(/silent: node-2/);
          }
        }
        const crashedAt = performance.now();
        collectShares();
        const census = shareCensus(lab.layout.nodeDirs);

        // (c): before the decision only the old epoch is in service; after it the new one, once the
        // coordinator's config says so. C killed right at S5 has the decision on disk but nothing
        // applied: the old epoch keeps signing until the re-run finishes the commit.
        const configApplied = c.victim === 'C' ? c.step >= 'S6' : committed;
        const authoritative = configApplied ? e + 1 : e;
        expect(coordinatorEpoch(), 'coordinator config epoch').toBe(authoritative);
        if (configApplied) await kit.waitReloaded(e + 1);
        else expect(reloaded).not.toContain(e + 1);
        for (const [i, nodeDir] of lab.layout.nodeDirs.entries()) {
          if (!victims.includes(i + 1)) expect(kit.epochOf(nodeDir), `node-${i + 1} on disk`).toBe(authoritative);
        }
        const what = `${c.victim} at ${c.step}`;
        // With one node down k = 2 remain: it signs now. With two down nothing can, until restart.
        if (victims.length === 1) await expectSafeOn(`${what}, node-2 down`, authoritative);

        // Restart, and (a) + (b) + (c) again.
        for (const v of victims) await kit.restartNode(v);
        if (c.victim !== 'C') {
          expect(kit.epochs(), 'after the restart').toEqual([authoritative, authoritative, authoritative]);
          // A node that recorded the decision finished its switch at start; one that did not still holds its pending share or none.
          const pendingLeft = existsSync(join(lab.layout.nodeDirs[1]!, 'pending-epoch.json'));
          expect(pendingLeft, 'node-2 pending share after the restart').toBe(c.step === 'S3' || c.step === 'S4');
        }
        await expectSafeOn(`${what}, back`, authoritative);
        const recoveryMs = performance.now() - crashedAt;

        // (d): the re-run completes. It finishes a committed drill C left behind, and otherwise
        // (after aborting what was left) runs a fresh refresh.
        const resumes = c.victim === 'C' && (c.step === 'S5' || c.step === 'S6');
        const expected = resumes || !committed ? e + 1 : e + 2;
        let final: number;
        let rerunOut: string;
        if (c.victim === 'C' && c.step === 'S6') {
          // The resumed drill asks every node again (the acks are checked in case 14's own test).
          const started = performance.now();
          const rerun = await kit.drill();
          kit.lastRerun = { outcome: rerun, ms: performance.now() - started };
          expect(rerun.code, rerun.stdout + rerun.stderr).toBe(0);
          expect(rerun.stdout).toMatch(/committed: npub unchanged, epoch \d+ -> \d+/);
          expect(kit.epochs()).toEqual([expected, expected, expected]);
          await kit.expectSafe(`${what}, after the re-run`);
          final = expected;
          rerunOut = rerun.stdout;
        } else {
          final = await kit.rerun(what, expected);
          rerunOut = kit.lastRerun!.outcome.stdout;
        }
        if (resumes) expect(rerunOut).toMatch(/resuming committed drill/);
        if (c.victim === 'C' && !committed) expect(rerunOut).toMatch(/aborting interrupted drill .* \(stopped at (started|pending|tested), never committed\)/);
        expect(shareCensus(lab.layout.nodeDirs).map((x) => [x.epoch, x.intact.length])).toEqual([[final, 3]]);
        for (const nodeDir of lab.layout.nodeDirs) expect(readdirSync(nodeDir).filter((f) => f.includes('pending'))).toEqual([]);

        // The reports record the interrupted attempt.
        const fresh = reportFiles().filter((f) => !reportsBefore.has(f)).map(readReport);
        const rerunReport = fresh.at(-1)!;
        if (c.victim === 'C' && c.step === 'S6') resumedAfterS6 = rerunReport;
        expect(rerunReport).toMatchObject({ outcome: 'committed', sameNpub: true });
        if (c.victim === 'C' && c.step !== 'S7') {
          expect(fresh).toHaveLength(1);
          expect(rerunReport.interrupted).toEqual([expect.objectContaining({ resolution: resumes ? 'commit finished' : 'aborted; old epoch kept' })]);
        } else if (c.victim !== 'C') {
          expect(fresh).toHaveLength(2);
          const crashed = fresh[0];
          if (committed) expect(crashed).toMatchObject({ outcome: 'committed', notAcknowledged: victims.map((v) => `node-${v}`) });
          else expect(crashed).toMatchObject({ outcome: 'aborted', failure: { reason: expect.stringContaining('silent: node-2') } });
          if (c.step === 'S3' || c.step === 'S4') expect(rerunReport.interrupted).toEqual([expect.objectContaining({ phase: 'pending on node-2', resolution: 'aborted; old epoch kept' })]);
        }
        expect(lab.userPubkey).toBe(npub);

        const row: Row = { n, victim: c.victim, step: c.step, recoveryMs, census: describeCensus(census), epochs: `${e} → ${final}` };
        rows.push(row);
        figure(`recovery ${recoveryMs.toFixed(0)} ms; on disk after the crash: ${row.census}; re-run ${kit.lastRerun!.ms.toFixed(0)} ms; epoch ${row.epochs}`);
      });
    });
  }

  // Case 14: C killed after the nodes switched and before it saved their acks leaves phase
  // `committed`; the re-run resends the (idempotent) decision to every member and records them.
  it('case 14: the drill resumed after C died at S6 records every node as acknowledged', () => {
    expect(resumedAfterS6, 'case 14 ran').toBeDefined();
    expect(resumedAfterS6!.notAcknowledged).toEqual([]);
    expect(resumedAfterS6!.acknowledged).toEqual(['node-1', 'node-2', 'node-3']);
  });

  it('at the end: every node on the last epoch, no earlier share in any node directory, the share kept aside fails a mixed round and is named', async () => {
    await goal('G12', 'rotation crash matrix: end state', `${CASES.length} cases`, async (figure) => {
      const epochs = kit.epochs();
      const last = epochs[0]!;
      expect(epochs).toEqual([last, last, last]);
      expect(coordinatorEpoch()).toBe(last);
      expect(rows.map((r) => `${r.victim} ${r.step}`), 'every case ran').toEqual(CASES.map((c) => `${c.victim} ${c.step}`));
      const current = new Set(lab.layout.nodeDirs.map((d) => readNode(d).secrets.signingShare));
      const old = [...sharesSeen].filter((s) => !current.has(s));
      expect(old.length).toBeGreaterThanOrEqual(3 * CASES.length);
      for (const nodeDir of lab.layout.nodeDirs) {
        for (const file of readdirSync(nodeDir)) {
          const path = join(nodeDir, file);
          if (!statSync(path).isFile()) continue;
          const text = readFileSync(path, 'utf8');
          for (const share of old) expect(text.includes(share), `${path} holds an old share`).toBe(false);
        }
      }

      // node-1's epoch-0 share, kept aside, with node-2's current share: the round fails, naming node-1.
      const kept = readNode(aside);
      const node2 = readNode(lab.layout.nodeDirs[1]!);
      const oldGroup = parseGroupPackage(kept.config.group);
      const newGroup = parseGroupPackage(node2.config.group);
      const oldShare = SigningShare.fromHex(kept.config.identifier, kept.secrets.signingShare, oldGroup);
      const newShare = SigningShare.fromHex(node2.config.identifier, node2.secrets.signingShare, newGroup);
      expect(() => SigningShare.fromHex(kept.config.identifier, kept.secrets.signingShare, newGroup)).toThrow();
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
      expect((error as CheaterError).culprits).toEqual([kept.config.identifier]);
      expect(readNode(lab.layout.nodeDirs[0]!).config.identifier).toBe(kept.config.identifier);

      const table = [
        'case | victim | step | recovery ms | epochs on disk after the crash | epoch before → after re-run',
        ...rows.map((r) => `${String(r.n).padStart(4)} | ${r.victim.padEnd(6)} | ${r.step}   | ${r.recoveryMs.toFixed(0).padStart(11)} | ${r.census} | ${r.epochs}`),
      ];
      console.log(`\nG12 matrix\n${table.join('\n')}\n`);
      for (const line of table) figure(line);
      figure(`${old.length} earlier shares checked absent; epoch ${last} on all nodes; kept-aside node-1 share named in the mixed round`);
    });
  });
});

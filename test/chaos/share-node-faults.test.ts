import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { verifyEvent, type VerifiedEvent } from 'nostr-tools/pure';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog, openAclDatabase } from '@frostbunker/coordinator';
import { Lab } from '@frostbunker/deploy/lab';
import { createSigningPackage, hexToBytes, parseGroupPackage, verifySignatureShare, type SigningCommitments } from '@frostbunker/shared/crypto';
import { createNip44Codec } from '@frostbunker/shared/nostr';
import type { FrostIdentifier } from '@frostbunker/shared/protocol';
import { chaosClient, raiseNodeRateLimits, coordinatorLogLines, note, recordedSign, scrape, scrapeAll, stream, waitForServing, type Client } from '../harness/chaos-lab.js';
import { goal } from '../harness/chaos-report.js';
import { mulberry32 } from '../harness/chaos-relay.js';
import { History, percentiles } from '../harness/history.js';
import { checkNonceLedgers, describeNonceLedger, nonceLedgerEnv } from '../harness/nonce-ledger.js';
import { ProcessNemesis } from '../harness/process-nemesis.js';
import { makeTempDir } from '../harness/tmp.js';

const ROUND_DEADLINE_MS = 5_000;
/** G4 at CI size: 10 kills (RELIABILITY.md allows 5–20 here; the full size is 500). */
const G4_KILLS = 10;
/** G7 at CI size: requests per byzantine variant in 2-of-3, and in 2-of-2. */
const G7_REQUESTS = 25;
const G7_TWO_OF_TWO_REQUESTS = 10;
const CRASH_PHASES = ['round1.after_commit', 'round2.after_package', 'round2.before_send'] as const;
const BYZANTINE_VARIANTS = ['random', 'negated', 'other_session', 'other_message'] as const;

// RELIABILITY.md G4, G5, G6, G7 with real processes (one 2-of-3 lab, the embedded relay; G7 adds a
// 2-of-2 lab). Every share node writes the nonce ledger (§3.6) the goals check for reuse.
describe('share-node faults (chaos tier)', () => {
  const dir = makeTempDir('chaos-nodes');
  const ledgerDir = join(dir.path, 'nonce-ledger');
  const ledgerEnv = nonceLedgerEnv(ledgerDir);
  const savedEnv = Object.fromEntries(Object.keys(ledgerEnv).map((key) => [key, process.env[key]]));
  let lab: Lab;
  let nemesis: ProcessNemesis;
  let alice: Client;
  let bob: Client;

  beforeAll(async () => {
    // Lab children inherit this process's environment, so every node start (restarts included)
    // writes its ledger without each call having to ask.
    Object.assign(process.env, ledgerEnv);
    lab = await Lab.start({ root: dir.path, relayPort: 0 });
    nemesis = new ProcessNemesis(lab);
    await lab.waitForQuorum();
    raiseNodeRateLimits(lab);
    [alice, bob] = [await chaosClient(lab), await chaosClient(lab)];
  });
  afterAll(async () => {
    await alice?.close();
    await bob?.close();
    nemesis?.resumeAll();
    await lab?.stop();
    for (const [key, value] of Object.entries(savedEnv)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    dir.remove();
  });

  // A goal that fails must not leave nodes paused, down or armed for the next one.
  afterEach(async () => {
    await nemesis.restoreNodes();
    await waitForServing(lab, ['node-1', 'node-2', 'node-3']);
  });

  it('G4: a share node SIGKILLed mid-round (after commit, after the package, before z_i), restarted after 2 s, never costs a request', async () => {
    await goal('G4', 'share-node crash mid-round (failpoints round1.after_commit, round2.after_package, round2.before_send = kill)', `${G4_KILLS} kills (CI size; full 500)`, async (figure) => {
      const seed = Date.now() % 1_000_000;
      const random = mulberry32(seed);
      const history = new History();
      const sessionsBefore = await sessionsHistogram(lab);
      const kills: { phase: string; live: boolean }[] = [];
      const firstPongMs: number[] = [];
      const killLatencyMs: number[] = [];
      const otherLatencyMs: number[] = [];
      let order: string[] = [];
      for (let kill = 0; kill < G4_KILLS; kill++) {
        // Each phase once per three kills, in a seeded random order within each three.
        if (kill % CRASH_PHASES.length === 0) order = shuffle([...CRASH_PHASES], random);
        const phase = order[kill % CRASH_PHASES.length]!;
        const startedAtMs = performance.now();
        const armed = await nemesis.armNode(1, `${phase}=kill`);
        let died = false;
        void armed.exited.then(() => (died = true));
        // A restarted node first answers what the relay still holds for it (the transport's 60 s
        // window): a replayed round 1 is a real commit, so round1.after_commit may fire there.
        // Otherwise wait until it answers a ping and the coordinator holds its commitments: one-round
        // signers are picked in turn among those, so node-1 is picked within two requests.
        await waitFor(
          async () => {
            if (died) return true;
            const answeredMs = await answeredSince(lab, 'node-1', startedAtMs);
            if (answeredMs === undefined || (await pooledCommitments(lab, 'node-1')) === 0) return false;
            firstPongMs.push(answeredMs);
            return true;
          },
          15_000,
          `kill ${kill}: node-1 neither answered nor died`,
        );
        const live = !died;
        for (let i = 0; i < 4 && (i === 0 || !died); i++) {
          const wasAlive = !died;
          const result = await recordedSign(history, alice, 'alice', note(`G4 ${kill}.${i} ${phase}`));
          expect(result.ok, result.ok ? '' : result.error).toBe(true);
          (wasAlive && died ? killLatencyMs : otherLatencyMs).push(lastLatencyMs(history));
        }
        expect(died, `kill ${kill} (${phase}): node-1 was never picked`).toBe(true);
        expect(await armed.exited).toBeNull(); // SIGKILL, not an exit
        lab.nodes[0] = undefined;
        kills.push({ phase, live });
        await new Promise((resolve) => setTimeout(resolve, 2_000));
      }
      const startedAtMs = performance.now();
      await nemesis.restoreNodes();
      firstPongMs.push(await waitForFirstPong(lab, 'node-1', startedAtMs, 15_000));

      const check = history.check({ deadlineMs: 30_000, groupPubkey: lab.userPubkey });
      expect(check.violations).toEqual([]);
      expect(check.oks).toBe(check.invoked);
      // Only a round 1 can be replayed into a commit; a package or a z_i needs a live request.
      expect(kills.filter((k) => k.phase !== 'round1.after_commit' && !k.live)).toEqual([]);
      const sessions = sessionsPerRequest(sessionsBefore, await sessionsHistogram(lab));
      expect(sessions.requests).toBe(check.invoked);
      expect(sessions.max).toBeLessThanOrEqual(2); // n − k + 1
      firstPongMs.sort((a, b) => a - b);
      expect(firstPongMs.at(-1)!).toBeLessThanOrEqual(15_000);
      const ledger = checkNonceLedgers(ledgerDir);
      expect(ledger.reused).toEqual([]);
      expect(ledger.badLines).toBe(0);
      const byPhase = CRASH_PHASES.map((p) => {
        const of = kills.filter((k) => k.phase === p);
        return `${p} ×${of.length} (${of.filter((k) => k.live).length} in a live request)`;
      });
      figure(`${kills.length} kills of node-1, restarted 2 s later: ${byPhase.join(', ')}; seed ${seed}`);
      figure(`${check.oks}/${check.invoked} requests signed (both verifiers); sessions per request max ${sessions.max} (asserted ≤ n − k + 1 = 2), histogram ${sessions.histogram}`);
      figure(`failover overhead: requests that lost node-1 mid-round ${percentiles(killLatencyMs.sort((a, b) => a - b))}; the others ${percentiles(otherLatencyMs.sort((a, b) => a - b))}`);
      figure(`restarted node-1 answering in /health after its start: ${percentiles(firstPongMs)} (asserted ≤ 15 s)`);
      figure(describeNonceLedger(ledger));
    });
  });

  it('G5: two of three nodes down (killed, then SIGSTOPped) → every request gets a quorum error in bounded time; one back → signs', async () => {
    await goal('G5', 'quorum loss answers, never hangs', '2 × 2 clients × 10 requests (CI size)', async (figure) => {
      for (const mode of ['killed', 'stopped'] as const) {
        if (mode === 'killed') {
          await nemesis.killNode(2);
          await nemesis.killNode(3);
        } else {
          nemesis.pauseNode(2);
          nemesis.pauseNode(3);
        }
        const history = new History();
        await Promise.all(
          [alice, bob].flatMap((client, c) =>
            Array.from({ length: 10 }, (_, i) => recordedSign(history, client, c === 0 ? 'alice' : 'bob', note(`G5 ${mode} ${i}`), 3 * ROUND_DEADLINE_MS)),
          ),
        );
        const check = history.check({ deadlineMs: 3 * ROUND_DEADLINE_MS, groupPubkey: lab.userPubkey });
        expect(check.violations).toEqual([]);
        expect(check.oks).toBe(0);
        const errors = history.entries.filter((e) => e.type === 'fail').map((e) => String(e.value));
        expect(errors).toHaveLength(20);
        for (const error of errors) expect(error).toMatch(/quorum unavailable.*(node-2.*node-3|node-3.*node-2)/);
        const invokes = new Map(history.entries.filter((e) => e.type === 'invoke').map((e) => [e.reqId, e.t]));
        const errorMs = history.entries.filter((e) => e.type === 'fail').map((e) => e.t - invokes.get(e.reqId)!).sort((a, b) => a - b);
        figure(`${mode}: 20/20 error replies naming node-2 and node-3; time to error ${percentiles(errorMs)} (asserted ≤ 3·D = ${3 * ROUND_DEADLINE_MS} ms)`);
        const backAtMs = performance.now();
        if (mode === 'killed') await nemesis.restartNode(2);
        else nemesis.resumeNode(2);
        await waitForFirstPong(lab, 'node-2', backAtMs, 15_000);
        const after = new History();
        const result = await recordedSign(after, alice, 'alice', note(`G5 ${mode} back`));
        expect(result.ok, result.ok ? '' : result.error).toBe(true);
        expect(after.check({ deadlineMs: 30_000, groupPubkey: lab.userPubkey }).violations).toEqual([]);
        figure(`${mode}: node-2 back (node-3 still ${mode}) → the next request signed in ${lastLatencyMs(after).toFixed(0)} ms`);
        if (mode === 'killed') await nemesis.restartNode(3);
        else nemesis.resumeNode(3);
      }
      await waitForServing(lab, ['node-1', 'node-2', 'node-3']);
    });
  });

  it('G6: one node SIGSTOPped for 10 s during a stream → every request signs; its late partials are counted, never aggregated', async () => {
    await goal('G6', 'pause and late partials', '60 requests, concurrency 4 (CI size 100)', async (figure) => {
      const history = new History();
      const failoversBefore = await scrape(lab, /frostbunker_signing_failovers_total\{(?=.*node="node-3")(?=.*cause="silence")/);
      const lateBefore = await lateMessages(lab, 'node-3');
      const invalidBefore = await scrape(lab, /frostbunker_invalid_partials_total\{/);
      const pausing = (async () => {
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        nemesis.pauseNode(3);
        await new Promise((resolve) => setTimeout(resolve, 10_000));
        nemesis.resumeNode(3);
      })();
      await stream(60, 4, (i) => recordedSign(history, i % 2 ? alice : bob, i % 2 ? 'alice' : 'bob', note(`G6 ${i}`)));
      await pausing;
      // node-3 works through what piled up while it was stopped; its answers come in late.
      await waitForServing(lab, ['node-1', 'node-2', 'node-3']);
      await waitFor(async () => (await lateMessages(lab, 'node-3')).total > lateBefore.total, 15_000, 'no late message from node-3');
      const check = history.check({ deadlineMs: 30_000, groupPubkey: lab.userPubkey });
      expect(check.violations).toEqual([]);
      expect(check.oks).toBe(60);
      const late = await lateMessages(lab, 'node-3');
      expect(late.total - lateBefore.total).toBeGreaterThanOrEqual(1);
      // A late partial mixed into another session would fail its aggregate and name node-3.
      expect(await scrape(lab, /frostbunker_invalid_partials_total\{/)).toBe(invalidBefore);
      const ledger = checkNonceLedgers(ledgerDir);
      expect(ledger.reused).toEqual([]);
      expect(ledger.badLines).toBe(0);
      const failovers = (await scrape(lab, /frostbunker_signing_failovers_total\{(?=.*node="node-3")(?=.*cause="silence")/)) - failoversBefore;
      const byType = [...late.byType].map(([type, n]) => `${type} ${n - (lateBefore.byType.get(type) ?? 0)}`).join(', ');
      figure(`60/60 signed; latency ${percentiles(check.okLatenciesMs)}; silence failovers on node-3 during the pause: ${failovers}`);
      figure(`late messages from node-3: ${late.total - lateBefore.total} (${byType}), 0 aggregated (no invalid partial, every signature valid)`);
      figure(describeNonceLedger(ledger));
    });
  });

  it('G7: a node sending wrong partials (4 variants) is named with evidence and excluded; 2-of-3 signs, 2-of-2 errors naming it', async () => {
    await goal('G7', 'identifiable abort (failpoints round2.byzantine_{random,negated,other_session,other_message})', `4 × ${G7_REQUESTS} requests in 2-of-3, 4 × ${G7_TWO_OF_TWO_REQUESTS} in 2-of-2 (CI size; full 4 × 500)`, async (figure) => {
      const audit = coordinatorEvidence(lab);
      const node2 = audit.member('node-2');
      let sentTotal = 0;
      let namedTotal = 0;
      for (const variant of BYZANTINE_VARIANTS) {
        const namedBefore = coordinatorLogLines(lab, /invalid partial signature/).length;
        const lateBefore = await lateShares(lab, 'node-2');
        const auditSeq = audit.lastSeq();
        await nemesis.armNode(2, `round2.byzantine_${variant}=throw`);
        await waitForServing(lab, ['node-1', 'node-2', 'node-3']);
        const history = new History();
        for (let i = 0; i < G7_REQUESTS; i++) await recordedSign(history, alice, 'alice', note(`G7 ${variant} ${i}`));
        const check = history.check({ deadlineMs: 30_000, groupPubkey: lab.userPubkey });
        expect(check.violations).toEqual([]);
        expect(check.oks).toBe(G7_REQUESTS);
        const sent = byzantineSharesSent(lab, 2, variant);
        const named = coordinatorLogLines(lab, /invalid partial signature/).slice(namedBefore);
        const late = (await lateShares(lab, 'node-2')) - lateBefore;
        expect(sent, `${variant}: node-2 was never picked`).toBeGreaterThanOrEqual(1);
        // Every wrong z_i that reached a session named node-2 by its transport identity.
        expect(named.length + late).toBe(sent);
        for (const line of named) expect(line).toContain(`"culprits":["node-2"],"nodePubkeys":["${node2.nodePubkey}"]`);
        const rows = audit.rowsAfter(auditSeq);
        expect(rows).toHaveLength(named.length);
        for (const row of rows) audit.expectEvidence(row, node2);
        sentTotal += sent;
        namedTotal += named.length;
        figure(`2-of-3, ${variant}: ${check.oks}/${G7_REQUESTS} signed; node-2 sent ${sent} wrong z_i: ${named.length} named and audited with node-signed evidence, ${late} arrived after their session`);
      }
      figure(`2-of-3 total: ${namedTotal}/${sentTotal} wrong partials named; 0 invalid signatures returned (nostr-tools verifyEvent and noble schnorr.verify)`);
      await twoOfTwo(dir.path, figure);
    });
  });
});

/** 2-of-2: nobody to fail over to, so every request ends in an error naming the byzantine node. */
async function twoOfTwo(root: string, figure: (line: string) => void): Promise<void> {
  const labRoot = join(root, 'two-of-two');
  const previousLedger = process.env.FROSTBUNKER_NONCE_LEDGER_DIR;
  process.env.FROSTBUNKER_NONCE_LEDGER_DIR = join(labRoot, 'nonce-ledger');
  const small = await Lab.start({ root: labRoot, relayPort: 0, threshold: 2, maxSigners: 2 });
  const nemesis = new ProcessNemesis(small);
  let client: Client | undefined;
  try {
    await small.waitForQuorum();
    raiseNodeRateLimits(small);
    client = await chaosClient(small);
    const audit = coordinatorEvidence(small);
    const node2 = audit.member('node-2');
    for (const variant of BYZANTINE_VARIANTS) {
      const auditSeq = audit.lastSeq();
      await nemesis.armNode(2, `round2.byzantine_${variant}=throw`);
      await waitForServing(small, ['node-1', 'node-2']);
      const history = new History();
      for (let i = 0; i < G7_TWO_OF_TWO_REQUESTS; i++) await recordedSign(history, client, 'c', note(`G7 2-of-2 ${variant} ${i}`));
      const check = history.check({ deadlineMs: 30_000, groupPubkey: small.userPubkey });
      expect(check.violations).toEqual([]);
      const errors = history.entries.filter((e) => e.type === 'fail').map((e) => String(e.value));
      expect(errors).toHaveLength(G7_TWO_OF_TWO_REQUESTS);
      for (const error of errors) expect(error).toMatch(/invalid signature share from node-2/);
      const rows = audit.rowsAfter(auditSeq);
      expect(rows).toHaveLength(G7_TWO_OF_TWO_REQUESTS);
      for (const row of rows) audit.expectEvidence(row, node2);
      figure(`2-of-2, ${variant}: ${errors.length}/${G7_TWO_OF_TWO_REQUESTS} error replies "${errors[0]}", each audited with node-signed evidence`);
    }
    const ledger = checkNonceLedgers(process.env.FROSTBUNKER_NONCE_LEDGER_DIR);
    expect(ledger.reused).toEqual([]);
    figure(`2-of-2 ${describeNonceLedger(ledger)}`);
  } finally {
    await client?.close();
    nemesis.resumeAll();
    await small.stop();
    process.env.FROSTBUNKER_NONCE_LEDGER_DIR = previousLedger;
  }
}

interface AuditRow {
  seq: number;
  target: string;
  after: unknown;
}

interface Evidence {
  node: string;
  nodePubkey: string;
  identifier: FrostIdentifier;
  sessionId: string;
  eventId: string;
  commitments: SigningCommitments[];
  signatureShare: string;
  signedEvent: VerifiedEvent;
}

/**
 * The coordinator's audit rows for invalid partials (action `signing.invalid_partial`), and a
 * check that each carries evidence anyone can re-verify (RELIABILITY.md T3): the node-signed event,
 * which decrypts (coordinator key) to that exact share, and a share that fails RFC 9591 §5.4.
 */
function coordinatorEvidence(lab: Lab) {
  const coordinatorDir = lab.layout.coordinatorDir;
  const config = JSON.parse(readFileSync(join(coordinatorDir, 'config.json'), 'utf8')) as { identities: { group: unknown; members: { label: string; nodePubkey: string; identifier: FrostIdentifier }[] }[] };
  const secrets = JSON.parse(readFileSync(join(coordinatorDir, 'secrets.json'), 'utf8')) as { coordinatorSecretKey: string };
  const group = parseGroupPackage(config.identities[0]!.group);
  const codec = createNip44Codec(hexToBytes(secrets.coordinatorSecretKey, 32));
  const rows = (): AuditRow[] => {
    const db = openAclDatabase(join(coordinatorDir, 'acl.db'));
    try {
      return new AuditLog(db, { nowSec: () => Math.floor(Date.now() / 1000) }).tail(10_000).filter((e) => e.action === 'signing.invalid_partial');
    } finally {
      db.close();
    }
  };
  return {
    member: (label: string) => config.identities[0]!.members.find((m) => m.label === label)!,
    lastSeq: () => rows().at(-1)?.seq ?? 0,
    rowsAfter: (seq: number) => rows().filter((r) => r.seq > seq),
    expectEvidence(row: AuditRow, culprit: { nodePubkey: string; identifier: FrostIdentifier }) {
      const evidence = row.after as Evidence;
      expect(row.target).toBe(culprit.nodePubkey);
      expect(evidence.nodePubkey).toBe(culprit.nodePubkey);
      expect(evidence.identifier).toBe(culprit.identifier);
      expect(verifyEvent({ ...evidence.signedEvent })).toBe(true);
      expect(evidence.signedEvent.pubkey).toBe(culprit.nodePubkey);
      const carried = JSON.parse(codec.decrypt(culprit.nodePubkey, evidence.signedEvent.content)) as { sessionId: string; eventId: string; signatureShare: string };
      expect(carried).toMatchObject({ sessionId: evidence.sessionId, eventId: evidence.eventId, signatureShare: evidence.signatureShare });
      const pkg = createSigningPackage(hexToBytes(evidence.eventId, 32), evidence.commitments);
      expect(verifySignatureShare(group, pkg, evidence.identifier, evidence.signatureShare)).toBe(false);
    },
  };
}

/** Wrong partials node `index` says it sent (its test-mode warning), for `variant`. */
function byzantineSharesSent(lab: Lab, index: number, variant: string): number {
  return readFileSync(join(lab.options.root, 'logs', `node-${index}.log`), 'utf8')
    .split('\n')
    .filter((line) => line.includes('"TEST MODE: byzantine partial signature sent"') && line.includes(`"variant":"${variant}"`)).length;
}

/** Late messages from `node`, by type, from `/metrics`. */
async function lateMessages(lab: Lab, node: string): Promise<{ total: number; byType: Map<string, number> }> {
  const byType = new Map<string, number>();
  for (const [labels, value] of await scrapeAll(lab, 'frostbunker_late_messages_total')) {
    if (!labels.includes(`node="${node}"`)) continue;
    const type = /type="([^"]+)"/.exec(labels)?.[1] ?? '?';
    byType.set(type, (byType.get(type) ?? 0) + value);
  }
  return { total: [...byType.values()].reduce((a, b) => a + b, 0), byType };
}

async function lateShares(lab: Lab, node: string): Promise<number> {
  const { byType } = await lateMessages(lab, node);
  return (byType.get('sign_share') ?? 0) + (byType.get('round2_share') ?? 0);
}

/** `frostbunker_signing_sessions_per_request` buckets (`le` → cumulative count). */
async function sessionsHistogram(lab: Lab): Promise<Map<string, number>> {
  const buckets = new Map<string, number>();
  for (const [labels, value] of await scrapeAll(lab, 'frostbunker_signing_sessions_per_request_bucket')) {
    buckets.set(/le="([^"]+)"/.exec(labels)![1]!, value);
  }
  return buckets;
}

/** Requests between two scrapes, the most sessions any of them took, and the per-bucket counts. */
function sessionsPerRequest(before: Map<string, number>, after: Map<string, number>): { requests: number; max: number; histogram: string } {
  const delta = (le: string) => (after.get(le) ?? 0) - (before.get(le) ?? 0);
  const requests = delta('+Inf');
  const bounds = [...after.keys()].filter((le) => le !== '+Inf').map(Number).sort((a, b) => a - b);
  const max = bounds.find((b) => delta(String(b)) === requests) ?? Infinity;
  let previous = 0;
  const histogram = bounds.map((b) => {
    const n = delta(String(b)) - previous;
    previous += n;
    return `${b}:${n}`;
  });
  return { requests, max, histogram: histogram.join(' ') };
}

/**
 * How long after `sinceMs` (this process's monotonic clock) `/health` first showed `label`
 * answering a ping: the new process, not the last pong of the one before it. Undefined until then.
 */
async function answeredSince(lab: Lab, label: string, sinceMs: number): Promise<number | undefined> {
  const health = (await (await fetch(`${lab.adminUrl}/health`)).json()) as { identities: { nodes: { label: string; online: boolean; lastSeenMsAgo: number | null }[] }[] };
  const node = health.identities[0]!.nodes.find((n) => n.label === label)!;
  const elapsedMs = performance.now() - sinceMs;
  return node.online && node.lastSeenMsAgo !== null && node.lastSeenMsAgo < elapsedMs ? elapsedMs : undefined;
}

async function waitForFirstPong(lab: Lab, label: string, sinceMs: number, timeoutMs: number): Promise<number> {
  let tookMs = 0;
  await waitFor(
    async () => {
      tookMs = (await answeredSince(lab, label, sinceMs)) ?? 0;
      return tookMs > 0;
    },
    timeoutMs,
    `${label} did not answer a ping within ${timeoutMs} ms of its start`,
  );
  return tookMs;
}

/** Pre-shared commitments of `node` the coordinator holds (one-round signing), from `/metrics`. */
function pooledCommitments(lab: Lab, node: string): Promise<number> {
  return scrape(lab, new RegExp(`frostbunker_pooled_commitments\\{(?=.*node="${node}")`));
}

async function waitFor(condition: () => Promise<boolean>, timeoutMs: number, message: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await condition())) {
    if (performance.now() > deadline) throw new Error(message);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/** Reply latency of the last operation recorded in `history`. */
function lastLatencyMs(history: History): number {
  const answer = history.entries.at(-1)!;
  const invoke = history.entries.find((e) => e.reqId === answer.reqId && e.type === 'invoke')!;
  return answer.t - invoke.t;
}

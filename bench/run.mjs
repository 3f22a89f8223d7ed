// `pnpm bench`: frostbunker's benchmark (issue 9, the measuring part). Starts one embedded relay,
// two single-key baseline bunkers (bench/baseline-bunker.mjs: nostr-tools' pure-JS crypto, and
// frostbunker's own WebAssembly event signer) and, in turn, a 2-of-3 and a 3-of-5
// lab (coordinator and share nodes as separate processes), drives them all with nostr-tools
// BunkerSigner clients from this process, prints a table and writes bench/results/<time>.json.
// Figures are printed, never asserted (RELIABILITY.md). See bench/README.md.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  AbstractSimplePool,
  BunkerSigner,
  ENTRY_POINTS,
  Lab,
  WebSocket,
  ensureLabIdentity,
  generateSecretKey,
  labLayout,
  parseBunkerInput,
  startProcess,
  verifyEvent,
} from './deps.mjs';
import { frostFloor, fsyncFloor, nostrFloor } from './floor.mjs';
import { childPids, cpuDelta, cpuSnapshot, peakRssMiB, CLK_TCK } from './proc.mjs';
import { fmt, summarize, table } from './stats.mjs';

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const REPO_DIR = dirname(BENCH_DIR);
const REQUEST_DEADLINE_MS = 30_000;
const CONFIGS = [
  { threshold: 2, maxSigners: 3 },
  { threshold: 3, maxSigners: 5 },
];
/** Share-node policy for the bench: the defaults, with rate limits out of the way (60/min by default). */
const BENCH_POLICY = { rateLimits: { perMinute: 1_000_000_000, perHour: 1_000_000_000, perDay: 1_000_000_000 } };
/**
 * What each lab is measured against, in the same run: a single-key bunker on nostr-tools' pure-JS
 * crypto (what a typical bunker runs), and one on the same WebAssembly event signer as ours
 * (issue 9: "the ratio against a single-key bunker using the same fast crypto as ours").
 */
const SIDES = ['threshold', 'baseline', 'baselineFast'];
const SIDE_LABEL = { baseline: 'baseline (single key, pure JS)', baselineFast: 'baseline (single key, same wasm)' };

const USAGE = `usage: pnpm bench [--quick] [--n N] [--duration SEC] [--concurrency 1,8,32] [--floor-iterations N] [--only 2-of-3|3-of-5] [--keep]
  --n N               interleaved sign requests per side for latency (default 60; --quick 15)
  --duration SEC      length of each throughput step (default 5; --quick 1.5)
  --concurrency LIST  throughput steps (default 1,8,32)
  --floor-iterations  in-process crypto floor iterations (default 50; --quick 15)
  --only K-of-N       run one lab shape only
  --keep              keep the labs' data and logs (printed path) instead of deleting them`;

function parseOptions(argv) {
  const { values } = parseArgs({
    args: argv.filter((a) => a !== '--'),
    options: {
      quick: { type: 'boolean', default: false },
      n: { type: 'string' },
      duration: { type: 'string' },
      concurrency: { type: 'string' },
      'floor-iterations': { type: 'string' },
      only: { type: 'string' },
      keep: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const int = (text, fallback, name) => {
    if (text === undefined) return fallback;
    const value = Number(text);
    if (!Number.isSafeInteger(value) || value < 1) throw new Error(`--${name}: expected a positive integer, got ${text}`);
    return value;
  };
  const quick = values.quick;
  const durationSec = values.duration === undefined ? (quick ? 1.5 : 5) : Number(values.duration);
  if (!(durationSec > 0)) throw new Error(`--duration: expected seconds > 0, got ${values.duration}`);
  const concurrency = (values.concurrency ?? '1,8,32').split(',').map((c) => int(c.trim(), 1, 'concurrency'));
  const configs = values.only === undefined
    ? CONFIGS
    : CONFIGS.filter((c) => `${c.threshold}-of-${c.maxSigners}` === values.only);
  if (configs.length === 0) throw new Error(`--only: expected 2-of-3 or 3-of-5, got ${values.only}`);
  return {
    quick,
    n: int(values.n, quick ? 15 : 60, 'n'),
    warmup: quick ? 3 : 5,
    durationMs: durationSec * 1000,
    concurrency,
    floorIterations: int(values['floor-iterations'], quick ? 15 : 50, 'floor-iterations'),
    configs,
    keep: values.keep,
  };
}

/**
 * The ACL verdict at scale (bench/verdict.mjs) in its own process, after the labs stopped so its
 * 1M-row fill does not disturb them; its JSON (bench/results/verdict.json) goes into this run's.
 */
function aclVerdict(options) {
  const args = options.quick ? ['--grants', '10000', '--rows', '100000', '--samples', '300'] : [];
  progress(`ACL verdict: ${options.quick ? '10k grants, 100k rows (--quick)' : '100k grants, 1M request-log rows'}`);
  execFileSync(process.execPath, [join(BENCH_DIR, 'verdict.mjs'), ...args], { cwd: REPO_DIR, stdio: ['ignore', 'ignore', 'inherit'] });
  return JSON.parse(readFileSync(join(BENCH_DIR, 'results', 'verdict.json'), 'utf8'));
}

// ---------------------------------------------------------------------------------------------
// Processes: everything started is stopped at the end, on error and on Ctrl-C
// ---------------------------------------------------------------------------------------------

const running = { labs: new Set(), processes: new Set(), clients: new Set(), tmp: undefined, keep: false };

async function cleanup() {
  for (const client of running.clients) await client.close().catch(() => {});
  running.clients.clear();
  for (const lab of running.labs) await lab.stop().catch(() => {});
  running.labs.clear();
  for (const child of [...running.processes].reverse()) await child.stop().catch(() => {});
  running.processes.clear();
  // Anything of ours still alive (a lab interrupted while starting): SIGTERM, then SIGKILL.
  const leftovers = childPids();
  for (const pid of leftovers) signalPid(pid, 'SIGTERM');
  for (let waited = 0; waited < 3_000 && childPids().length > 0; waited += 100) await sleep(100);
  for (const pid of childPids()) signalPid(pid, 'SIGKILL');
  if (running.tmp && !running.keep) rmSync(running.tmp, { recursive: true, force: true });
}

function signalPid(pid, signal) {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    if (interrupted) return;
    interrupted = true;
    console.error(`\n${signal}: stopping every process the bench started…`);
    void cleanup().finally(() => process.exit(130));
  });
}

function started(child) {
  running.processes.add(child);
  return child;
}

// ---------------------------------------------------------------------------------------------
// Clients
// ---------------------------------------------------------------------------------------------

function withDeadline(promise, ms, what) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: no reply within ${ms} ms`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

/** A nostr-tools BunkerSigner on its own ws pool, as test/harness/bunker-client.ts builds it. */
async function connectClient(bunkerUrl, label) {
  const pointer = await parseBunkerInput(bunkerUrl);
  if (!pointer) throw new Error(`not a bunker URL: ${bunkerUrl}`);
  const pool = new AbstractSimplePool({ verifyEvent, websocketImplementation: WebSocket, maxWaitForConnection: 5_000 });
  const signer = BunkerSigner.fromBunker(generateSecretKey(), pointer, { pool });
  const client = {
    label,
    signer,
    seq: 0,
    async close() {
      await signer.close();
      pool.destroy();
      running.clients.delete(client);
    },
  };
  running.clients.add(client);
  await withDeadline(signer.connect(), 20_000, `${label} connect`);
  return client;
}

/** One sign_event through the client: a fresh kind-1 note each time (distinct event ids). */
async function signOnce(client) {
  const template = {
    kind: 1,
    created_at: Math.floor(Date.now() / 1000),
    tags: [['client', 'frostbunker-bench']],
    content: `bench ${client.label} ${++client.seq} ${Date.now()}`,
  };
  const startedAt = performance.now();
  const signed = await withDeadline(client.signer.signEvent(template), REQUEST_DEADLINE_MS, `${client.label} sign_event`);
  if (signed.content !== template.content) throw new Error(`${client.label}: signed a different event`);
  return performance.now() - startedAt;
}

// ---------------------------------------------------------------------------------------------
// Phases
// ---------------------------------------------------------------------------------------------

/** N sequential requests per side, in turn threshold, baseline, fast baseline, threshold, … (the machine drifts). */
async function measureLatency(clients, n, processes) {
  const before = cpuSnapshot(processes);
  const samples = Object.fromEntries(SIDES.map((side) => [side, []]));
  const errors = Object.fromEntries(SIDES.map((side) => [side, []]));
  for (let i = 0; i < n; i++) {
    for (const side of SIDES) {
      const client = clients[side];
      try {
        samples[side].push(await signOnce(client));
      } catch (error) {
        errors[side].push(String(error instanceof Error ? error.message : error));
      }
    }
  }
  const cpu = cpuDelta(before, cpuSnapshot(processes));
  const coresUsed = Object.values(cpu.perProcess).reduce((a, b) => a + b, 0) / cpu.wallMs;
  return {
    machine: { seconds: cpu.wallMs / 1000, coresUsed, otherCores: otherCores(cpu.machineBusy, coresUsed), machineBusy: cpu.machineBusy },
    ...Object.fromEntries(SIDES.map((side) => [side, { ...summarize(samples[side]), errors: errors[side].length, firstError: errors[side][0] }])),
    samplesMs: samples,
  };
}

/** Closed loop: `concurrency` workers sign back to back for `durationMs`; CPU from /proc meanwhile. */
async function measureThroughput(client, concurrency, durationMs, processes) {
  const latencies = [];
  const errors = [];
  const before = cpuSnapshot(processes);
  const stopAt = performance.now() + durationMs;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < stopAt) {
        try {
          latencies.push(await signOnce(client));
        } catch (error) {
          errors.push(String(error instanceof Error ? error.message : error));
        }
      }
    }),
  );
  const cpu = cpuDelta(before, cpuSnapshot(processes));
  const signatures = latencies.length;
  const cpuMsPerSignature = Object.fromEntries(Object.entries(cpu.perProcess).map(([name, ms]) => [name, ms / signatures]));
  const totalCpuMs = Object.values(cpu.perProcess).reduce((a, b) => a + b, 0);
  return {
    concurrency,
    seconds: cpu.wallMs / 1000,
    signatures,
    errors: errors.length,
    firstError: errors[0],
    perSecond: signatures / (cpu.wallMs / 1000),
    latencyMs: summarize(latencies),
    cpuMsPerSignature,
    cpuMsPerSignatureTotal: totalCpuMs / signatures,
    /** CPU of every process above over wall time, in cores (this machine has availableParallelism()). */
    coresUsed: totalCpuMs / cpu.wallMs,
    /** Cores busy with processes not ours (other work on the machine), from /proc/stat. */
    otherCores: otherCores(cpu.machineBusy, totalCpuMs / cpu.wallMs),
    machineBusy: cpu.machineBusy,
  };
}

/** Cores the rest of the machine kept busy meanwhile: machine busy fraction × cores − ours. */
function otherCores(machineBusy, coresUsed) {
  return Math.max(0, machineBusy * availableParallelism() - coresUsed);
}

/** Where the concurrency steps stop paying: the first step after which the next gains < 15 %. */
function saturation(steps) {
  const sorted = [...steps].sort((a, b) => a.concurrency - b.concurrency);
  const peak = Math.max(...sorted.map((s) => s.perSecond));
  for (let i = 0; i + 1 < sorted.length; i++) {
    const gain = sorted[i + 1].perSecond / sorted[i].perSecond - 1;
    if (gain < 0.15) {
      return {
        atConcurrency: sorted[i].concurrency,
        peakPerSecond: peak,
        text: `by c=${sorted[i].concurrency} (c=${sorted[i + 1].concurrency}: ${gain >= 0 ? '+' : ''}${Math.round(gain * 100)} %)`,
      };
    }
  }
  return { atConcurrency: undefined, peakPerSecond: peak, text: `not by c=${sorted.at(-1)?.concurrency}` };
}

/** What the coordinator logged about the latency phase's requests (its log, from `offset`). */
function coordinatorBreakdown(logPath, offset) {
  const text = readFileSync(logPath, 'utf8').slice(offset);
  const handling = [];
  const round1 = [];
  const round2 = [];
  let oneRound = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    let entry;
    try {
      entry = JSON.parse(line);
    } catch {
      continue;
    }
    if (entry.msg === 'nip46 request' && entry.method === 'sign_event' && entry.ok) handling.push(entry.ms);
    if (entry.msg === 'signing session done') {
      round1.push(entry.round1Ms);
      round2.push(entry.round2Ms);
      if (entry.mode === 'one-round') oneRound++;
    }
  }
  return {
    what: "the coordinator's own log lines for the latency phase: sign_event dispatch (decrypted request → response ready, excluding the reply's publish) and its FROST rounds",
    requests: handling.length,
    oneRoundSessions: oneRound,
    handlingMs: summarize(handling),
    round1Ms: summarize(round1),
    round2Ms: summarize(round2),
  };
}

const ratios = (threshold, baseline) => ({
  p50: threshold.p50 / baseline.p50,
  p95: threshold.p95 / baseline.p95,
  p99: threshold.p99 / baseline.p99,
});

const fileSize = (path) => {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
};
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function runLab(config, shared, options) {
  const name = `${config.threshold}-of-${config.maxSigners}`;
  const root = join(running.tmp, name);
  progress(`${name}: starting the lab (coordinator + ${config.maxSigners} share nodes on ${shared.relayUrl})`);
  // The identity first, so each node's policy.json is in place before it starts.
  await ensureLabIdentity({ root, ...config, relays: [shared.relayUrl] });
  for (const dir of labLayout(root, config.maxSigners).nodeDirs) {
    writeFileSync(join(dir, 'policy.json'), `${JSON.stringify(BENCH_POLICY, null, 2)}\n`, { mode: 0o600 });
  }
  const lab = await Lab.start({ root, relays: [shared.relayUrl], ...config });
  running.labs.add(lab);
  await lab.waitForQuorum();
  const client = await connectClient(lab.bunkerUrl, name);
  const pubkey = await withDeadline(client.signer.getPublicKey(), 15_000, `${name} get_public_key`);
  if (pubkey !== lab.userPubkey) throw new Error(`${name}: get_public_key returned ${pubkey}, not the group key ${lab.userPubkey}`);

  const processes = [
    { name: 'client', self: true, pid: process.pid },
    { name: 'relay', pid: shared.relay.pid },
    { name: 'coordinator', pid: lab.coordinator.pid },
    ...lab.nodes.map((node) => ({ name: node.name, pid: node.pid })),
    { name: 'baseline', pid: shared.baseline.pid },
    { name: 'baseline-fast', pid: shared.baselineFast.pid },
  ];
  const clients = { threshold: client, baseline: shared.baselineClient, baselineFast: shared.baselineFastClient };

  progress(`${name}: warming up (${options.warmup} signatures per side)`);
  for (let i = 0; i < options.warmup; i++) {
    for (const side of SIDES) await signOnce(clients[side]);
  }

  progress(`${name}: latency, ${options.n} sign_event per side, interleaved`);
  const logPath = join(root, 'logs', 'coordinator.log');
  const logOffset = fileSize(logPath);
  const latency = await measureLatency(clients, options.n, processes);
  await sleep(300); // the coordinator's stderr reaches its log file through this process
  const inside = coordinatorBreakdown(logPath, logOffset);

  const throughput = Object.fromEntries(SIDES.map((side) => [side, []]));
  for (const concurrency of options.concurrency) {
    for (const side of SIDES) {
      progress(`${name}: throughput, ${side}, concurrency ${concurrency}, ${options.durationMs / 1000} s`);
      throughput[side].push(await measureThroughput(clients[side], concurrency, options.durationMs, processes));
    }
  }

  const peakRss = Object.fromEntries(
    processes
      .filter((p) => p.name === 'coordinator' || p.name.startsWith('node-'))
      .map((p) => [p.name, peakRssMiB(p.pid)]),
  );
  await client.close();
  await lab.stop();
  running.labs.delete(lab);
  return {
    name,
    ...config,
    processes: processes.map(({ name: processName, pid }) => ({ name: processName, pid })),
    latency: {
      what: 'sign_event end to end at concurrency 1, ms: BunkerSigner.signEvent() call → verified signed event back (client NIP-44 + sign, relay, bunker, relay, client verify)',
      threshold: latency.threshold,
      baseline: latency.baseline,
      baselineFast: latency.baselineFast,
      /** threshold / pure-JS single-key baseline, per percentile. */
      ratio: ratios(latency.threshold, latency.baseline),
      /** threshold / single-key baseline on the same WebAssembly event signer, per percentile. */
      ratioFast: ratios(latency.threshold, latency.baselineFast),
      machine: latency.machine,
      samplesMs: latency.samplesMs,
    },
    insideCoordinator: inside,
    throughput: {
      what: 'closed loop: c workers sign back to back for the step duration; signatures per second of wall time; CPU from /proc/<pid>/stat utime+stime over the step, per signature',
      ...throughput,
      saturation: Object.fromEntries(SIDES.map((side) => [side, saturation(throughput[side])])),
    },
    peakRssMiB: peakRss,
  };
}

// ---------------------------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------------------------

const progressStarted = performance.now();
function progress(line) {
  console.error(`[bench ${((performance.now() - progressStarted) / 1000).toFixed(1).padStart(5)} s] ${line}`);
}

function render(result) {
  const out = [];
  const { env, options } = result;
  const cores = (value) => fmt(value, 2);
  out.push(`frostbunker bench — ${result.startedAt}`);
  out.push(`  ${env.node}, ${env.cores} cores (${env.cpuModel}), load avg ${env.loadAvgStart.map((l) => l.toFixed(2)).join(' ')} at start; commit ${env.commit}`);
  out.push(`  n = ${options.n} interleaved requests per side; throughput steps of ${options.durationMs / 1000} s at c = ${options.concurrency.join(', ')}; floors over ${options.floorIterations} iterations`);
  out.push('  Printed, never asserted. One 2-core machine runs the client, the relay and every process: figures are noisy.');
  out.push('  "others" = cores kept busy by processes not started by the bench (other work on the machine), from /proc/stat.');

  out.push('');
  out.push('1. sign_event end-to-end latency at concurrency 1, ms (nostr-tools BunkerSigner → relay → bunker → relay → client)');
  out.push('   threshold and both baselines interleaved one for one in the same run; p99 of n samples is close to the max;');
  out.push('   "pure JS" = nostr-tools finalizeEvent/verifyEvent, "same wasm" = our libsecp256k1 WebAssembly event signer');
  const latencyRows = [];
  for (const lab of result.labs) {
    const { ratio, ratioFast } = lab.latency;
    for (const side of SIDES) {
      const l = lab.latency[side];
      const label = side === 'threshold' ? `${lab.name} threshold` : SIDE_LABEL[side];
      latencyRows.push([label, l.n, fmt(l.p50), fmt(l.p95), fmt(l.p99), fmt(l.mean), fmt(l.min), fmt(l.max), l.errors]);
    }
    latencyRows.push([`ratio ${lab.name}/pure-JS baseline`, '', `${fmt(ratio.p50)}x`, `${fmt(ratio.p95)}x`, `${fmt(ratio.p99)}x`, '', '', '', '']);
    latencyRows.push([`ratio ${lab.name}/same-wasm baseline`, '', `${fmt(ratioFast.p50)}x`, `${fmt(ratioFast.p95)}x`, `${fmt(ratioFast.p99)}x`, '', '', '', '']);
  }
  out.push(table(['', 'n', 'p50', 'p95', 'p99', 'mean', 'min', 'max', 'errors'], latencyRows));
  for (const lab of result.labs) {
    const m = lab.latency.machine;
    out.push(`   ${lab.name} phase: ${fmt(m.seconds)} s, bench processes ${cores(m.coresUsed)} cores, others ${cores(m.otherCores)} cores`);
  }
  out.push('   inside the coordinator, same threshold requests, p50 / p95 ms (its log: "handling" = request decrypted → response');
  out.push('   ready, reply publish excluded; round 1 = requests sent → commitments in; round 2 = the rest up to the aggregated signature;');
  out.push('   a one-round session (pre-shared commitments, issue 9) logs round 1 as 0 and all of it as round 2):');
  out.push(
    table(
      ['', 'requests', 'one-round', 'handling', 'round 1', 'round 2', 'handling − rounds (p50)', 'e2e − handling (p50)'],
      result.labs.map((lab) => {
        const inside = lab.insideCoordinator;
        return [
          lab.name,
          inside.requests,
          inside.oneRoundSessions,
          `${fmt(inside.handlingMs.p50)} / ${fmt(inside.handlingMs.p95)}`,
          `${fmt(inside.round1Ms.p50)} / ${fmt(inside.round1Ms.p95)}`,
          `${fmt(inside.round2Ms.p50)} / ${fmt(inside.round2Ms.p95)}`,
          fmt(inside.handlingMs.p50 - inside.round1Ms.p50 - inside.round2Ms.p50),
          fmt(lab.latency.threshold.p50 - inside.handlingMs.p50),
        ];
      }),
    ),
  );

  out.push('');
  out.push('2. throughput, closed loop: signatures per second (under that load: latency p50 / p99 ms; cores used by bench processes + others)');
  const throughputRows = [];
  for (const lab of result.labs) {
    for (const side of SIDES) {
      const steps = lab.throughput[side];
      throughputRows.push([
        side === 'threshold' ? `${lab.name} threshold` : `${SIDE_LABEL[side]}`,
        ...steps.map((s) => `${fmt(s.perSecond)}/s (${fmt(s.latencyMs.p50, 0)}/${fmt(s.latencyMs.p99, 0)} ms; ${cores(s.coresUsed)}+${cores(s.otherCores)})${s.errors ? ` ${s.errors} err` : ''}`),
        lab.throughput.saturation[side].text,
      ]);
    }
  }
  out.push(table(['', ...result.options.concurrency.map((c) => `c=${c}`), 'saturates'], throughputRows));

  out.push('');
  out.push(`3. CPU per signature, ms, per process (utime+stime from /proc/<pid>/stat, CLK_TCK ${CLK_TCK}; client = this process, process.cpuUsage())`);
  out.push('   over each throughput step, divided by its signatures; the idle side\'s processes still ping, so they show a little');
  for (const lab of result.labs) {
    const names = lab.processes.map((p) => p.name);
    const rows = [];
    for (const side of SIDES) {
      for (const step of lab.throughput[side]) {
        rows.push([
          `${side === 'threshold' ? lab.name : side === 'baseline' ? 'baseline' : 'baseline-fast'} c=${step.concurrency}`,
          ...names.map((n) => fmt(step.cpuMsPerSignature[n], 2)),
          fmt(step.cpuMsPerSignatureTotal, 2),
        ]);
      }
    }
    out.push(table([`${lab.name} lab`, ...names, 'total'], rows));
    const floor = result.floors.frost.find((f) => f.threshold === lab.threshold && f.maxSigners === lab.maxSigners);
    const first = lab.throughput.threshold[0];
    const base = lab.throughput.baseline[0];
    const baseFast = lab.throughput.baselineFast[0];
    if (floor && first && base && baseFast) {
      const share = (pick) => fmt((100 * pick(first.cpuMsPerSignature)) / first.cpuMsPerSignatureTotal, 0);
      const nodes = (per) => Object.entries(per).filter(([n]) => n.startsWith('node-')).reduce((a, [, v]) => a + v, 0);
      out.push(
        `   ${lab.name} c=${first.concurrency}: ${fmt(first.cpuMsPerSignatureTotal, 0)} ms CPU per signature = ${fmt(first.cpuMsPerSignatureTotal / floor.totalMs)}x the in-process FROST floor ` +
          `(${fmt(floor.totalMs, 1)} ms), ${fmt(first.cpuMsPerSignatureTotal / base.cpuMsPerSignatureTotal)}x the pure-JS baseline's, ` +
          `${fmt(first.cpuMsPerSignatureTotal / baseFast.cpuMsPerSignatureTotal)}x the same-wasm baseline's; ` +
          `relay ${share((p) => p.relay)} %, coordinator ${share((p) => p.coordinator)} %, share nodes ${share(nodes)} %, client ${share((p) => p.client)} %`,
      );
    }
  }

  out.push('');
  out.push('4. floors, in this process, median ms');
  const floorRows = result.floors.frost.map((f) => [
    `FROST ${f.threshold}-of-${f.maxSigners}: one signature`,
    fmt(f.totalMs, 2),
    `(min ${fmt(f.totalMinMs, 2)}) commit ${fmt(f.commitEachMs, 2)} x${f.threshold}, package ${fmt(f.signingPackageMs, 2)}, signShare ${fmt(f.signShareEachMs, 2)} x${f.threshold}, aggregate (incl. verify) ${fmt(f.aggregateMs, 2)}`,
  ]);
  const n = result.floors.nostr;
  floorRows.push(['finalizeEvent, nostr-tools', fmt(n.finalizeEventMs, 2), 'getPublicKey + event id + BIP-340 sign, pure JS (the bench client and the pure-JS baseline)']);
  floorRows.push(['  of which getPublicKey', fmt(n.getPublicKeyMs, 2), 'finalizeEvent derives the pubkey again for each event']);
  floorRows.push(['verifyEvent, nostr-tools', fmt(n.verifyEventMs, 2), 'id hash + BIP-340 verify, pure JS (the bench client and the pure-JS baseline)']);
  floorRows.push(['finalizeEvent, ours (wasm)', fmt(n.wasmFinalizeEventMs, 2), 'the same with libsecp256k1 in WebAssembly (shared/src/nostr/event-signer.ts): every frostbunker event']);
  floorRows.push(['verifyEvent, ours (wasm)', fmt(n.wasmVerifyEventMs, 2), 'the same with libsecp256k1 in WebAssembly: the relay, the pools and the transports']);
  floorRows.push(['NIP-44 encrypt + decrypt', fmt(n.nip44RoundTripCachedKeyMs, 2), 'cached conversation key, a signed event as plaintext']);
  floorRows.push(['NIP-44 conversation key', fmt(n.conversationKeyMs, 2), 'the ECDH a per-peer cache saves']);
  floorRows.push(['append + fsync', fmt(result.floors.fsync.appendFsyncMs, 3), 'one ~300-byte line in the labs\' temp directory (share-node log: 1 per co-signature)']);
  out.push(table(['', 'ms', 'what'], floorRows, { leftColumns: [2] }));

  out.push('');
  const a = result.acl;
  out.push(`5. ACL verdict time with ${a.grants.toLocaleString('en')} grants and ${a.requestLogRows.toLocaleString('en')} request-log rows (bench/verdict.mjs: a real SQLite file,`);
  out.push(`   WAL + synchronous=FULL as the coordinator runs it; filled in ${a.fillSec} s; ${a.samples} samples, each for a random client), ms`);
  const aclRows = [
    ['pure verdict (decideVerdict)', a.ms.pureVerdict],
    ['loading the client\'s rows', a.ms.loadRows],
    ['decide + log, one transaction, fsync', a.ms.decideAndLogWithFsync],
  ].map(([what, s]) => [what, fmt(s.p50, 3), fmt(s.p95, 3), fmt(s.p99, 3)]);
  out.push(table(['', 'p50', 'p95', 'p99'], aclRows));

  out.push('');
  out.push('6. peak RSS (VmHWM from /proc/<pid>/status), MiB');
  const rssRows = [
    ['client (this process)', fmt(result.peakRssMiB.client)],
    ['relay (whole run)', fmt(result.peakRssMiB.relay)],
    ['baseline bunker, pure JS (whole run)', fmt(result.peakRssMiB.baseline)],
    ['baseline bunker, same wasm (whole run)', fmt(result.peakRssMiB.baselineFast)],
  ];
  for (const lab of result.labs) {
    for (const [processName, mib] of Object.entries(lab.peakRssMiB)) rssRows.push([`${lab.name} ${processName}`, fmt(mib)]);
  }
  out.push(table(['process', 'MiB'], rssRows));

  const errors = result.labs.flatMap((lab) => [
    lab.latency.threshold.firstError && `${lab.name} latency: ${lab.latency.threshold.firstError}`,
    lab.latency.baseline.firstError && `${lab.name} baseline latency: ${lab.latency.baseline.firstError}`,
    lab.latency.baselineFast.firstError && `${lab.name} fast baseline latency: ${lab.latency.baselineFast.firstError}`,
    ...SIDES.flatMap((side) => lab.throughput[side].map((s) => s.firstError && `${lab.name} ${side} c=${s.concurrency}: ${s.firstError}`)),
  ]).filter(Boolean);
  if (errors.length > 0) {
    out.push('');
    out.push('errors (first of each phase):');
    for (const error of errors) out.push(`  ${error}`);
  }
  const phases = result.labs.flatMap((lab) => [lab.latency.machine, ...SIDES.flatMap((side) => lab.throughput[side])]);
  const measuredSeconds = phases.reduce((a, p) => a + p.seconds, 0);
  const others = phases.reduce((a, p) => a + p.otherCores * p.seconds, 0) / measuredSeconds;
  out.push('');
  if (others > 0.25) {
    out.push(`warning: other work kept ${fmt(others, 2)} of ${env.cores} cores busy on average while the bench measured; absolute figures are`);
    out.push('  skewed (the ratios less so, since both sides shared the same conditions); run again on a quieter machine to compare.');
  }
  out.push(`wall time ${fmt(result.wallSeconds, 0)} s; load avg at end ${env.loadAvgEnd.map((l) => l.toFixed(2)).join(' ')}; JSON: ${result.jsonPath}`);
  return out.join('\n');
}

function gitCommit() {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_DIR, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: REPO_DIR, encoding: 'utf8' }).trim() !== '';
    return dirty ? `${head} + uncommitted changes` : head;
  } catch {
    return 'unknown';
  }
}

// ---------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------

async function main() {
  const options = parseOptions(process.argv.slice(2));
  running.keep = options.keep;
  const startedAt = new Date();
  const wallStarted = performance.now();
  const env = {
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    cores: availableParallelism(),
    cpuModel: cpus()[0]?.model ?? 'unknown',
    loadAvgStart: loadavg(),
    commit: gitCommit(),
    clockTicksPerSecond: CLK_TCK,
  };
  running.tmp = mkdtempSync(join(tmpdir(), 'frostbunker-bench-'));

  // Floors first, while nothing else of ours runs.
  progress(`floors: FROST ${options.configs.map((c) => `${c.threshold}-of-${c.maxSigners}`).join(', ')}, single key, NIP-44, fsync (${options.floorIterations} iterations each)`);
  const floors = {
    frost: options.configs.map((config) => ({ ...config, ...frostFloor({ ...config, iterations: options.floorIterations }) })),
    nostr: await nostrFloor({ iterations: options.floorIterations }),
    fsync: { ...fsyncFloor({ dir: running.tmp, iterations: options.floorIterations }), filesystemOf: running.tmp },
  };

  progress('starting the relay and the two baseline bunkers');
  const relay = started(
    startProcess({
      name: 'relay',
      script: ENTRY_POINTS.relay,
      args: ['--host', '127.0.0.1', '--port', '0'],
      logFile: join(running.tmp, 'logs', 'relay.log'),
    }),
  );
  const relayUrl = (await relay.waitForLine((l) => l.startsWith('relay listening '), 30_000)).slice('relay listening '.length).trim();
  const baseline = started(
    startProcess({
      name: 'baseline',
      script: join(BENCH_DIR, 'baseline-bunker.mjs'),
      args: ['--relay', relayUrl],
      logFile: join(running.tmp, 'logs', 'baseline.log'),
    }),
  );
  const baselineFast = started(
    startProcess({
      name: 'baseline-fast',
      script: join(BENCH_DIR, 'baseline-bunker.mjs'),
      args: ['--relay', relayUrl, '--crypto', 'wasm'],
      logFile: join(running.tmp, 'logs', 'baseline-fast.log'),
    }),
  );
  const baselineUrl = (await baseline.waitForLine((l) => l.startsWith('bunker://'), 30_000)).trim();
  const baselineClient = await connectClient(baselineUrl, 'baseline');
  const baselineFastUrl = (await baselineFast.waitForLine((l) => l.startsWith('bunker://'), 30_000)).trim();
  const baselineFastClient = await connectClient(baselineFastUrl, 'baseline-fast');
  const shared = { relay, relayUrl, baseline, baselineClient, baselineFast, baselineFastClient };

  const labs = [];
  for (const config of options.configs) labs.push(await runLab(config, shared, options));

  const peakRss = {
    client: peakRssMiB(process.pid),
    relay: peakRssMiB(relay.pid),
    baseline: peakRssMiB(baseline.pid),
    baselineFast: peakRssMiB(baselineFast.pid),
  };
  await cleanup();
  const acl = aclVerdict(options);

  const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
  const resultsDir = join(BENCH_DIR, 'results');
  mkdirSync(resultsDir, { recursive: true });
  const jsonPath = join(resultsDir, `${stamp}.json`);
  const result = {
    v: 1,
    what: 'frostbunker bench (issue 9): NIP-46 sign_event latency, throughput, CPU per signature, floors, peak RSS; printed, never asserted',
    startedAt: startedAt.toISOString(),
    wallSeconds: (performance.now() - wallStarted) / 1000,
    env: { ...env, loadAvgEnd: loadavg() },
    options: { ...options, configs: options.configs.map((c) => `${c.threshold}-of-${c.maxSigners}`) },
    jsonPath: relative(REPO_DIR, jsonPath),
    floors,
    acl,
    labs,
    peakRssMiB: peakRss,
  };
  writeFileSync(jsonPath, `${JSON.stringify(result, null, 2)}\n`);
  console.log(render(result));
  if (options.keep) console.error(`kept the labs' data and logs in ${running.tmp}`);
}

main().then(
  () => process.exit(0),
  async (error) => {
    if (interrupted) return; // the signal handler is stopping everything and exits
    console.error(`bench failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
    await cleanup();
    process.exit(1);
  },
);

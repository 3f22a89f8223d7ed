// ACL verdict time at scale (issue 3 / issue 9): 100,000 grants and 1,000,000 request-log rows in
// a real SQLite file (WAL, synchronous=FULL, as the coordinator runs), then the time of
//   - the pure verdict (decideVerdict over the rows of one client),
//   - loading those rows (subject, grants, denials, usage of capped grants over the log),
//   - decideAndLog: load + verdict + request-log insert in one IMMEDIATE transaction, with its fsync.
// Figures are printed and written to bench/results/verdict.json; nothing is asserted.
//
//   node bench/verdict.mjs [--grants 100000] [--rows 1000000] [--samples 2000]
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { AclStore, decideVerdict, openAclDatabase } from '../coordinator/dist/index.js';

const { values } = parseArgs({
  options: {
    grants: { type: 'string', default: '100000' },
    rows: { type: 'string', default: '1000000' },
    samples: { type: 'string', default: '2000' },
  },
});
const GRANTS = Number(values.grants);
const ROWS = Number(values.rows);
const SAMPLES = Number(values.samples);
const GRANTS_PER_CLIENT = 10;
const CLIENTS = Math.ceil(GRANTS / GRANTS_PER_CLIENT);
const IDENTITY = 'default';
const NOW = 1_800_000_000;

const dir = mkdtempSync(join(tmpdir(), 'frostbunker-verdict-bench-'));
const db = openAclDatabase(join(dir, 'acl.db'));
const client = (i) => i.toString(16).padStart(64, '0');

const fillStarted = performance.now();
db.transaction(() => {
  const subject = db.prepare('INSERT INTO subjects (identity, client_pubkey, trust_level, created_at_sec) VALUES (?, ?, ?, ?)');
  const grant = db.prepare(`INSERT INTO grants (grant_id, identity, client_pubkey, method, kind, expires_at_sec, usage_cap_max, usage_cap_window_sec, source, created_at_sec)
                            VALUES (?, ?, ?, 'sign_event', ?, ?, ?, ?, 'explicit', ?)`);
  const denial = db.prepare(`INSERT INTO denials (denial_id, identity, client_pubkey, method, kind, until_sec, reason, actor, created_at_sec)
                             VALUES (?, ?, ?, 'sign_event', '4', ?, 'bench', 'bench', ?)`);
  for (let c = 0; c < CLIENTS; c++) {
    subject.run(IDENTITY, client(c), c % 3 === 0 ? 'paranoid' : 'reasonable', NOW - 86_400);
    for (let g = 0; g < GRANTS_PER_CLIENT; g++) {
      // Half the grants are capped (their usage is counted from the log on every request).
      const capped = g % 2 === 0;
      grant.run(`g_${c}_${g}`, IDENTITY, client(c), String(g === 0 ? 1 : g * 7), NOW + 86_400, capped ? 1_000 : null, capped ? 3_600 : null, NOW - 86_400);
    }
    if (c % 10 === 0) denial.run(`d_${c}`, IDENTITY, client(c), NOW + 3_600, NOW - 60);
  }
  const row = db.prepare(`INSERT INTO request_log (at_sec, identity, client_pubkey, request_id, method, kind, event_id, decision, rule, grant_id)
                          VALUES (?, ?, ?, ?, 'sign_event', 1, NULL, 'allow', 'grant', ?)`);
  for (let r = 0; r < ROWS; r++) {
    const c = r % CLIENTS;
    row.run(NOW - (r % 7_200), IDENTITY, client(c), `r${r}`, `g_${c}_0`);
  }
})();
const fillSec = (performance.now() - fillStarted) / 1000;

const store = new AclStore(db, { nowSec: () => NOW });
const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const summarize = (samples) => {
  const sorted = [...samples].sort((a, b) => a - b);
  return { p50: +percentile(sorted, 50).toFixed(4), p95: +percentile(sorted, 95).toFixed(4), p99: +percentile(sorted, 99).toFixed(4), max: +sorted[sorted.length - 1].toFixed(4) };
};
const time = (fn) => {
  const out = [];
  for (let i = 0; i < SAMPLES; i++) {
    const c = Math.floor(Math.random() * CLIENTS);
    const started = performance.now();
    fn(c, i);
    out.push(performance.now() - started);
  }
  return summarize(out);
};

const request = (c) => ({ clientPubkey: client(c), method: 'sign_event', kind: 1 });
const preloaded = Array.from({ length: 64 }, (_, c) => store.loadRows(IDENTITY, client(c)));
const pure = time((c) => decideVerdict(preloaded[c % 64], request(c % 64), NOW));
const load = time((c) => store.loadRows(IDENTITY, client(c)));
const decideAndLog = time((c, i) =>
  store.decideAndLog({ identity: IDENTITY, clientPubkey: client(c), requestId: `bench-${i}`, method: 'sign_event', kind: 1 }, (rows, nowSec) => decideVerdict(rows, request(c), nowSec)),
);
const usageRows = db.prepare("SELECT count(*) AS n FROM request_log WHERE grant_id = 'g_0_0'").get().n;

const result = {
  grants: CLIENTS * GRANTS_PER_CLIENT,
  clients: CLIENTS,
  requestLogRows: ROWS,
  rowsCountedPerCappedGrant: usageRows,
  fillSec: +fillSec.toFixed(1),
  samples: SAMPLES,
  ms: { pureVerdict: pure, loadRows: load, decideAndLogWithFsync: decideAndLog },
};
console.log(`ACL verdict with ${result.grants.toLocaleString('en')} grants, ${ROWS.toLocaleString('en')} request-log rows (filled in ${result.fillSec} s), ${SAMPLES} samples, ms:`);
console.log('                         p50       p95       p99       max');
for (const [name, s] of Object.entries(result.ms)) {
  console.log(`  ${name.padEnd(22)} ${String(s.p50).padStart(8)}  ${String(s.p95).padStart(8)}  ${String(s.p99).padStart(8)}  ${String(s.max).padStart(8)}`);
}
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(new URL('./results/verdict.json', import.meta.url), `${JSON.stringify(result, null, 2)}\n`);
db.close();
rmSync(dir, { recursive: true, force: true });

import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lab } from '@frostbunker/deploy/lab';
import { chaosClient, coordinatorLogLines, note, recordedSign, scrape, waitForServing, type Client } from '../harness/chaos-lab.js';
import { History, percentiles } from '../harness/history.js';
import { checkNonceLedgers, describeNonceLedger, nonceLedgerEnv } from '../harness/nonce-ledger.js';
import { ProcessNemesis } from '../harness/process-nemesis.js';
import { makeTempDir } from '../harness/tmp.js';

// The CI slice of the chaos goals (RELIABILITY.md G4, G7; the rest run in `pnpm chaos`): a share
// node that dies mid-round, and one that sends a negated partial signature, in a real 2-of-3 lab
// whose nodes keep the nonce ledger (§3.6).
describe('share-node faults mid-round (CI slice of G4 and G7, real processes)', () => {
  const dir = makeTempDir('chaos-slice');
  const ledgerDir = join(dir.path, 'nonce-ledger');
  const ledgerEnv = nonceLedgerEnv(ledgerDir);
  const savedEnv = Object.fromEntries(Object.keys(ledgerEnv).map((key) => [key, process.env[key]]));
  let lab: Lab;
  let nemesis: ProcessNemesis;
  let client: Client;

  beforeAll(async () => {
    // Lab children inherit this environment: every node start writes its ledger.
    Object.assign(process.env, ledgerEnv);
    lab = await Lab.start({ root: dir.path, relayPort: 0 });
    nemesis = new ProcessNemesis(lab);
    await lab.waitForQuorum();
    client = await chaosClient(lab);
  });
  afterAll(async () => {
    await client?.close();
    nemesis?.resumeAll();
    await lab?.stop();
    for (const [key, value] of Object.entries(savedEnv)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    dir.remove();
  });

  it('still signs when a share node is SIGKILLed between computing its partial and sending it', async () => {
    const armed = await nemesis.armNode(1, 'round2.before_send=kill');
    await waitForServing(lab, ['node-1', 'node-2', 'node-3']);
    const history = new History();
    let died = false;
    void armed.exited.then(() => (died = true));
    // One-round signers are picked in turn among the nodes whose commitments the coordinator
    // holds; sign until node-1 was picked and died.
    for (let i = 0; i < 6 && !died; i++) {
      const result = await recordedSign(history, client, 'c1', note(`killed mid-round ${i}`));
      expect(result.ok, result.ok ? '' : result.error).toBe(true);
    }
    expect(died, 'node-1 was never asked for a partial').toBe(true);
    expect(await armed.exited).toBeNull(); // killed by a signal
    const check = history.check({ deadlineMs: 30_000, groupPubkey: lab.userPubkey });
    expect(check.violations).toEqual([]);
    console.log(`[figure] G4 slice: ${check.oks}/${check.invoked} signed with node-1 killed before z_i left; ${percentiles(check.okLatenciesMs)}`);
    await nemesis.restoreNodes();
  });

  it('names and excludes a share node that sends a negated partial signature, and signs from the others', async () => {
    const failoversBefore = await scrape(lab, /frostbunker_signing_failovers_total\{(?=.*cause="invalid_partial")(?=.*node="node-2")/);
    const namedBefore = coordinatorLogLines(lab, /invalid partial signature/).length;
    await nemesis.armNode(2, 'round2.byzantine_negated=throw');
    await waitForServing(lab, ['node-1', 'node-2', 'node-3']);
    const history = new History();
    for (let i = 0; i < 6; i++) await recordedSign(history, client, 'c1', note(`byzantine partial ${i}`));
    const check = history.check({ deadlineMs: 30_000, groupPubkey: lab.userPubkey });
    expect(check.violations).toEqual([]);
    expect(check.oks).toBe(6);
    // Named: the coordinator logs the culprit by label; excluded: a failover without it, counted.
    // Signers are picked in turn, so node-2 took part in some of the six requests.
    const named = coordinatorLogLines(lab, /invalid partial signature/).slice(namedBefore);
    expect(named.length).toBeGreaterThanOrEqual(1);
    expect(named.every((line) => line.includes('"culprits":["node-2"]'))).toBe(true);
    const failovers = (await scrape(lab, /frostbunker_signing_failovers_total\{(?=.*cause="invalid_partial")(?=.*node="node-2")/)) - failoversBefore;
    expect(failovers).toBe(named.length);
    console.log(`[figure] G7 slice: ${check.oks}/6 signed with node-2 negating z_i; node-2 named ${named.length} times (no share of it was used in the other ${6 - named.length})`);
    await nemesis.restoreNodes();
  });

  it('used no nonce commitment for two partial signatures, across the restarts above', () => {
    const ledger = checkNonceLedgers(ledgerDir);
    expect(ledger.files).toBe(3);
    expect(ledger.signed).toBeGreaterThanOrEqual(1);
    expect(ledger.reused).toEqual([]);
    expect(ledger.badLines).toBe(0);
    console.log(`[figure] G4/G7 slice: ${describeNonceLedger(ledger)}`);
  });
});

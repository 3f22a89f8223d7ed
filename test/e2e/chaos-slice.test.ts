import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lab } from '@frostbunker/deploy/lab';
import { chaosClient, coordinatorLogLines, note, recordedSign, scrape, waitForServing, type Client } from '../harness/chaos-lab.js';
import { History, percentiles } from '../harness/history.js';
import { failpointEnv, ProcessNemesis } from '../harness/process-nemesis.js';
import { makeTempDir } from '../harness/tmp.js';

// The CI slice of the chaos goals (RELIABILITY.md G4, G7; the rest run in `pnpm chaos`): a share
// node that dies mid-round, and one that sends a wrong partial signature, in a real 2-of-3 lab.
describe('share-node faults mid-round (CI slice of G4 and G7, real processes)', () => {
  const dir = makeTempDir('chaos-slice');
  let lab: Lab;
  let nemesis: ProcessNemesis;
  let client: Client;

  beforeAll(async () => {
    lab = await Lab.start({ root: dir.path, relayPort: 0 });
    nemesis = new ProcessNemesis(lab);
    await lab.waitForQuorum();
    client = await chaosClient(lab);
  });
  afterAll(async () => {
    await client?.close();
    nemesis?.resumeAll();
    await lab?.stop();
    dir.remove();
  });

  it('still signs when a share node is SIGKILLed between receiving the package and sending its partial', async () => {
    await lab.stopNode(1);
    const armed = await lab.startNode(1, failpointEnv('round2.before_send=kill'));
    await waitForServing(lab, ['node-1', 'node-2', 'node-3']);
    const history = new History();
    let died = false;
    void armed.exited.then(() => (died = true));
    // The coordinator picks k of the answering nodes; sign until node-1 was picked and died.
    for (let i = 0; i < 6 && !died; i++) {
      const result = await recordedSign(history, client, 'c1', note(`killed mid-round ${i}`));
      expect(result.ok, result.ok ? '' : result.error).toBe(true);
    }
    expect(died, 'node-1 was never asked for a partial').toBe(true);
    expect(await armed.exited).toBeNull(); // killed by a signal
    const check = history.check({ deadlineMs: 30_000, groupPubkey: lab.userPubkey });
    expect(check.violations).toEqual([]);
    console.log(`[figure] G4 slice: ${check.oks}/${check.invoked} signed with node-1 killed before z_i; ${percentiles(check.okLatenciesMs)}`);
    lab.nodes[0] = undefined;
    await lab.startNode(1);
  });

  it('names and excludes a share node that sends a wrong partial signature, and signs from the others', async () => {
    const failoversBefore = await scrape(lab, /frostbunker_signing_failovers_total\{(?=.*cause="invalid_partial")(?=.*node="node-2")/);
    await lab.stopNode(2);
    await lab.startNode(2, failpointEnv('round2.corrupt_share=throw'));
    await waitForServing(lab, ['node-1', 'node-2', 'node-3']);
    const history = new History();
    for (let i = 0; i < 5; i++) await recordedSign(history, client, 'c1', note(`byzantine partial ${i}`));
    const check = history.check({ deadlineMs: 30_000, groupPubkey: lab.userPubkey });
    expect(check.violations).toEqual([]);
    expect(check.oks).toBe(5);
    // Named: the coordinator logs the culprit by label; excluded: a failover without it, counted.
    const named = coordinatorLogLines(lab, /invalid partial signature/);
    expect(named.length).toBeGreaterThanOrEqual(1);
    expect(named.every((line) => line.includes('node-2') && !line.includes('node-1') && !line.includes('node-3'))).toBe(true);
    const failovers = (await scrape(lab, /frostbunker_signing_failovers_total\{(?=.*cause="invalid_partial")(?=.*node="node-2")/)) - failoversBefore;
    expect(failovers).toBe(named.length);
    console.log(`[figure] G7 slice: ${check.oks}/5 signed with node-2 corrupting z_i; node-2 named ${named.length} times (${5 - named.length} rounds did not pick it)`);
    await lab.stopNode(2);
    await lab.startNode(2);
  });
});

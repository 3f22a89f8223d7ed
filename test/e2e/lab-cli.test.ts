import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { ENTRY_POINTS } from '@frostbunker/deploy/lab';
import { makeTempDir } from '../harness/tmp.js';

const LAB_MAIN = ENTRY_POINTS.relay.replace(/relay\/main\.js$/, 'lab/main.js');

/** Runs the lab as `pnpm start` does, until it prints its bunker:// line; returns what it printed. */
async function runLabUntilReady(dataDir: string): Promise<{ bunkerUrl: string; pids: number[]; stop(): Promise<number | null> }> {
  const child = spawn(process.execPath, [LAB_MAIN, '--', '--data', dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
  const pids: number[] = [];
  const output: string[] = [];
  child.stderr.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  const bunkerUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`lab not ready in 60 s:\n${output.join('')}`)), 60_000);
    createInterface({ input: child.stdout }).on('line', (line) => {
      output.push(`${line}\n`);
      const pid = /\(pid (\d+)\)/.exec(line)?.[1];
      if (pid) pids.push(Number(pid));
      if (line.startsWith('bunker://')) {
        clearTimeout(timer);
        resolve(line);
      }
    });
    child.once('exit', (code) => reject(new Error(`lab exited early (${code}):\n${output.join('')}`)));
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  return {
    bunkerUrl,
    pids,
    stop: async () => {
      child.kill('SIGINT');
      return exited;
    },
  };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('pnpm start (the lab command)', () => {
  const dir = makeTempDir('lab-cli');
  afterAll(() => dir.remove());

  it('prints one bunker:// line once the quorum answers, stops every process on Ctrl-C, and reuses the identity and relay', async () => {
    const first = await runLabUntilReady(dir.path);
    expect(first.bunkerUrl).toMatch(/^bunker:\/\/[0-9a-f]{64}\?relay=ws%3A%2F%2F127\.0\.0\.1%3A\d+&secret=[0-9a-f]{64}$/);
    expect(first.pids).toHaveLength(5); // relay, coordinator, three share nodes
    expect(await first.stop()).toBe(0);
    for (const pid of first.pids) expect(isAlive(pid)).toBe(false);

    // Same identity, remote signer and relay; a new one-time connection token.
    const second = await runLabUntilReady(dir.path);
    const signerOf = (url: string) => url.slice(0, url.indexOf('&secret='));
    expect(signerOf(second.bunkerUrl)).toBe(signerOf(first.bunkerUrl));
    expect(second.bunkerUrl).not.toBe(first.bunkerUrl);
    expect(await second.stop()).toBe(0);
  });
});

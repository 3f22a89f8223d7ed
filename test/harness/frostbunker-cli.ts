import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ENTRY_POINTS } from '@frostbunker/deploy/lab';

const run = promisify(execFile);
const CLI = ENTRY_POINTS.coordinator.replace(/main\.js$/, 'cli.js');

/** Runs the coordinator's operator CLI (`pnpm frostbunker …`); returns stdout, throws on non-zero exit. */
export async function frostbunkerCli(...args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, [CLI, ...args], { timeout: 30_000 });
  return stdout;
}

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ENTRY_POINTS } from '@frostbunker/deploy/lab';

const run = promisify(execFile);
const CLI = ENTRY_POINTS.shareNode.replace(/main\.js$/, 'cli.js');

/** Runs the share-node operator CLI as an operator would; returns stdout, throws on non-zero exit. */
export async function shareNodeCli(nodeDir: string, ...args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, [CLI, ...args, '--data', nodeDir], { timeout: 15_000 });
  return stdout;
}

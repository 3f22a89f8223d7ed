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

/**
 * Runs the operator CLI with extra environment (crash tests: FROSTBUNKER_FAILPOINTS) and returns
 * how it ended instead of throwing: `code` is null when a signal (SIGKILL) ended it.
 */
export async function frostbunkerCliOutcome(
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], { timeout: 60_000, env: { ...process.env, ...env } });
    return { code: 0, signal: null, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number | string; signal?: string; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : null, signal: e.signal ?? null, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** Entry points of the processes a lab runs; their paths name the role, so `ps` shows which is which. */
export const ENTRY_POINTS = {
  relay: fileURLToPath(new URL('../relay/main.js', import.meta.url)),
  coordinator: fileURLToPath(new URL('../../../coordinator/dist/main.js', import.meta.url)),
  shareNode: fileURLToPath(new URL('../../../share-node/dist/main.js', import.meta.url)),
} as const;

export interface ManagedProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly pid: number;
  /** Exit code (or null when killed by a signal), once the process has exited. */
  readonly exited: Promise<number | null>;
  /**
   * Resolves with the first stdout line satisfying `predicate` (past ones too, unless `onlyNew`);
   * rejects on timeout or exit.
   */
  waitForLine(predicate: (line: string) => boolean, timeoutMs: number, options?: { onlyNew?: boolean }): Promise<string>;
  onLine(handler: (line: string) => void): void;
  /** SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
  /** The last stderr lines, for error messages. */
  stderrTail(): string;
}

/**
 * Starts `node <script> <args>` as a child process with stdout read line by line (status lines)
 * and stderr kept in a tail and optionally copied to `logFile`.
 */
export function startProcess(options: { name: string; script: string; args: string[]; logFile?: string; env?: NodeJS.ProcessEnv }): ManagedProcess {
  const child = spawn(process.execPath, [options.script, ...options.args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: options.env ?? process.env,
  });
  if (child.pid === undefined) throw new Error(`${options.name}: failed to start`);
  let log: WriteStream | undefined;
  if (options.logFile) {
    mkdirSync(dirname(options.logFile), { recursive: true, mode: 0o700 });
    log = createWriteStream(options.logFile, { flags: 'a', mode: 0o600 });
  }
  const lines: string[] = [];
  const handlers = new Set<(line: string) => void>();
  const tail: string[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    lines.push(line);
    if (lines.length > 1_000) lines.shift();
    for (const handler of handlers) handler(line);
  });
  createInterface({ input: child.stderr! }).on('line', (line) => {
    log?.write(`${line}\n`);
    tail.push(line);
    if (tail.length > 50) tail.shift();
  });
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      log?.end();
      resolve(code);
    });
  });
  let hasExited = false;
  void exited.then(() => (hasExited = true));

  return {
    name: options.name,
    child,
    pid: child.pid,
    exited,
    onLine: (handler) => void handlers.add(handler),
    stderrTail: () => tail.join('\n'),
    waitForLine(predicate, timeoutMs, waitOptions) {
      const seen = waitOptions?.onlyNew ? undefined : lines.find(predicate);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise<string>((resolve, reject) => {
        const done = (fn: () => void) => {
          clearTimeout(timer);
          handlers.delete(handler);
          fn();
        };
        const handler = (line: string) => {
          if (predicate(line)) done(() => resolve(line));
        };
        const timer = setTimeout(
          () => done(() => reject(new Error(`${options.name}: no expected output within ${timeoutMs} ms\n${tail.join('\n')}`))),
          timeoutMs,
        );
        handlers.add(handler);
        void exited.then((code) =>
          done(() => reject(new Error(`${options.name} exited (code ${code})\n${tail.join('\n')}`))),
        );
      });
    },
    async stop(graceMs = 3_000) {
      if (hasExited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Parses a JSON status line; undefined for anything else. */
export function parseStatusLine(line: string): Record<string, unknown> | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

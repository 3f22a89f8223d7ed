import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { z } from 'zod';
import { ConfigError } from '../errors.js';

/**
 * Reads and validates a JSON file; any problem becomes a ConfigError naming the file and the
 * field, so a process refuses to start with a message an operator can act on (STYLE.md 2.6).
 */
export function readJsonFile<S extends z.ZodType>(path: string, schema: S): z.infer<S> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(path, `cannot read (${(error as NodeJS.ErrnoException).code ?? 'error'})`, { cause: error });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(path, 'not valid JSON', { cause: error });
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.join('.') || '(root)';
    throw new ConfigError(`${path}#${field}`, issue?.message ?? 'invalid');
  }
  return parsed.data;
}

/**
 * Writes JSON atomically and durably: temp file, fsync, rename, directory fsync. A crash leaves the
 * complete old file or the complete new one (RELIABILITY.md T20). `mode` defaults to 0600.
 */
export function writeJsonFileAtomic(path: string, value: unknown, mode = 0o600): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w', mode);
  try {
    writeSync(fd, `${JSON.stringify(value, null, 2)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  const dirFd = openSync(dirname(path), 'r');
  try {
    fsyncSync(dirFd);
  } finally {
    closeSync(dirFd);
  }
}

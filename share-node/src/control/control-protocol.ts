import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { z } from 'zod';

/** Commands the share-node CLI sends to its running node over the local control socket. */
export const controlRequestSchema = z.discriminatedUnion('cmd', [
  z.strictObject({ cmd: z.literal('status') }),
  z.strictObject({ cmd: z.literal('pending') }),
  z.strictObject({ cmd: z.literal('approve'), id: z.string().regex(/^[0-9a-f]{4,32}$/) }),
  z.strictObject({ cmd: z.literal('deny'), id: z.string().regex(/^[0-9a-f]{4,32}$/), reason: z.string().max(200).optional() }),
  z.strictObject({ cmd: z.literal('freeze'), reason: z.string().max(200).optional() }),
  z.strictObject({ cmd: z.literal('unfreeze') }),
  z.strictObject({ cmd: z.literal('reload') }),
]);
export type ControlRequest = z.infer<typeof controlRequestSchema>;

export type ControlResponse = { ok: true; result: unknown } | { ok: false; error: string };

/** Largest control request line; anything longer is refused unread. */
export const CONTROL_MAX_LINE_BYTES = 4_096;

/**
 * Where a node's control socket lives: in its data directory, unless that path is too long for a
 * unix socket (about 107 bytes), then under the temp directory, named by a hash of the data dir.
 */
export function controlSocketPath(dataDir: string): string {
  const inDir = join(resolve(dataDir), 'control.sock');
  if (Buffer.byteLength(inDir) <= 100) return inDir;
  const digest = createHash('sha256').update(resolve(dataDir)).digest('hex').slice(0, 16);
  return join(tmpdir(), `frostbunker-node-${digest}.sock`);
}

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Lab } from '@frostbunker/deploy/lab';

/** Log files of the lab's processes that talk to relays, by component name. */
function componentLogs(lab: Lab): [string, string][] {
  const logs = join(lab.options.root, 'logs');
  return [['coordinator', join(logs, 'coordinator.log')], ...lab.layout.nodeDirs.map((_, i) => [`node-${i + 1}`, join(logs, `node-${i + 1}.log`)] as [string, string])];
}

/**
 * For each component, the ms from `upAtWallMs` (the relay listening again) to the first "relay
 * subscriptions live" line the component's RelayPool logged for `relayUrl` after it: the time to
 * reconnect and have every REQ confirmed with EOSE. Undefined for a component that never did.
 */
export function resubscribeTimes(lab: Lab, relayUrl: string, upAtWallMs: number): Map<string, number | undefined> {
  const times = new Map<string, number | undefined>();
  for (const [component, file] of componentLogs(lab)) {
    let first: number | undefined;
    if (existsSync(file)) {
      for (const line of readFileSync(file, 'utf8').split('\n')) {
        if (!line.includes('"relay subscriptions live"') || !line.includes(relayUrl)) continue;
        const entry = JSON.parse(line) as { t: string; url: string };
        const atMs = Date.parse(entry.t);
        if (entry.url === relayUrl && atMs >= upAtWallMs) {
          first = atMs - upAtWallMs;
          break;
        }
      }
    }
    times.set(component, first);
  }
  return times;
}

/** "coordinator 640 ms, node-1 512 ms, …" (or "never") for a figure line. */
export function formatTimes(times: Map<string, number | undefined>): string {
  return [...times].map(([component, ms]) => `${component} ${ms === undefined ? 'never' : `${ms} ms`}`).join(', ');
}

/**
 * Runs `count` operations, at most `concurrency` at once, operation i starting no earlier than
 * i × `spacingMs` after the call: a stream that spans a fault schedule instead of finishing before it.
 */
export async function pacedStream(count: number, concurrency: number, spacingMs: number, operation: (i: number) => Promise<unknown>): Promise<void> {
  const startedMs = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next++;
        const waitMs = startedMs + i * spacingMs - performance.now();
        if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
        await operation(i);
      }
    }),
  );
}

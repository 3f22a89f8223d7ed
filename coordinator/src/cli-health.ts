import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { readJsonFile } from '@frostbunker/shared/config';
import { ConfigError } from '@frostbunker/shared/errors';
import { healthView } from './admin/health-route.js';

export const HEALTH_USAGE = `  health [--json]                           ask the running coordinator whether it can sign now:
                                            quorum per identity, each share node, relays, database
                                            (exit 0 healthy, 1 not, 2 not running)`;

const adminFileSchema = z.strictObject({ url: z.string(), pid: z.number().int() });

/**
 * `frostbunker health`: asks the running coordinator (its admin server, found through
 * `<data>/admin.json`) for `/health` and prints it for a person, or as JSON with --json.
 */
export async function runHealthCommand(dir: string, options: { json: boolean }, print: (line: string) => void): Promise<number> {
  const file = join(dir, 'admin.json');
  if (!existsSync(file)) throw new ConfigError('--data', `${dir} has no admin.json: the coordinator has not started there yet`);
  const { url } = readJsonFile(file, adminFileSchema);
  let response: Response;
  try {
    response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(5_000) });
  } catch (error) {
    print(`not running: no answer from ${url} (${(error as Error).message})`);
    return 2;
  }
  const report = healthView.parse(await response.json());
  if (options.json) {
    print(JSON.stringify(report, null, 2));
    return report.ok ? 0 : 1;
  }
  print(report.ok ? 'ok: can sign' : `NOT OK: ${report.problems.join('; ')}`);
  for (const identity of report.identities) {
    print(`identity ${identity.name} (epoch ${identity.epoch}, ${identity.threshold}-of-${identity.nodes.length}): quorum ${identity.quorumAvailable ? 'available' : 'UNAVAILABLE'}`);
    for (const node of identity.nodes) {
      const state = node.frozen ? 'frozen' : node.online ? 'online' : 'OFFLINE';
      const seen = node.lastSeenMsAgo === null ? 'never seen' : `seen ${(node.lastSeenMsAgo / 1000).toFixed(1)} s ago`;
      print(`  ${node.label.padEnd(10)} ${state.padEnd(8)} ${seen}${node.latencyMs === null ? '' : `, ping ${node.latencyMs} ms`}, epoch ${node.epoch}`);
    }
  }
  for (const relay of report.relays) print(`relay ${relay.url}: ${relay.connected ? 'connected' : `DOWN${relay.lastError ? ` (${relay.lastError})` : ''}`}, ${relay.reconnects} reconnects`);
  print(`database: ${report.database.ok ? 'ok' : `FAILED: ${report.database.error}`}`);
  return report.ok ? 0 : 1;
}

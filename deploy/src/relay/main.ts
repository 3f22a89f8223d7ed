import { parseArgs } from 'node:util';
import { startLocalRelay, type LocalRelay, type RelayLogger } from './server.js';

// Process entry for the embedded test relay:
//   node deploy/dist/relay/main.js [--port 0] [--host 127.0.0.1] [--allow-public] [--verbose]
// Prints exactly one line on stdout, `relay listening ws://<host>:<port>`; logs go to stderr.

const SHUTDOWN_GRACE_MS = 5_000;

async function main(): Promise<void> {
  let args;
  try {
    args = parseArgs({
      options: {
        port: { type: 'string', default: '0' },
        host: { type: 'string', default: '127.0.0.1' },
        'allow-public': { type: 'boolean', default: false },
        verbose: { type: 'boolean', default: false },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    exitWithUsage(error instanceof Error ? error.message : String(error));
  }
  const port = Number(args.port);
  if (!/^\d+$/.test(args.port) || port > 65_535) exitWithUsage(`--port: expected 0..65535, got ${args.port}`);

  const verbose = args.verbose;
  const logger: RelayLogger = (level, msg, fields) => {
    if (level === 'debug' && !verbose) return;
    process.stderr.write(`${JSON.stringify({ level, msg, ...fields })}\n`);
  };

  // Signal handlers go in before the relay starts and before the "listening" line: a supervisor may
  // signal the moment it reads that line.
  let relay: LocalRelay | undefined;
  let stopRequested = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    logger('info', 'relay shutting down', { signal });
    stopRequested = true;
    // Last resort only: a clean close lets the event loop drain and the process exit by itself.
    setTimeout(() => process.exit(1), SHUTDOWN_GRACE_MS).unref();
    void closeRelay();
  };
  const closeRelay = async (): Promise<void> => {
    try {
      await relay?.close();
      process.exitCode = 0;
    } catch (error) {
      logger('error', 'relay close failed', { error: String(error) });
      process.exitCode = 1;
    }
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);

  try {
    relay = await startLocalRelay({ host: args.host, port, allowPublic: args['allow-public'], logger });
  } catch (error) {
    process.stderr.write(`relay: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
    process.removeListener('SIGINT', shutdown);
    process.removeListener('SIGTERM', shutdown);
    return;
  }
  if (stopRequested) {
    await closeRelay();
    return;
  }
  process.stdout.write(`relay listening ${relay.url}\n`);
}

function exitWithUsage(message: string): never {
  process.stderr.write(
    `relay: ${message}\nusage: node deploy/dist/relay/main.js [--port 0] [--host 127.0.0.1] [--allow-public] [--verbose]\n`,
  );
  process.exit(2);
}

void main();

#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { groupXOnlyKey, hexToBytes } from '@frostbunker/shared/crypto';
import { ConfigError } from '@frostbunker/shared/errors';
import { createLogger, type LogLevel } from '@frostbunker/shared/logger';
import { KIND_FROSTBUNKER_NODE } from '@frostbunker/shared/nostr';
import { toNodeMessageSchema, type FromNodeMessage, type ToNodeMessage } from '@frostbunker/shared/protocol';
import { RelayPool, RelayTransport } from '@frostbunker/shared/transport';
import { loadShareNodeConfig } from './config.js';
import { ShareSigner } from './signer/share-signer.js';

/** Composition root of one share node: argv, signals, relays. Logs go to stderr as JSON lines. */
function main(): void {
  const { values } = parseArgs({
    options: {
      data: { type: 'string' },
      relay: { type: 'string', multiple: true },
      'log-level': { type: 'string', default: 'info' },
    },
  });
  if (!values.data) throw new ConfigError('--data', 'required: the share node data directory');
  const config = loadShareNodeConfig(resolve(values.data));
  const relays = values.relay?.length ? values.relay : config.relays;
  const logger = createLogger({
    name: 'share-node',
    level: values['log-level'] as LogLevel,
    write: (line) => process.stderr.write(line),
    base: { node: config.label },
  });

  const pool = new RelayPool({ urls: relays, logger: (level, msg, fields) => logger[level](msg, fields) });
  // Only the enrolled coordinator may talk to this node; junk from others costs no ECDH.
  const transport = new RelayTransport<ToNodeMessage, FromNodeMessage>({
    secretKey: hexToBytes(config.nodeSecretKey),
    pool,
    kind: KIND_FROSTBUNKER_NODE,
    schema: toNodeMessageSchema,
    isKnownSender: (pubkey: string) => pubkey === config.coordinatorPubkey,
  });
  const signer = new ShareSigner({
    groupId: config.groupId,
    epoch: config.epoch,
    group: config.group,
    groupPubkey: groupXOnlyKey(config.group),
    share: config.share,
    logger,
    nowSec: () => Math.floor(Date.now() / 1000),
    monotonicMs: () => performance.now(),
  });
  transport.onMessage(({ senderPubkey, message }) => {
    const reply = signer.handle(message);
    transport.send(senderPubkey, reply).catch((error: unknown) => {
      logger.warn('reply not sent', { type: reply.type, error: String(error) });
    });
  });
  process.stdout.write(`${JSON.stringify({ event: 'started', node: config.label, pid: process.pid, relays })}\n`);

  const shutdown = (signal: string) => {
    logger.info('shutting down', { signal });
    void Promise.allSettled([transport.close(), pool.close()]).then(() => process.exit(0));
    setTimeout(() => process.exit(0), 2_000).unref();
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
}

try {
  main();
} catch (error) {
  const message = error instanceof ConfigError ? `config error: ${error.message}` : `fatal: ${String(error)}`;
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

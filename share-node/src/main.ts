#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { join, resolve } from 'node:path';
import { groupXOnlyKey, hexToBytes } from '@frostbunker/shared/crypto';
import { secretsAccessFromArgs, SECRETS_ARG_OPTIONS } from '@frostbunker/shared/config';
import { ConfigError } from '@frostbunker/shared/errors';
import { createLogger, type LogLevel } from '@frostbunker/shared/logger';
import { initEventSigner, KIND_FROSTBUNKER_NODE } from '@frostbunker/shared/nostr';
import { toNodeMessageSchema, type FromNodeMessage, type ToNodeMessage } from '@frostbunker/shared/protocol';
import { RelayPool, RelayTransport } from '@frostbunker/shared/transport';
import { loadShareNodeConfig } from './config.js';
import { startControlServer } from './control/control-server.js';
import { controlSocketPath, type ControlRequest } from './control/control-protocol.js';
import { NodeLog } from './node-log.js';
import { NodeState } from './node-state.js';
import { PolicyStore } from './policy-store.js';
import { ShareSigner } from './signer/share-signer.js';
import { sendOrLog, serveShareSigner } from './share-node-service.js';

/** Composition root of one share node: argv, signals, relays. Logs go to stderr as JSON lines. */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      data: { type: 'string' },
      relay: { type: 'string', multiple: true },
      'log-level': { type: 'string', default: 'info' },
      ...SECRETS_ARG_OPTIONS,
    },
  });
  if (!values.data) throw new ConfigError('--data', 'required: the share node data directory');
  const dir = resolve(values.data);
  let logger = createLogger({ name: 'share-node', level: values['log-level'] as LogLevel, write: (line) => process.stderr.write(line) });
  const access = secretsAccessFromArgs(values, process, (message) => logger.warn(message));
  const config = await loadShareNodeConfig(dir, access);
  logger = logger.child({ node: config.label });
  const relays = values.relay?.length ? values.relay : config.relays;

  const nowSec = () => Math.floor(Date.now() / 1000);
  const log = NodeLog.open(join(dir, 'node-log.jsonl'), { nowSec });
  if (!log.chainAtOpen.ok) {
    // Keep serving (the log is evidence, not a key), but say it loudly: someone edited it.
    logger.error('node log hash chain is broken', { brokenAtLine: log.chainAtOpen.brokenAtLine });
  }
  const state = new NodeState(join(dir, 'state.json'));
  const policies = await PolicyStore.open(join(dir, 'policy.json'), logger, { enrolledEncryptionPubkeys: config.encryptionPubkeys });
  policies.watch();

  await initEventSigner(); // libsecp256k1 (WebAssembly) signs and verifies every relay event
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
    nowSec,
    monotonicMs: () => performance.now(),
    policy: () => policies.current(),
    log,
    state,
    sendLater: (message) => sendOrLog(transport, config.coordinatorPubkey, message, logger),
  });
  serveShareSigner({ transport, signer, logger });
  const control = await startControlServer({
    socketPath: controlSocketPath(dir),
    logger,
    handle: (request: ControlRequest) => {
      switch (request.cmd) {
        case 'status':
          return { node: config.label, frozen: state.frozen, pendingApprovals: signer.pendingApprovals().length, approved: log.approvedCounts(), logChain: log.verify(), relays: pool.health() };
        case 'pending':
          return signer.pendingApprovals();
        case 'approve':
        case 'deny': {
          const result =
            request.cmd === 'approve' ? signer.decideApproval(request.id, true) : signer.decideApproval(request.id, false, request.reason);
          if (!result.ok) throw new Error(result.message);
          return result.message;
        }
        case 'freeze':
          signer.freeze(request.reason ?? 'frozen by operator');
          return 'frozen';
        case 'unfreeze':
          signer.unfreeze();
          return 'unfrozen';
        case 'reload':
          return policies.reload();
      }
    },
  });
  process.on('SIGHUP', () => void policies.reload());
  process.stdout.write(`${JSON.stringify({ event: 'started', node: config.label, pid: process.pid, relays, frozen: state.frozen !== null })}\n`);

  const shutdown = (signal: string) => {
    logger.info('shutting down', { signal });
    policies.close();
    void Promise.allSettled([control.close(), transport.close(), pool.close()]).then(() => process.exit(0));
    setTimeout(() => process.exit(0), 2_000).unref();
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((error: unknown) => {
  const message = error instanceof ConfigError ? `config error: ${error.message}` : `fatal: ${String(error)}`;
  process.stderr.write(`${message}\n`);
  process.exit(1);
});

#!/usr/bin/env node
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { readJsonFile, secretsAccessFromArgs, SECRETS_ARG_OPTIONS, writeJsonFileAtomic } from '@frostbunker/shared/config';
import { initJoiningNode } from './ceremony/joining.js';
import { NodeLog } from './node-log.js';
import { NodeState } from './node-state.js';
import { sendControlRequest } from './control/control-client.js';
import { controlSocketPath, type ControlRequest } from './control/control-protocol.js';

const USAGE = `usage: share-node <command> --data <node-dir> [options]

  status                 is the node frozen, what awaits approval, how much it signed
  pending                requests awaiting this operator's approval
  approve <id>           co-sign a pending request (its session id, or a unique prefix)
  deny <id> [--reason r] refuse a pending request
  freeze [--reason r]    refuse every request with reason "frozen" until unfreeze (kept across restarts)
  unfreeze
  reload                 re-read policy.json (also done on change and on SIGHUP)
  log [--tail n]         the node's own append-only log (default last 20 lines)
  log-verify             check the log's hash chain
  init --coordinator <pubkey> --relay <url>... [--label node-4] [--encryption-pubkey <pubkey>]...
                         a new host: make its identity key (sealed, or --insecure-plaintext) and
                         print its pubkey for \`frostbunker drill reshare|repair\`; start the node,
                         and the drill deals it its share
  enrol-encryption-key <pubkey>  allow a 10044 announcing this NIP-4e key (after a coordinator
                         key rotation); takes effect at the node's next start

From the repository root: pnpm share-node <command> --data .frostbunker/node-1`;

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    args: process.argv.slice(2).filter((a) => a !== '--'),
    options: {
      data: { type: 'string' },
      reason: { type: 'string' },
      tail: { type: 'string', default: '20' },
      coordinator: { type: 'string' },
      relay: { type: 'string', multiple: true },
      label: { type: 'string' },
      'encryption-pubkey': { type: 'string', multiple: true },
      ...SECRETS_ARG_OPTIONS,
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: true,
  });
  const [command, id] = positionals;
  if (values.help || !command) {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  if (!values.data) {
    console.error('--data <node-dir> is required');
    return 2;
  }
  const dir = resolve(process.env.INIT_CWD ?? process.cwd(), values.data);
  const nowSec = () => Math.floor(Date.now() / 1000);

  switch (command) {
    case 'init': {
      if (!values.coordinator || !values.relay?.length) {
        console.error('init needs --coordinator <pubkey> and at least one --relay <url>');
        return 2;
      }
      const access = secretsAccessFromArgs(values, process, (message) => console.error(`warning: ${message}`));
      const passphrase = values['insecure-plaintext'] ? undefined : await access.passphrase?.();
      const nodePubkey = await initJoiningNode(dir, {
        v: 1,
        label: values.label ?? 'node-new',
        relays: values.relay,
        coordinatorPubkey: values.coordinator as never,
        encryptionPubkeys: (values['encryption-pubkey'] ?? []) as never,
        ...(passphrase === undefined ? {} : { passphrase }),
      });
      console.log(nodePubkey);
      return 0;
    }
    case 'log': {
      for (const entry of NodeLog.open(join(dir, 'node-log.jsonl'), { nowSec }).tail(Number(values.tail))) {
        const when = new Date(entry.atSec * 1000).toISOString();
        console.log([when, entry.decision, entry.kind === undefined ? '' : `kind ${entry.kind}`, entry.eventId?.slice(0, 16) ?? '', entry.code ?? '', entry.reason ?? ''].filter(Boolean).join('  '));
      }
      return 0;
    }
    case 'log-verify': {
      const check = NodeLog.open(join(dir, 'node-log.jsonl'), { nowSec }).verify();
      console.log(check.ok ? `ok: ${check.entries} entries, chain intact` : `BROKEN at line ${check.brokenAtLine} of ${check.entries}`);
      return check.ok ? 0 : 1;
    }
    case 'enrol-encryption-key': {
      if (!id || !/^[0-9a-f]{64}$/.test(id)) {
        console.error('enrol-encryption-key needs the new key as 64 hex characters (see: frostbunker encryption-key show)');
        return 2;
      }
      const configPath = join(dir, 'config.json');
      const config = readJsonFile(configPath, z.looseObject({ encryptionPubkeys: z.array(z.string()).default([]) }));
      if (!config.encryptionPubkeys.includes(id)) {
        writeJsonFileAtomic(configPath, { ...config, encryptionPubkeys: [...config.encryptionPubkeys, id] });
      }
      console.log(`enrolled ${id}; restart the node for it to take effect`);
      return 0;
    }
    case 'status':
    case 'pending':
    case 'reload':
    case 'unfreeze':
      return run({ cmd: command }, dir);
    case 'freeze':
      return run({ cmd: 'freeze', ...(values.reason ? { reason: values.reason } : {}) }, dir);
    case 'approve':
    case 'deny':
      if (!id) {
        console.error(`${command} needs the request id (see: share-node pending)`);
        return 2;
      }
      return run(command === 'approve' ? { cmd: 'approve', id } : { cmd: 'deny', id, ...(values.reason ? { reason: values.reason } : {}) }, dir);
    default:
      console.error(`unknown command: ${command}\n\n${USAGE}`);
      return 2;
  }
}

/** Sends the command to the running node; freeze/unfreeze also work while it is stopped. */
async function run(request: ControlRequest, dir: string): Promise<number> {
  try {
    const response = await sendControlRequest(controlSocketPath(dir), request);
    if (!response.ok) {
      console.error(`error: ${response.error}`);
      return 1;
    }
    console.log(typeof response.result === 'string' ? response.result : JSON.stringify(response.result, null, 2));
    return 0;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ECONNREFUSED') throw error;
    if (request.cmd === 'freeze' || request.cmd === 'unfreeze') {
      // The node is not running: record the switch where it will read it at start.
      const nowSec = Math.floor(Date.now() / 1000);
      new NodeState(join(dir, 'state.json')).setFrozen(request.cmd === 'freeze' ? { reason: request.reason ?? 'frozen by operator', sinceSec: nowSec } : null);
      NodeLog.open(join(dir, 'node-log.jsonl'), { nowSec: () => nowSec }).append({ decision: request.cmd === 'freeze' ? 'frozen' : 'unfrozen', reason: 'while stopped' });
      console.log(`${request.cmd === 'freeze' ? 'frozen' : 'unfrozen'} (node not running; takes effect at its next start)`);
      return 0;
    }
    console.error(`the share node in ${dir} is not running (no control socket)`);
    return 1;
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);

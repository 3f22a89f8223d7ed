#!/usr/bin/env node
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { npubEncode } from 'nostr-tools/nip19';
import { Lab } from './lab.js';
import { parseStatusLine } from './managed-process.js';

const USAGE = `usage: pnpm start [-- --data <dir>] [--relay <ws-url> ...] [--relay-port <port>]

Starts a 2-of-3 frostbunker lab: a local relay on 127.0.0.1 (unless --relay is given), the
coordinator and three share-node processes, then prints a bunker:// URL for a NIP-46 client.
  --data <dir>        lab data directory (default ./.frostbunker); reused on restart
  --relay <url>       use this relay instead of the embedded one (repeatable)
  --relay-port <n>    port for the embedded relay (default: last used, else a free one)
  --import-frostr <f> create the identity from FROSTR 2.x credentials: a file with one bfgroup1…
                      line and every bfshare1… line (into a new --data directory)
  --dkg               create the identity by distributed key generation among the share nodes
                      (no dealer: the secret never exists anywhere; into a new --data directory)`;

async function main(): Promise<void> {
  // pnpm forwards `--` literally in some versions; it is not an option here.
  const args = process.argv.slice(2).filter((a) => a !== '--');
  const { values } = parseArgs({
    args,
    options: {
      data: { type: 'string' },
      relay: { type: 'string', multiple: true },
      'relay-port': { type: 'string' },
      'import-frostr': { type: 'string' },
      dkg: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  // `pnpm start` runs in the repository root; a relative --data is meant from where the user typed it.
  const root = resolve(process.env.INIT_CWD ?? process.cwd(), values.data ?? '.frostbunker');
  const relayPort = values['relay-port'] === undefined ? undefined : Number(values['relay-port']);
  if (relayPort !== undefined && !(Number.isInteger(relayPort) && relayPort > 0 && relayPort < 65_536)) {
    throw new Error(`--relay-port: expected a port number, got ${values['relay-port']}`);
  }

  const lab = await Lab.start({
    root,
    ...(values.relay ? { relays: values.relay } : {}),
    ...(relayPort ? { relayPort } : {}),
    ...(values['import-frostr'] ? { importFrostr: resolve(process.env.INIT_CWD ?? process.cwd(), values['import-frostr']) } : {}),
    ...(values.dkg ? { dkg: true } : {}),
    onProgress: (line) => console.log(line),
  });
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    console.log('stopping every process…');
    await lab.stop();
    process.exit(code);
  };
  process.once('SIGINT', () => void stop(0));
  process.once('SIGTERM', () => void stop(0));
  void lab.coordinator.exited.then((code) => {
    if (stopping) return;
    console.error(`coordinator exited (code ${code}):\n${lab.coordinator.stderrTail()}`);
    void stop(1);
  });

  console.log(`relays: ${lab.relayUrls.join(', ')}`);
  console.log(`identity: ${npubEncode(lab.userPubkey)} (hex ${lab.userPubkey})`);
  console.log(`encryption key (NIP-4e, announced in kind 10044 once the quorum signs it): ${lab.encryptionPubkey}`);
  console.log('waiting for the share nodes to answer…');
  await lab.waitForQuorum();
  lab.coordinator.onLine((line) => {
    const status = parseStatusLine(line);
    if (status?.event === 'quorum') {
      const online = status.online as string[];
      console.log(`quorum: ${online.length} online (${online.join(', ') || 'none'}), ${status.available ? 'can sign' : 'CANNOT sign'}`);
    }
  });
  console.log('quorum ready. Connect a NIP-46 client with:');
  console.log(lab.bunkerUrl);
  console.log(`dashboard: ${lab.adminUrl}/ (quorum, clients, approvals, activity, drills; log in with an admin token)`);
  console.log(`admin API: ${lab.adminUrl} (OpenAPI at ${lab.adminUrl}/openapi.json); approval links point here.`);
  console.log(`  create an admin token: pnpm frostbunker admin-token create --label <your-name> --data ${lab.layout.coordinatorDir}`);
  console.log(`logs: ${resolve(root, 'logs')}. Ctrl-C stops every process.`);
}

main().catch((error: unknown) => {
  console.error(`lab failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});

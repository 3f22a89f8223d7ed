#!/usr/bin/env node
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { decode as nip19Decode, npubEncode } from 'nostr-tools/nip19';
import { dealerKeygen, hexToBytes } from '@frostbunker/shared/crypto';
import { secretsAccessFromArgs, SECRETS_ARG_OPTIONS } from '@frostbunker/shared/config';
import { relayUrlSchema } from '@frostbunker/shared/protocol';
import { ensureDkgCoordinatorKeys, ensureLabIdentity, labLayout, writeCoordinatorConfig } from '../lab/lab-identity.js';
import { formatDkgReport } from './dkg-ceremony.js';
import { runDkgOverRelays } from './dkg-run.js';

const USAGE = `usage: pnpm keygen -- --out <dir> --relay <ws-url> [--relay …] (--passphrase-file <f> | --insecure-plaintext)
                    [--threshold 2] [--nodes 3] [--nsec-file <f>] [--admin-port 7446] [--if-absent]

Creates a k-of-n identity on this (offline) machine and writes one bundle per host:
  <out>/coordinator/{config,secrets}.json   for the coordinator host
  <out>/node-<i>/{config,secrets}.json      one for each share-node host
Every secrets.json is sealed under the passphrase (scrypt + XChaCha20-Poly1305).
  --relay <url>        relays every process uses (repeatable; what bunker:// URLs name)
  --threshold <k>      signatures needed (default 2)      --nodes <n>  share nodes (default 3)
  --nsec-file <f>      split this existing key (nsec1… or 64 hex) instead of a fresh one
  --admin-port <p>     the coordinator's loopback admin API port (default 7446)
  --if-absent          exit 0 without writing when <out> already holds an identity
Trusted dealer: the whole key exists in this process for an instant; run it on an offline machine.

Distributed key generation (the secret never exists anywhere, not even at creation):
  pnpm keygen -- --dkg --out <dir> --relay <url> …
        1. writes <out>/coordinator/secrets.json and prints the coordinator pubkey and NIP-4e key
           for \`pnpm share-node init\` on each share-node host (then start those nodes)
  pnpm keygen -- --dkg --out <dir> --relay <url> … --threshold 2 --nodes node-1:<pubkey>,node-2:<pubkey>,…
        2. runs the DKG among those running joining nodes (indices in list order); at the commit
           writes <out>/coordinator/config.json and the report <out>/coordinator/drills/<time>-dkg.{json,txt}`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    // pnpm forwards `--` literally in some versions; it is not an option here.
    args: process.argv.slice(2).filter((a) => a !== '--'),
    options: {
      out: { type: 'string' },
      relay: { type: 'string', multiple: true },
      threshold: { type: 'string', default: '2' },
      nodes: { type: 'string', default: '3' },
      'nsec-file': { type: 'string' },
      'admin-port': { type: 'string', default: '7446' },
      'if-absent': { type: 'boolean', default: false },
      dkg: { type: 'boolean', default: false },
      'step-timeout': { type: 'string', default: '20' },
      ...SECRETS_ARG_OPTIONS,
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const fail = (message: string): number => {
    console.error(`keygen: ${message}\n${USAGE}`);
    return 2;
  };
  if (!values.out) return fail('--out is required');
  if (!values.relay?.length) return fail('at least one --relay is required');
  for (const relay of values.relay) {
    if (!relayUrlSchema.safeParse(relay).success) return fail(`--relay: expected a ws:// or wss:// URL, got ${relay}`);
  }
  if (values.dkg) return dkgMain(values, fail);
  const threshold = Number(values.threshold);
  const maxSigners = Number(values.nodes);
  if (!Number.isInteger(threshold) || !Number.isInteger(maxSigners) || threshold < 2 || threshold > maxSigners || maxSigners > 255) {
    return fail(`expected 2 ≤ threshold ≤ nodes ≤ 255, got ${values.threshold}-of-${values.nodes}`);
  }
  const adminPort = Number(values['admin-port']);
  if (!Number.isInteger(adminPort) || adminPort < 0 || adminPort > 65_535) return fail(`--admin-port: expected 0..65535, got ${values['admin-port']}`);
  if (values['passphrase-file'] === undefined && !values['insecure-plaintext'] && process.stdin.isTTY !== true && !process.env.FROSTBUNKER_PASSPHRASE) {
    return fail('seal the bundles: --passphrase-file <f> (or a terminal to type it on); --insecure-plaintext only for labs');
  }

  // `pnpm keygen` runs in the repository root; a relative path is meant from where the user typed it.
  const cwd = process.env.INIT_CWD ?? process.cwd();
  const root = resolve(cwd, values.out);
  const layout = labLayout(root, maxSigners);
  if (existsSync(join(layout.coordinatorDir, 'config.json'))) {
    if (values['if-absent']) {
      console.log(`keygen: ${root} already holds an identity; nothing written`);
      return 0;
    }
    return fail(`${root} already holds an identity; refusing to overwrite it`);
  }
  // Empty directories are fine (mounted volumes); anything else might be another identity's files.
  for (const dir of [root, layout.coordinatorDir, ...layout.nodeDirs]) {
    const unexpected = existsSync(dir) ? readdirSync(dir).filter((name) => dir !== root || !isBundleName(name)) : [];
    if (unexpected.length > 0) return fail(`${dir} is not empty (${unexpected.slice(0, 3).join(', ')}); use a new --out directory`);
  }

  const access = secretsAccessFromArgs(values, process, (message) => console.error(`warning: ${message}`));
  const passphrase = values['insecure-plaintext'] ? undefined : await access.passphrase!();
  const secretKey = values['nsec-file'] === undefined ? undefined : readNsecFile(resolve(cwd, values['nsec-file']));
  try {
    const imported = secretKey === undefined ? undefined : dealerKeygen({ threshold, maxSigners, secretKey });
    const summary = await ensureLabIdentity({
      root,
      threshold,
      maxSigners,
      relays: values.relay,
      adminPort,
      ...(passphrase === undefined ? {} : { passphrase }),
      ...(imported === undefined ? {} : { imported }),
    });
    console.log(`identity: ${npubEncode(summary.userPubkey!)} (hex ${summary.userPubkey}), ${threshold}-of-${maxSigners}`);
  } finally {
    secretKey?.fill(0);
  }
  console.log(`secrets: ${passphrase === undefined ? 'PLAINTEXT (--insecure-plaintext): for labs only' : 'sealed under the passphrase'}`);
  console.log(`coordinator bundle: ${layout.coordinatorDir}`);
  for (const dir of layout.nodeDirs) console.log(`share-node bundle:  ${dir}`);
  console.log('carry each bundle to its own host; keep no copy of the node bundles together (see deploy/README.md)');
  return 0;
}

/** `keygen --dkg`: the coordinator's keys first, then (with --nodes label:pubkey,…) the ceremony. */
async function dkgMain(
  values: { out?: string; relay?: string[]; threshold: string; nodes: string; 'admin-port': string; 'nsec-file'?: string; 'step-timeout': string; 'insecure-plaintext'?: boolean; 'passphrase-file'?: string },
  fail: (message: string) => number,
): Promise<number> {
  if (values['nsec-file'] !== undefined) return fail('--dkg makes a new key among the nodes; --nsec-file imports one through the dealer path');
  const cwd = process.env.INIT_CWD ?? process.cwd();
  const coordinatorDir = join(resolve(cwd, values.out!), 'coordinator');
  if (existsSync(join(coordinatorDir, 'config.json'))) return fail(`${coordinatorDir} already holds an identity; refusing to overwrite it`);
  const access = secretsAccessFromArgs(values as never, process, (message) => console.error(`warning: ${message}`));
  const passphrase = values['insecure-plaintext'] ? undefined : await access.passphrase!();
  const keys = await ensureDkgCoordinatorKeys(coordinatorDir, passphrase === undefined ? {} : { passphrase });
  const relayArgs = values.relay!.map((r) => `--relay ${r}`).join(' ');
  if (!values.nodes.includes(':') && !/^[0-9a-f]{64}/.test(values.nodes)) {
    console.log(`coordinator: ${keys.coordinatorPubkey} (${keys.created ? 'new keys' : 'keys already there'} in ${coordinatorDir})`);
    console.log(`encryption key (NIP-4e): ${keys.encryptionPubkey}`);
    console.log('on each share-node host:');
    console.log(`  pnpm share-node init --data <node-dir> --coordinator ${keys.coordinatorPubkey} ${relayArgs} --label node-<i> --encryption-pubkey ${keys.encryptionPubkey}`);
    console.log('  then start the node (it waits, joining); collect each printed pubkey and run:');
    console.log(`  pnpm keygen -- --dkg --out ${values.out} ${relayArgs} --threshold <k> --nodes node-1:<pubkey>,node-2:<pubkey>,…`);
    return 0;
  }
  const members = values.nodes.split(',').map((entry, i) => {
    const [label, pubkey] = entry.includes(':') ? entry.split(':') : [`node-${i + 1}`, entry];
    return { label: label!.trim(), nodePubkey: pubkey!.trim() };
  });
  for (const m of members) {
    if (!/^[0-9a-f]{64}$/.test(m.nodePubkey) || !/^[a-z0-9-]{1,32}$/.test(m.label)) return fail(`--nodes: "${m.label}:${m.nodePubkey}" is not label:pubkey (64 hex)`);
  }
  if (new Set(members.map((m) => m.nodePubkey)).size !== members.length) return fail('--nodes: a pubkey is listed twice');
  const threshold = Number(values.threshold);
  if (!Number.isInteger(threshold) || threshold < 2 || threshold > members.length) return fail(`--threshold: expected 2..${members.length}`);
  const adminPort = Number(values['admin-port']);
  const progress = (line: string) => console.log(`${new Date().toISOString().slice(11, 23)} ${line}`);
  const { report, paths } = await runDkgOverRelays({
    coordinatorDir,
    coordinatorSecretKey: keys.coordinatorSecretKey,
    relays: values.relay!,
    threshold,
    members: members as never,
    commit: (group, enrolled) => writeCoordinatorConfig({ coordinatorDir, relays: values.relay!, adminPort, group, members: enrolled }),
    stepTimeoutMs: Number(values['step-timeout']) * 1000,
    progress,
  });
  console.log(formatDkgReport(report));
  console.log(`report: ${paths.json}`);
  console.log(`summary: ${paths.text}`);
  if (report.outcome === 'committed') console.log(`identity: ${report.npub} — start the coordinator: pnpm coordinator --data ${coordinatorDir}`);
  return report.outcome === 'committed' ? 0 : 1;
}

function isBundleName(name: string): boolean {
  return name === 'coordinator' || /^node-\d+$/.test(name);
}

/** An `nsec1…` or 64-hex secret key, alone on the file's first line. */
function readNsecFile(path: string): Uint8Array {
  const text = readFileSync(path, 'utf8').trim();
  if (/^[0-9a-f]{64}$/i.test(text)) return hexToBytes(text.toLowerCase());
  if (text.startsWith('nsec1')) {
    const decoded = nip19Decode(text);
    if (decoded.type === 'nsec') return Uint8Array.from(decoded.data);
  }
  throw new Error(`--nsec-file: ${path} holds neither an nsec1… key nor 64 hex digits`);
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`keygen failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);

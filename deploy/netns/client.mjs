#!/usr/bin/env node
// The NIP-46 client of the namespace test: a real nostr-tools BunkerSigner, run inside the client
// host's namespace by run.sh. It connects with the bunker:// URL given as its argument, then reads
// commands from stdin, one per line, and answers each with one JSON line on stdout:
//   sign <label>   sign a kind-1 event; {"step":label,"ok":true,"ms":…,"event":{…}} or {"ok":false,"error":…}
//   quit           close and exit
// nostr-tools has no request timeout (INTEROP.md), so every call has a deadline here.
import { createInterface } from 'node:readline';
import WebSocket from 'ws';
import { AbstractSimplePool } from 'nostr-tools/abstract-pool';
import { BunkerSigner, parseBunkerInput } from 'nostr-tools/nip46';
import { generateSecretKey, verifyEvent } from 'nostr-tools/pure';

const DEADLINE_MS = 20_000;
const say = (fields) => process.stdout.write(`${JSON.stringify(fields)}\n`);

function withDeadline(promise, ms, what) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: no reply within ${ms} ms`)), ms);
    promise.then(
      (value) => (clearTimeout(timer), resolve(value)),
      (error) => (clearTimeout(timer), reject(error instanceof Error ? error : new Error(String(error)))),
    );
  });
}

async function main() {
  const pointer = await parseBunkerInput(process.argv[2] ?? '');
  if (!pointer) throw new Error('usage: client.mjs <bunker://…>');
  const pool = new AbstractSimplePool({ verifyEvent, websocketImplementation: WebSocket, maxWaitForConnection: 5_000 });
  const signer = BunkerSigner.fromBunker(generateSecretKey(), pointer, { pool });
  let started = performance.now();
  await withDeadline(signer.connect(), DEADLINE_MS, 'connect');
  const pubkey = await withDeadline(signer.getPublicKey(), DEADLINE_MS, 'get_public_key');
  say({ step: 'connect', ok: true, ms: Math.round(performance.now() - started), pubkey, relays: pointer.relays });

  for await (const line of createInterface({ input: process.stdin })) {
    const [command, label = 'sign'] = line.trim().split(/\s+/);
    if (command === 'quit') break;
    if (command !== 'sign') {
      say({ step: label, ok: false, error: `unknown command ${command}` });
      continue;
    }
    const template = { kind: 1, content: `frostbunker netns test: ${label}`, tags: [['t', 'frostbunker']], created_at: Math.floor(Date.now() / 1000) };
    started = performance.now();
    try {
      const event = await withDeadline(signer.signEvent(template), DEADLINE_MS, `sign ${label}`);
      const valid = event.pubkey === pubkey && verifyEvent({ ...event }) && event.content === template.content;
      say({ step: label, ok: valid, ms: Math.round(performance.now() - started), event, ...(valid ? {} : { error: 'the reply is not a valid signature by the group key' }) });
    } catch (error) {
      say({ step: label, ok: false, ms: Math.round(performance.now() - started), error: error instanceof Error ? error.message : String(error) });
    }
  }
  await signer.close();
  pool.destroy();
}

main().then(
  () => process.exit(0),
  (error) => {
    say({ step: 'connect', ok: false, error: error instanceof Error ? error.message : String(error) });
    process.exit(1);
  },
);

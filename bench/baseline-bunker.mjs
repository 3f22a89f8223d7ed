// A minimal single-key NIP-46 bunker, the bench's baseline: what a NIP-46 round trip costs with
// no threshold signing behind it. nostr-tools (nip44, AbstractSimplePool on ws), one conversation
// key cached per client, one key signing everything. Not for real use: it signs any event for any
// client that knows the connect secret, and keeps nothing on disk.
//
//   node bench/baseline-bunker.mjs --relay ws://127.0.0.1:PORT [--relay …] [--crypto pure|wasm]
//
// --crypto pure (default): nostr-tools' pure-JS finalizeEvent / verifyEvent, what a typical
// single-key bunker runs. --crypto wasm: frostbunker's own event signer (shared/dist/nostr,
// libsecp256k1 in WebAssembly) for its events and the pool's checks, so the threshold bunker can
// also be compared with a single-key one on the same fast crypto (issue 9: "so nothing is hidden").
//
// Prints one line on stdout, `bunker://<pubkey>?relay=…&secret=…`, once its subscription is live
// (EOSE); logs to stderr. SIGTERM or SIGINT stops it.
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import * as pure from './nostr.mjs';
import { AbstractSimplePool, WebSocket, generateSecretKey, getPublicKey, nip44 } from './nostr.mjs';

const KIND_NIP46 = 24133;

const { values } = parseArgs({
  options: { relay: { type: 'string', multiple: true }, crypto: { type: 'string', default: 'pure' } },
  strict: true,
});
const relays = values.relay ?? [];
if (relays.length === 0 || !['pure', 'wasm'].includes(values.crypto)) {
  process.stderr.write('usage: baseline-bunker.mjs --relay <ws-url> [--relay …] [--crypto pure|wasm]\n');
  process.exit(2);
}
const { finalizeEvent, verifyEvent } = values.crypto === 'wasm' ? await loadEventSigner() : pure;

/** frostbunker's event signer, loaded only for --crypto wasm so the pure baseline stays nostr-tools only. */
async function loadEventSigner() {
  const signer = await import('../shared/dist/nostr/event-signer.js');
  await signer.initEventSigner();
  return signer;
}

// NIP-46 lets the remote-signer key differ from the user key; frostbunker's do, so these do too.
const userSecretKey = generateSecretKey();
const userPubkey = getPublicKey(userSecretKey);
const transportSecretKey = generateSecretKey();
const transportPubkey = getPublicKey(transportSecretKey);
const connectSecret = randomBytes(16).toString('hex');

/** Per-client conversation keys: the ECDH happens once per client, not once per request. */
const conversationKeys = new Map();
const conversationKey = (clientPubkey) => {
  let key = conversationKeys.get(clientPubkey);
  if (key === undefined) {
    key = nip44.getConversationKey(transportSecretKey, clientPubkey);
    conversationKeys.set(clientPubkey, key);
  }
  return key;
};

const pool = new AbstractSimplePool({ verifyEvent, websocketImplementation: WebSocket, maxWaitForConnection: 5_000 });
const seen = new Set();
let answered = 0;

function handle(event) {
  if (seen.has(event.id)) return;
  seen.add(event.id);
  if (seen.size > 100_000) seen.clear();
  let request;
  try {
    request = JSON.parse(nip44.decrypt(event.content, conversationKey(event.pubkey)));
  } catch {
    return; // not for us, or garbage: a bunker drops what it cannot read
  }
  if (typeof request?.id !== 'string') return;
  const params = Array.isArray(request.params) ? request.params : [];
  let response;
  try {
    response = { id: request.id, result: answer(request.method, params) };
  } catch (error) {
    response = { id: request.id, result: '', error: error instanceof Error ? error.message : String(error) };
  }
  const reply = finalizeEvent(
    {
      kind: KIND_NIP46,
      created_at: Math.floor(Date.now() / 1000),
      tags: [['p', event.pubkey]],
      content: nip44.encrypt(JSON.stringify(response), conversationKey(event.pubkey)),
    },
    transportSecretKey,
  );
  answered++;
  for (const published of pool.publish(relays, reply)) {
    published.catch((error) => process.stderr.write(`${JSON.stringify({ level: 'warn', msg: 'reply not published', error: String(error) })}\n`));
  }
}

function answer(method, params) {
  switch (method) {
    case 'connect':
      if (params[1] && params[1] !== connectSecret) throw new Error('wrong connect secret');
      return 'ack';
    case 'get_public_key':
      return userPubkey;
    case 'ping':
      return 'pong';
    case 'sign_event': {
      const template = JSON.parse(String(params[0]));
      const signed = finalizeEvent(
        { kind: template.kind, created_at: template.created_at, tags: template.tags ?? [], content: template.content ?? '' },
        userSecretKey,
      );
      return JSON.stringify(signed);
    }
    default:
      throw new Error(`unknown method: ${method}`);
  }
}

const subscription = pool.subscribe(
  relays,
  { kinds: [KIND_NIP46], '#p': [transportPubkey], since: Math.floor(Date.now() / 1000) - 10 },
  {
    onevent: handle,
    oneose: () => {
      const url = new URL(`bunker://${transportPubkey}`);
      for (const relay of relays) url.searchParams.append('relay', relay);
      url.searchParams.set('secret', connectSecret);
      process.stdout.write(`${url.toString()}\n`);
    },
  },
);

const stop = (signal) => {
  process.stderr.write(`${JSON.stringify({ level: 'info', msg: 'baseline bunker stopping', signal, answered })}\n`);
  subscription.close();
  pool.destroy();
  process.exit(0);
};
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));

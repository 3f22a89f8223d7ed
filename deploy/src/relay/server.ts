import type { AddressInfo } from 'node:net';
import { NostrRelay } from '@nostr-relay/core';
import {
  LogLevel,
  type Client,
  type ClientReadyState,
  type IncomingMessage,
  type Logger,
  type NostrRelayPlugin,
} from '@nostr-relay/common';
import { Validator } from '@nostr-relay/validator';
import { matchFilters, type Filter as NostrToolsFilter } from 'nostr-tools/filter';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { DEFAULT_EPHEMERAL_RETENTION, EphemeralRetention } from './ephemeral-retention.js';
import { parseEventFrame } from './event-frame.js';
import { useFastSignatureCheck } from './fast-signature-check.js';
import { FanOut } from './fan-out.js';
import { MemoryEventRepository, toNostrToolsFilter } from './memory-event-repository.js';

export type RelayLogLevel = 'debug' | 'info' | 'warn' | 'error';
/** Same shape as the shared `TransportLogger`, so one sink serves both. */
export type RelayLogger = (level: RelayLogLevel, msg: string, fields?: Record<string, unknown>) => void;

export interface LocalRelayOptions {
  /** Default 127.0.0.1. Anything but loopback needs `allowPublic`. */
  host?: string;
  /** Default 0: the OS picks a free port; read it back from the result. */
  port?: number;
  /** Required to bind a non-loopback host (the test relay has no auth and no rate limits). */
  allowPublic?: boolean;
  logger?: RelayLogger;
  /** Stored (non-ephemeral) events kept in memory. Default 10,000. */
  maxStoredEvents?: number;
  /**
   * How long, and how many, forwarded ephemeral events stay servable to later REQs (see
   * `EphemeralRetention`); `false` forwards them to live subscribers only. Default 120 s, 10,000.
   */
  ephemeralRetention?: { retentionSec: number; maxEvents: number } | false;
  /** Largest inbound WebSocket frame. Default 256 KiB. */
  maxFrameBytes?: number;
  /** Extra `@nostr-relay/core` plugins (e.g. strfry-like time rules for chaos tests). */
  plugins?: readonly NostrRelayPlugin[];
}

export interface LocalRelay {
  /** `ws://host:port` clients connect to. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** Terminates every client and stops listening; the port is free again when it resolves. */
  close(): Promise<void>;
}

const DEFAULT_MAX_FRAME_BYTES = 256 * 1024;
// @nostr-relay/core's per-client default; our mirror of a client's subscriptions uses the same cap.
const MAX_SUBSCRIPTIONS_PER_CLIENT = 20;

/** True for hosts that only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/**
 * Starts the embedded Nostr relay used by the lab and tests: `@nostr-relay/core` with
 * `@nostr-relay/validator` and a bounded in-memory repository, inside a `ws` server (INTEROP.md
 * "Local relay for tests"). It verifies ids and signatures (`OK false` otherwise; signatures
 * through libsecp256k1 in WebAssembly, `fast-signature-check.ts`), forwards ephemeral kinds and
 * keeps them servable for a bounded time (`EphemeralRetention`, like strfry).
 *
 * @example
 * const relay = await startLocalRelay();
 * const pool = new RelayPool({ urls: [relay.url] });
 */
export async function startLocalRelay(options: LocalRelayOptions = {}): Promise<LocalRelay> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 0;
  const log: RelayLogger = options.logger ?? (() => {});
  if (!isLoopbackHost(host) && options.allowPublic !== true) {
    throw new Error(`refusing to bind the test relay to non-loopback host ${host} (allowPublic / --allow-public)`);
  }
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new Error(`invalid port ${port}`);
  await useFastSignatureCheck();

  const retention =
    options.ephemeralRetention === false ? undefined : new EphemeralRetention(options.ephemeralRetention ?? DEFAULT_EPHEMERAL_RETENTION);
  const relay = new NostrRelay(new MemoryEventRepository(options.maxStoredEvents, retention), {
    logger: adaptLogger(log),
    logLevel: LogLevel.DEBUG,
    // Quirk: the result cache is keyed by event id only, so a forged event sent first would pin
    // `OK false` on the genuine one (retained duplicates are answered by EphemeralRetention, after
    // the genuine event passed every check).
    eventHandlingResultCacheTtl: 0,
    filterResultCacheTtl: 0,
    maxSubscriptionsPerClient: MAX_SUBSCRIPTIONS_PER_CLIENT,
  });
  if (retention !== undefined) relay.register(retention);
  for (const plugin of options.plugins ?? []) relay.register(plugin);
  // Last: it delivers live events itself and never hands them on to the core's fan-out.
  const fanOut = new FanOut();
  relay.register(fanOut);
  const validator = new Validator();

  const server = new WebSocketServer({ host, port, maxPayload: options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES });
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  server.on('error', (error) => log('error', 'relay server error', { error: error.message }));
  const address = server.address() as AddressInfo;
  const url = `ws://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;

  server.on('connection', (socket, request) => {
    acceptClient(socket, request.socket.remoteAddress, { relay, validator, fanOut, log });
  });
  log('info', 'relay listening', { url });

  let closing: Promise<void> | null = null;
  return {
    url,
    host: address.address,
    port: address.port,
    close: () => {
      closing ??= (async () => {
        for (const socket of server.clients) socket.terminate();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await relay.destroy();
        retention?.clear();
        log('info', 'relay closed', { url });
      })();
      return closing;
    },
  };
}

interface RelayParts {
  relay: NostrRelay;
  validator: Validator;
  fanOut: FanOut;
  log: RelayLogger;
}

function acceptClient(socket: WebSocket, ip: string | undefined, parts: RelayParts): void {
  const { relay, fanOut, log } = parts;
  // Each client's filters, mirrored from its REQs: `FanOut` matches live events against them in
  // full (tags included), and stored events sent in answer to a REQ are checked against them too.
  const subscriptions = new Map<string, NostrToolsFilter[]>();
  const client: Client = {
    get readyState() {
      return socket.readyState as ClientReadyState;
    },
    send(data: string, cb?: (err?: Error) => void) {
      if (!isWantedEventFrame(data, subscriptions)) return;
      socket.send(data, cb);
    },
  };
  relay.handleConnection(client, ip);
  fanOut.attach(socket, subscriptions);

  // One frame at a time, in order: validation is asynchronous, and a CLOSE overtaking its REQ
  // would leave the subscription open.
  let previous: Promise<void> = Promise.resolve();
  socket.on('message', (data: RawData, isBinary: boolean) => {
    if (isBinary) {
      sendFrame(socket, ['NOTICE', 'invalid: binary frames are not supported']);
      return;
    }
    const text = rawToText(data);
    previous = previous
      .then(() => handleFrame(text, socket, client, subscriptions, parts))
      .catch((error: unknown) => log('error', 'relay failed on a frame', { error: error instanceof Error ? error.message : String(error) }));
  });
  socket.on('close', () => {
    fanOut.detach(socket);
    relay.handleDisconnect(client);
    subscriptions.clear();
  });
  socket.on('error', (error) => log('debug', 'relay client socket error', { error: error.message }));
}

async function handleFrame(
  text: string,
  socket: WebSocket,
  client: Client,
  subscriptions: Map<string, NostrToolsFilter[]>,
  { relay, validator, log }: RelayParts,
): Promise<void> {
  let message: IncomingMessage;
  try {
    // Well-formed EVENTs by hand; everything else, and every error message, from the validator.
    message = parseEventFrame(text) ?? (await validator.validateIncomingMessage(text));
  } catch (error) {
    const reason = error instanceof Error ? error.message : 'invalid: message';
    // NIP-01: answer an EVENT with OK false when its id can be read, so the sender is not left waiting.
    const eventId = readEventId(text);
    sendFrame(socket, eventId === null ? ['NOTICE', reason] : ['OK', eventId, false, reason]);
    return;
  }
  if (message[0] === 'REQ') {
    const [, subscriptionId, ...filters] = message;
    subscriptions.delete(subscriptionId);
    // As the core does: a filter with `search` is dropped (not supported here).
    subscriptions.set(subscriptionId, filters.filter((f) => f.search === undefined).map(toNostrToolsFilter));
    if (subscriptions.size > MAX_SUBSCRIPTIONS_PER_CLIENT) {
      const oldest = subscriptions.keys().next();
      if (oldest.done !== true) subscriptions.delete(oldest.value);
    }
  } else if (message[0] === 'CLOSE') {
    subscriptions.delete(message[1]);
  }
  try {
    await relay.handleMessage(client, message);
  } catch (error) {
    log('error', 'relay failed to handle a message', { error: error instanceof Error ? error.message : String(error) });
    sendFrame(socket, ['NOTICE', 'error: internal']);
  }
}

function isWantedEventFrame(frame: string, subscriptions: Map<string, NostrToolsFilter[]>): boolean {
  if (!frame.startsWith('["EVENT"')) return true;
  const [, subscriptionId, event] = JSON.parse(frame) as [string, string, Parameters<typeof matchFilters>[1]];
  const filters = subscriptions.get(subscriptionId);
  return filters === undefined || matchFilters(filters, event);
}

function readEventId(text: string): string | null {
  try {
    const value: unknown = JSON.parse(text);
    if (!Array.isArray(value) || value[0] !== 'EVENT') return null;
    const event: unknown = value[1];
    if (typeof event !== 'object' || event === null || !('id' in event)) return null;
    return typeof event.id === 'string' && /^[0-9a-f]{64}$/.test(event.id) ? event.id : null;
  } catch {
    return null;
  }
}

function sendFrame(socket: WebSocket, message: unknown[]): void {
  if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(message));
}

function rawToText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.from(data).toString('utf8');
}

function adaptLogger(log: RelayLogger): Logger {
  const forward =
    (level: RelayLogLevel) =>
    (message: string, ...args: unknown[]): void =>
      log(level, message, args.length > 0 ? { details: args.map((a) => (a instanceof Error ? a.message : a)) } : undefined);
  return {
    setLogLevel: () => {},
    debug: forward('debug'),
    info: forward('info'),
    warn: forward('warn'),
    error: forward('error'),
  };
}

import type { AddressInfo } from 'node:net';
import { matchFilters, type Filter } from 'nostr-tools/filter';
import type { Event } from 'nostr-tools/pure';
import WebSocket, { WebSocketServer, type RawData } from 'ws';
import { startLocalRelay, type LocalRelay } from '@frostbunker/deploy/relay';

/** Which frames a fault applies to: EVENT frames, optionally only those by one author. */
export interface FaultScope {
  /** Only events whose `pubkey` is this (x-only hex). Default: every event. */
  pubkey?: string;
  /** `up`: client → relay (publishes); `down`: relay → client (deliveries). Default: both. */
  direction?: 'up' | 'down';
}

interface Fault {
  scope: FaultScope;
  drop: number;
  dup: number;
  delayMs: readonly [number, number];
}

/**
 * The chaos relay (RELIABILITY.md §3.1): the embedded relay (`@frostbunker/deploy/relay`, the
 * same code as the lab's relay process) behind a WebSocket proxy on 127.0.0.1 with a nemesis API.
 * Every message is signed and NIP-44 encrypted, so dropping, delaying, duplicating and killing is
 * exactly the power a malicious relay has. `kill()` closes every socket and stops listening;
 * `restart()` listens again on the same port with a fresh relay (ephemeral events are gone, as
 * after a real relay restart).
 */
export class ChaosRelay {
  #inner: LocalRelay | undefined;
  #server: WebSocketServer | undefined;
  #port = 0;
  #innerPort = 0;
  readonly #sockets = new Set<WebSocket>();
  /** Each client's live subscriptions, so `inject` can deliver as a relay would. */
  readonly #subscriptions = new Map<WebSocket, Map<string, Filter[]>>();
  #faults: Fault[] = [];
  /** Client connections whose subscriptions no longer get events (`blackhole`). */
  readonly #blackholed = new Set<WebSocket>();
  /** Frames seen and what the nemesis did with them (printed as figures). */
  readonly stats = { events: 0, dropped: 0, duplicated: 0, delayed: 0, kills: 0, connections: 0, blackholed: 0 };

  private constructor(readonly seed: number) {}

  static async start(options: { port?: number; seed?: number } = {}): Promise<ChaosRelay> {
    const relay = new ChaosRelay(options.seed ?? Date.now() % 1_000_000);
    relay.#rng = mulberry32(relay.seed);
    await relay.#listen(options.port ?? 0);
    return relay;
  }

  get url(): string {
    return `ws://127.0.0.1:${this.#port}`;
  }

  get running(): boolean {
    return this.#server !== undefined;
  }

  /** Drop each matching event with probability `p`. */
  drop(p: number, scope: FaultScope = {}): this {
    return this.#add({ scope, drop: p, dup: 0, delayMs: [0, 0] });
  }

  /** Delay each matching event by a uniform time in [minMs, maxMs] (so they also reorder). */
  delay(minMs: number, maxMs: number, scope: FaultScope = {}): this {
    return this.#add({ scope, drop: 0, dup: 0, delayMs: [minMs, maxMs] });
  }

  /** Send each matching event twice with probability `p`. */
  dup(p: number, scope: FaultScope = {}): this {
    return this.#add({ scope, drop: 0, dup: p, delayMs: [0, 0] });
  }

  /**
   * Silent subscription death (RELIABILITY.md G3): every client connection open now that has a REQ
   * whose `#p` filter names `subscriberPubkey` stops getting events, while its socket stays open,
   * its REQs are still answered with EOSE and its publishes still go through. A new connection from
   * the same client is not affected, as with a relay that lost one connection's subscription state.
   * Returns how many connections it hit.
   */
  blackhole(scope: { subscriberPubkey: string }): number {
    let hit = 0;
    for (const [socket, subscriptions] of this.#subscriptions) {
      const named = [...subscriptions.values()].some((filters) => filters.some((filter) => filter['#p']?.includes(scope.subscriberPubkey) === true));
      if (!named || this.#blackholed.has(socket)) continue;
      this.#blackholed.add(socket);
      hit++;
    }
    return hit;
  }

  /**
   * Delivers `event` to every client subscription it matches, as a malicious relay can: it skips
   * the relay's own id and signature checks (forged events reach the subscribers). Returns how
   * many subscriptions got it.
   */
  inject(event: Event): number {
    let delivered = 0;
    for (const [socket, subscriptions] of this.#subscriptions) {
      for (const [subscriptionId, filters] of subscriptions) {
        if (!matchFilters(filters, event) || socket.readyState !== WebSocket.OPEN || this.#blackholed.has(socket)) continue;
        socket.send(JSON.stringify(['EVENT', subscriptionId, event]));
        delivered++;
      }
    }
    return delivered;
  }

  /** Removes every fault, blackholes included: a healthy relay again. */
  heal(): this {
    this.#faults = [];
    this.#blackholed.clear();
    return this;
  }

  /** Terminates every client socket and the relay; the port stops answering. */
  async kill(): Promise<void> {
    if (!this.#server) return;
    this.stats.kills++;
    const server = this.#server;
    this.#server = undefined;
    for (const socket of this.#sockets) socket.terminate();
    this.#sockets.clear();
    this.#subscriptions.clear();
    this.#blackholed.clear();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await this.#inner?.close();
    this.#inner = undefined;
  }

  /** Listens again on the same port (and the relay behind it on its same port). */
  async restart(): Promise<void> {
    if (this.#server) return;
    await this.#listen(this.#port);
  }

  async close(): Promise<void> {
    await this.kill();
  }

  #rng: () => number = Math.random;

  #add(fault: Fault): this {
    this.#faults.push(fault);
    return this;
  }

  async #listen(port: number): Promise<void> {
    this.#inner = await startLocalRelay({ host: '127.0.0.1', port: this.#innerPort });
    this.#innerPort = this.#inner.port;
    const server = new WebSocketServer({ host: '127.0.0.1', port, maxPayload: 1024 * 1024 });
    await new Promise<void>((resolve, reject) => {
      server.once('listening', resolve);
      server.once('error', reject);
    });
    this.#port = (server.address() as AddressInfo).port;
    this.#server = server;
    server.on('connection', (client) => this.#proxy(client));
  }

  #proxy(client: WebSocket): void {
    this.stats.connections++;
    const upstream = new WebSocket(this.#inner!.url);
    this.#sockets.add(client);
    this.#sockets.add(upstream);
    const queued: string[] = [];
    const toUpstream = (frame: string) => {
      if (upstream.readyState === WebSocket.OPEN) upstream.send(frame);
      else if (upstream.readyState === WebSocket.CONNECTING) queued.push(frame);
    };
    const toClient = (frame: string) => {
      if (client.readyState === WebSocket.OPEN) client.send(frame);
    };
    upstream.on('open', () => {
      for (const frame of queued.splice(0)) upstream.send(frame);
    });
    const subscriptions = new Map<string, Filter[]>();
    this.#subscriptions.set(client, subscriptions);
    client.on('message', (data: RawData) => {
      const frame = text(data);
      trackSubscription(frame, subscriptions);
      this.#forward(frame, 'up', toUpstream);
    });
    upstream.on('message', (data: RawData) => {
      const frame = text(data);
      if (this.#blackholed.has(client) && frame.startsWith('["EVENT"')) {
        this.stats.blackholed++;
        return;
      }
      this.#forward(frame, 'down', toClient);
    });
    const closeBoth = () => {
      this.#subscriptions.delete(client);
      this.#blackholed.delete(client);
      this.#sockets.delete(client);
      this.#sockets.delete(upstream);
      client.terminate();
      upstream.terminate();
    };
    client.on('close', closeBoth);
    upstream.on('close', closeBoth);
    client.on('error', closeBoth);
    upstream.on('error', closeBoth);
  }

  #forward(frame: string, direction: 'up' | 'down', send: (frame: string) => void): void {
    const author = eventAuthor(frame, direction);
    if (author === undefined) return send(frame);
    this.stats.events++;
    let copies = 1;
    let delayMs = 0;
    for (const fault of this.#faults) {
      if (fault.scope.direction !== undefined && fault.scope.direction !== direction) continue;
      if (fault.scope.pubkey !== undefined && fault.scope.pubkey !== author) continue;
      if (fault.drop > 0 && this.#rng() < fault.drop) copies = 0;
      if (fault.dup > 0 && this.#rng() < fault.dup && copies > 0) copies = 2;
      const [min, max] = fault.delayMs;
      if (max > 0) delayMs = Math.max(delayMs, min + this.#rng() * (max - min));
    }
    if (copies === 0) {
      this.stats.dropped++;
      return;
    }
    if (copies === 2) this.stats.duplicated++;
    const deliver = () => {
      for (let i = 0; i < copies; i++) send(frame);
    };
    if (delayMs > 0) {
      this.stats.delayed++;
      setTimeout(deliver, delayMs);
    } else deliver();
  }
}

function trackSubscription(frame: string, subscriptions: Map<string, Filter[]>): void {
  if (!frame.startsWith('["REQ"') && !frame.startsWith('["CLOSE"')) return;
  try {
    const [verb, subscriptionId, ...filters] = JSON.parse(frame) as [string, string, ...Filter[]];
    if (verb === 'REQ') subscriptions.set(subscriptionId, filters);
    else subscriptions.delete(subscriptionId);
  } catch {
    // Not ours to judge: the relay answers malformed frames.
  }
}

/** The author of an EVENT frame (`["EVENT", ev]` up, `["EVENT", sub, ev]` down), else undefined. */
function eventAuthor(frame: string, direction: 'up' | 'down'): string | undefined {
  if (!frame.startsWith('["EVENT"')) return undefined;
  try {
    const parsed = JSON.parse(frame) as unknown[];
    const event = parsed[direction === 'up' ? 1 : 2] as { pubkey?: unknown } | undefined;
    return typeof event?.pubkey === 'string' ? event.pubkey : '';
  } catch {
    return '';
  }
}

function text(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.from(data).toString('utf8');
}

/** A small seeded PRNG, so a chaos run prints a seed that reproduces its fault schedule. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

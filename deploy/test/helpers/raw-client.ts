import { WebSocket, WebSocketServer } from 'ws';
import type { AddressInfo } from 'node:net';

/** A bare NIP-01 client for poking relays directly (no pool, no verification). */
export interface RawClient {
  readonly frames: unknown[][];
  send(message: unknown[]): void;
  /** Resolves with the first received frame matching `predicate`. */
  next(predicate: (frame: unknown[]) => boolean, timeoutMs?: number): Promise<unknown[]>;
  close(): Promise<void>;
}

export async function openRawClient(url: string): Promise<RawClient> {
  const socket = new WebSocket(url);
  const frames: unknown[][] = [];
  const waiters = new Set<{ predicate: (frame: unknown[]) => boolean; resolve: (frame: unknown[]) => void }>();
  socket.on('message', (data) => {
    const frame = JSON.parse(String(data)) as unknown[];
    frames.push(frame);
    for (const waiter of [...waiters]) {
      if (waiter.predicate(frame)) {
        waiters.delete(waiter);
        waiter.resolve(frame);
      }
    }
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  return {
    frames,
    send: (message) => socket.send(JSON.stringify(message)),
    next: (predicate, timeoutMs = 3_000) => {
      const already = frames.find(predicate);
      if (already !== undefined) return Promise.resolve(already);
      return new Promise((resolve, reject) => {
        const waiter = {
          predicate,
          resolve: (frame: unknown[]) => {
            clearTimeout(timer);
            resolve(frame);
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error('raw client: no matching frame'));
        }, timeoutMs);
        waiters.add(waiter);
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        if (socket.readyState === socket.CLOSED) return resolve();
        socket.once('close', () => resolve());
        socket.terminate();
      }),
  };
}

/**
 * A hostile (or merely naive) relay: it answers every EVENT with `OK true` and forwards it to every
 * subscription of every client, ignoring filters and never checking ids, signatures or timestamps.
 * That is exactly the power an untrusted relay has (RELIABILITY.md §2.3).
 */
export interface HostileRelay {
  readonly url: string;
  /** Sends `event` to every open subscription as if it had been published. */
  inject(event: unknown): void;
  /** Number of client subscriptions currently open. */
  subscriptionCount(): number;
  close(): Promise<void>;
}

export interface HostileRelayOptions {
  /** Answer the first REQ of each connection with `CLOSED` and this reason instead of EOSE. */
  closeFirstReqWith?: string;
  /** The first connection's subscriptions get EOSE but never an event (a silently dead subscription). */
  deafFirstConnection?: boolean;
}

export async function startHostileRelay(options: HostileRelayOptions = {}): Promise<HostileRelay> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const subscriptions = new Map<WebSocket, Set<string>>();
  const deaf = new Set<WebSocket>();
  const inject = (event: unknown): void => {
    for (const [socket, ids] of subscriptions) {
      if (deaf.has(socket)) continue;
      for (const id of ids) socket.send(JSON.stringify(['EVENT', id, event]));
    }
  };
  let connections = 0;
  server.on('connection', (socket) => {
    connections += 1;
    if (connections === 1 && options.deafFirstConnection === true) deaf.add(socket);
    subscriptions.set(socket, new Set());
    let reqCount = 0;
    socket.on('close', () => subscriptions.delete(socket));
    socket.on('message', (data) => {
      const message = JSON.parse(String(data)) as unknown[];
      const ids = subscriptions.get(socket);
      if (message[0] === 'REQ' && typeof message[1] === 'string') {
        reqCount += 1;
        if (reqCount === 1 && options.closeFirstReqWith !== undefined) {
          socket.send(JSON.stringify(['CLOSED', message[1], options.closeFirstReqWith]));
          return;
        }
        ids?.add(message[1]);
        socket.send(JSON.stringify(['EOSE', message[1]]));
      } else if (message[0] === 'CLOSE' && typeof message[1] === 'string') {
        ids?.delete(message[1]);
      } else if (message[0] === 'EVENT') {
        const event = message[1] as { id: string };
        socket.send(JSON.stringify(['OK', event.id, true, '']));
        inject(event);
      }
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `ws://127.0.0.1:${port}`,
    inject,
    subscriptionCount: () => [...subscriptions.values()].reduce((n, ids) => n + ids.size, 0),
    close: async () => {
      for (const socket of server.clients) socket.terminate();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A TCP port that was free a moment ago (bind 0, read it, release it). */
export async function freePort(): Promise<number> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

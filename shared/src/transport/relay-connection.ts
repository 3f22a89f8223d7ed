import type { RawData, WebSocket } from 'ws';
import type { TransportLogger } from './logger.js';

const CLOSE_WAIT_MS = 1_000;

/** The `ws` WebSocket class, or a stand-in with the same constructor and events (tests). */
export type WebSocketConstructor = typeof WebSocket;

export interface BackoffMs {
  initial: number;
  max: number;
}

export interface RelayConnectionOptions {
  url: string;
  WebSocket: WebSocketConstructor;
  backoffMs: BackoffMs;
  connectTimeoutMs: number;
  /** 0 disables the dead-socket ping. */
  pingIntervalMs: number;
  maxFrameBytes: number;
  logger: TransportLogger;
  random: () => number;
  nowMs: () => number;
  onOpen: (connection: RelayConnection) => void;
  onFrame: (connection: RelayConnection, frame: string) => void;
  /** A frame was dropped unread: over `maxFrameBytes`, or binary (NIP-01 frames are text). */
  onRejectedFrame: (connection: RelayConnection, reason: 'oversize' | 'binary') => void;
  onClose: (connection: RelayConnection) => void;
}

/** Per-relay health as `RelayPool.health()` reports it. */
export interface RelayConnectionHealth {
  url: string;
  connected: boolean;
  /** Wall-clock ms of the latest successful open, or null if never connected. */
  lastConnectedAtMs: number | null;
  lastError: string | null;
  /** Successful opens after the first one. */
  reconnects: number;
}

/**
 * One relay socket that never gives up: it connects at `start()`, and after a failed connect or a
 * drop it retries with exponential backoff (default 0.5 s → 2 s, see RelayPoolOptions.backoffMs) until `close()`. This is
 * the behaviour nostr-tools' `AbstractRelay` lacks (RELIABILITY.md finding 2: no reconnect by
 * default, and none at all if the first connect fails).
 */
export class RelayConnection {
  readonly url: string;
  readonly #options: RelayConnectionOptions;
  #socket: WebSocket | null = null;
  #connected = false;
  #closed = false;
  #consecutiveFailures = 0;
  #everConnected = false;
  #reconnects = 0;
  #lastConnectedAtMs: number | null = null;
  #lastError: string | null = null;
  #reconnectTimer: NodeJS.Timeout | null = null;
  #pingTimer: NodeJS.Timeout | null = null;
  #awaitingPong = false;
  /** Why we dropped the socket ourselves, for the log and `lastError` of its close. */
  #dropReason: string | null = null;

  constructor(options: RelayConnectionOptions) {
    this.url = options.url;
    this.#options = options;
  }

  get connected(): boolean {
    return this.#connected;
  }

  health(): RelayConnectionHealth {
    return {
      url: this.url,
      connected: this.#connected,
      lastConnectedAtMs: this.#lastConnectedAtMs,
      lastError: this.#lastError,
      reconnects: this.#reconnects,
    };
  }

  start(): void {
    if (this.#closed || this.#socket !== null || this.#reconnectTimer !== null) return;
    this.#connect();
  }

  /** Sends one frame if the socket is open; returns false (frame not sent) otherwise. */
  send(frame: string): boolean {
    const socket = this.#socket;
    if (!this.#connected || socket === null) return false;
    try {
      socket.send(frame);
      return true;
    } catch (error) {
      this.#lastError = errorMessage(error);
      return false;
    }
  }

  /**
   * Drops the current socket so it is replaced by a fresh one (after the usual backoff): for a
   * connection that is open but no longer delivers (a silently dead subscription).
   */
  reconnect(reason: string): void {
    const socket = this.#socket;
    if (this.#closed || socket === null || !this.#connected) return;
    this.#dropReason = reason;
    socket.terminate();
  }

  /** Stops for good: no reconnect, timers cleared, socket terminated. Resolves once it is closed. */
  close(): Promise<void> {
    this.#closed = true;
    this.#clearReconnectTimer();
    this.#stopPing();
    const socket = this.#socket;
    this.#socket = null;
    const wasConnected = this.#connected;
    this.#connected = false;
    if (wasConnected) this.#options.onClose(this);
    if (socket === null || socket.readyState === socket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      // Bounded wait: a stand-in socket that never emits 'close' must not hang the caller.
      const fallback = setTimeout(resolve, CLOSE_WAIT_MS);
      socket.once('close', () => {
        clearTimeout(fallback);
        resolve();
      });
      socket.terminate();
    });
  }

  #connect(): void {
    this.#reconnectTimer = null;
    if (this.#closed) return;
    const { WebSocket: WebSocketImpl, url, connectTimeoutMs, maxFrameBytes, logger } = this.#options;
    let socket: WebSocket;
    try {
      socket = new WebSocketImpl(url, { handshakeTimeout: connectTimeoutMs, maxPayload: maxFrameBytes });
    } catch (error) {
      this.#lastError = errorMessage(error);
      this.#scheduleReconnect();
      return;
    }
    this.#socket = socket;
    logger('debug', 'relay connecting', { url });

    socket.on('open', () => {
      if (socket !== this.#socket) return;
      this.#connected = true;
      this.#consecutiveFailures = 0;
      this.#lastConnectedAtMs = this.#options.nowMs();
      if (this.#everConnected) this.#reconnects += 1;
      this.#everConnected = true;
      this.#startPing(socket);
      logger('info', 'relay connected', { url, reconnects: this.#reconnects });
      this.#options.onOpen(this);
    });
    socket.on('message', (data: RawData, isBinary: boolean) => {
      if (socket !== this.#socket) return;
      if (isBinary) {
        this.#options.onRejectedFrame(this, 'binary');
        return;
      }
      const frame = frameToText(data, maxFrameBytes);
      if (frame === null) {
        this.#options.onRejectedFrame(this, 'oversize');
        return;
      }
      this.#options.onFrame(this, frame);
    });
    socket.on('pong', () => {
      this.#awaitingPong = false;
    });
    // ws always emits 'close' after 'error'; reconnecting happens there.
    socket.on('error', (error: Error) => {
      if (socket !== this.#socket) return;
      this.#lastError = errorMessage(error);
    });
    socket.on('close', (code: number, reason: Buffer) => {
      if (socket !== this.#socket) return;
      this.#socket = null;
      this.#stopPing();
      const wasConnected = this.#connected;
      this.#connected = false;
      const dropReason = this.#dropReason;
      this.#dropReason = null;
      if (wasConnected) {
        const why = dropReason ?? (reason.length > 0 ? reason.toString('utf8').slice(0, 200) : `close code ${code}`);
        this.#lastError = `disconnected: ${why}`;
        logger('warn', 'relay disconnected', { url, code, reason: why });
        this.#options.onClose(this);
      }
      this.#scheduleReconnect();
    });
  }

  #scheduleReconnect(): void {
    if (this.#closed || this.#reconnectTimer !== null) return;
    const { initial, max } = this.#options.backoffMs;
    const base = Math.min(max, initial * 2 ** Math.min(this.#consecutiveFailures, 30));
    // Up to 20 % jitter below the base so reconnecting peers spread out without exceeding `max`.
    const delayMs = Math.round(base * (0.8 + 0.2 * this.#options.random()));
    this.#consecutiveFailures += 1;
    this.#options.logger('debug', 'relay reconnect scheduled', {
      url: this.url,
      delayMs,
      lastError: this.#lastError,
    });
    this.#reconnectTimer = setTimeout(() => this.#connect(), delayMs);
  }

  #clearReconnectTimer(): void {
    if (this.#reconnectTimer !== null) clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = null;
  }

  // A socket can stay open while the path is dead (no FIN, e.g. a partition): no pong within one
  // interval terminates it, and 'close' then reconnects.
  #startPing(socket: WebSocket): void {
    const { pingIntervalMs } = this.#options;
    if (pingIntervalMs <= 0) return;
    this.#awaitingPong = false;
    this.#pingTimer = setInterval(() => {
      if (this.#awaitingPong) {
        this.#lastError = 'ping timeout';
        this.#options.logger('warn', 'relay ping timeout', { url: this.url });
        socket.terminate();
        return;
      }
      this.#awaitingPong = true;
      try {
        socket.ping();
      } catch {
        // The socket is closing; 'close' handles the rest.
      }
    }, pingIntervalMs);
  }

  #stopPing(): void {
    if (this.#pingTimer !== null) clearInterval(this.#pingTimer);
    this.#pingTimer = null;
    this.#awaitingPong = false;
  }
}

function frameToText(data: RawData, maxFrameBytes: number): string | null {
  // `maxPayload` already makes ws close on larger frames; this guards stand-in implementations.
  const buffer = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
  return buffer.length > maxFrameBytes ? null : buffer.toString('utf8');
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

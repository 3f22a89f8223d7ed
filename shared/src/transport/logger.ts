/** Log levels the transport layer emits. */
export type TransportLogLevel = 'debug' | 'info' | 'warn' | 'error';

/**
 * Structured log sink injected into the relay pool and transports (STYLE.md 2.7). Fields never
 * carry secrets or message plaintext: only urls, ids, counts and relay-supplied reasons.
 */
export type TransportLogger = (level: TransportLogLevel, msg: string, fields?: Record<string, unknown>) => void;

export const silentLogger: TransportLogger = () => {};

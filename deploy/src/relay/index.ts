export { isLoopbackHost, startLocalRelay, type LocalRelay, type LocalRelayOptions, type RelayLogger, type RelayLogLevel } from './server.js';
export { MemoryEventRepository } from './memory-event-repository.js';
export { DEFAULT_EPHEMERAL_RETENTION, EphemeralRetention, type EphemeralRetentionOptions } from './ephemeral-retention.js';

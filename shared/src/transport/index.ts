export type { DropReason, ReceivedMessage, SendOptions, Transport } from './transport.js';
export type { TransportLogger, TransportLogLevel } from './logger.js';
export { silentLogger } from './logger.js';
export {
  PublishError,
  RelayPool,
  type BackoffMs,
  type InvalidEventReason,
  type PoolSubscription,
  type PublishRejection,
  type PublishResult,
  type RelayHealth,
  type RelayPoolCounters,
  type RelayPoolOptions,
  type RelayPoolPort,
  type SubscribeOptions,
  type WebSocketConstructor,
} from './relay-pool.js';
export { RelayTransport, type RelayTransportOptions } from './relay.js';
export { ReplyRedelivery, type ReplyRedeliveryOptions } from './reply-redelivery.js';
export {
  createMemoryNetwork,
  type MemoryFault,
  type MemoryNetwork,
  type MemoryNetworkStats,
  type MemoryTransportOptions,
} from './memory.js';
export { BoundedTtlSet, type BoundedTtlSetOptions } from './bounded-ttl-set.js';

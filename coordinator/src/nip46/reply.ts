import { FrostbunkerError, type ErrorCode } from '@frostbunker/shared/errors';
import type { Nip46Response } from '@frostbunker/shared/protocol';

/** code -> whether the error's own message is safe and useful to show the client. */
const CLIENT_VISIBLE: Record<ErrorCode, boolean> = {
  PROTOCOL_INVALID: true,
  PROTOCOL_TOO_LARGE: true,
  METHOD_UNKNOWN: true,
  ACL_DENIED: true,
  ACL_ASK: true,
  VETOED: true,
  QUORUM_UNAVAILABLE: true,
  TIMEOUT: true,
  SHARE_INVALID: false,
  CHEATER_DETECTED: true,
  NONCE_REUSED: false,
  CONFIG_INVALID: false,
  STORE_FAILED: false,
  INTERNAL: false,
};

/** The one place an error becomes a NIP-46 error string; internals stay in the log (STYLE.md 2.6). */
export function errorReply(requestId: string, error: unknown): Nip46Response {
  const visible = error instanceof FrostbunkerError && CLIENT_VISIBLE[error.code];
  return { id: requestId, result: '', error: visible ? error.message : 'internal error' };
}

export function resultReply(requestId: string, result: string): Nip46Response {
  return { id: requestId, result };
}

/** NIP-46 auth_url: `result` "auth_url", the URL in `error`; the real reply follows with the same id. */
export function authUrlReply(requestId: string, url: string): Nip46Response {
  return { id: requestId, result: 'auth_url', error: url };
}

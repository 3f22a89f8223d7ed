import { FrostbunkerError, type ErrorCode } from '@frostbunker/shared/errors';
import { z } from 'zod';

/** Codes only the admin API produces, beside the domain's `ErrorCode`s. */
export type AdminErrorCode =
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'INVALID_REQUEST'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'UNAVAILABLE';

/** An expected refusal of an admin request: its status and message are meant for the caller. */
export class AdminError extends Error {
  override name = 'AdminError';
  constructor(
    readonly statusCode: number,
    readonly code: AdminErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** The body of every error response. */
export const errorBodySchema = z.strictObject({
  error: z.strictObject({ code: z.string(), message: z.string() }),
});
export type ErrorBody = z.infer<typeof errorBodySchema>;

/**
 * Domain code -> HTTP status, and whether the message is safe to show (the same split as
 * nip46/reply.ts): a 5xx never carries the error's own message.
 */
const DOMAIN_STATUS: Record<ErrorCode, number> = {
  PROTOCOL_INVALID: 400,
  PROTOCOL_TOO_LARGE: 413,
  METHOD_UNKNOWN: 400,
  CONFIG_INVALID: 400,
  ACL_DENIED: 403,
  ACL_ASK: 403,
  VETOED: 409,
  QUORUM_UNAVAILABLE: 503,
  TIMEOUT: 504,
  SHARE_INVALID: 500,
  CHEATER_DETECTED: 500,
  NONCE_REUSED: 500,
  STORE_FAILED: 500,
  INTERNAL: 500,
};

/** Fastify's own 4xx errors (bad JSON, wrong content type, body too large) by status. */
const FRAMEWORK_CODES: Record<number, AdminErrorCode> = { 413: 'PAYLOAD_TOO_LARGE', 415: 'UNSUPPORTED_MEDIA_TYPE' };

/** The one place an error becomes an HTTP status and body; `internal` says whether to log it. */
export function toErrorReply(error: unknown): { statusCode: number; body: ErrorBody; internal: boolean } {
  if (error instanceof AdminError) return reply(error.statusCode, error.code, error.message);
  if (error instanceof FrostbunkerError) {
    // The store refused the change (and its audit row): say so, so the operator knows nothing changed.
    if (error.code === 'STORE_FAILED') return { ...reply(503, 'STORE_FAILED', 'the change could not be recorded in the audit log, so it was not made'), internal: true };
    const statusCode = DOMAIN_STATUS[error.code] ?? 500;
    return statusCode < 500 ? reply(statusCode, error.code, error.message) : internalError();
  }
  if (isFrameworkClientError(error)) {
    return reply(error.statusCode, FRAMEWORK_CODES[error.statusCode] ?? 'INVALID_REQUEST', error.message);
  }
  return internalError();
}

export function notFoundBody(method: string, url: string): ErrorBody {
  return { error: { code: 'NOT_FOUND', message: `no route ${method} ${url.split('?')[0]}` } };
}

/** The issues of a failed parse as one line: `body.ttlSec: Too small: expected number to be >0`. */
export function describeIssues(where: 'params' | 'query' | 'body', error: z.ZodError): string {
  const named = error.issues.slice(0, 5).map((issue) => `${[where, ...issue.path.map(String)].join('.')}: ${issue.message}`);
  return named.join('; ') + (error.issues.length > 5 ? `; and ${error.issues.length - 5} more` : '');
}

function reply(statusCode: number, code: string, message: string) {
  return { statusCode, body: { error: { code, message } }, internal: false };
}

function internalError() {
  return { statusCode: 500, body: { error: { code: 'INTERNAL', message: 'internal error' } }, internal: true };
}

/** Fastify marks the errors it raises while reading a request with `FST_` codes and a 4xx status. */
function isFrameworkClientError(error: unknown): error is { statusCode: number; message: string } {
  if (typeof error !== 'object' || error === null) return false;
  const { code, statusCode } = error as { code?: unknown; statusCode?: unknown };
  return typeof code === 'string' && code.startsWith('FST_') && typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500;
}

/** Stable error codes: callers branch on `code`, never on message text (STYLE.md 2.6). */
export type ErrorCode =
  | 'PROTOCOL_INVALID'
  | 'PROTOCOL_TOO_LARGE'
  | 'METHOD_UNKNOWN'
  | 'ACL_DENIED'
  | 'ACL_ASK'
  | 'VETOED'
  | 'QUORUM_UNAVAILABLE'
  | 'TIMEOUT'
  | 'SHARE_INVALID'
  | 'CHEATER_DETECTED'
  | 'NONCE_REUSED'
  | 'CONFIG_INVALID'
  | 'STORE_FAILED'
  | 'INTERNAL';

export class FrostbunkerError extends Error {
  override name = 'FrostbunkerError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export class ProtocolError extends FrostbunkerError {
  override name = 'ProtocolError';
}

/** A configuration problem found at boot; the message names the field. */
export class ConfigError extends FrostbunkerError {
  override name = 'ConfigError';
  constructor(
    readonly field: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super('CONFIG_INVALID', `${field}: ${message}`, options);
  }
}

/** A share node refused to co-sign; sticky, never a reason to fail over. */
export class VetoError extends FrostbunkerError {
  override name = 'VetoError';
  constructor(
    readonly nodeId: string,
    readonly reason: string,
  ) {
    super('VETOED', `vetoed by ${nodeId}: ${reason}`);
  }
}

/** One or more signers sent material that does not verify; `culprits` are their identifiers. */
export class CheaterError extends FrostbunkerError {
  override name = 'CheaterError';
  constructor(readonly culprits: readonly string[]) {
    super('CHEATER_DETECTED', `invalid signature share from ${culprits.join(', ')}`);
  }
}

export class QuorumError extends FrostbunkerError {
  override name = 'QuorumError';
  constructor(
    message: string,
    readonly missing: readonly string[],
  ) {
    super('QUORUM_UNAVAILABLE', message);
  }
}

/**
 * Redaction for secret-bearing types: every way Node turns an object into text gives the same
 * placeholder, so a share or nonce cannot leak through a log line, an error message or JSON.
 */

/** What a secret prints as, everywhere. */
export const REDACTED = '<redacted>';

const inspectCustom = Symbol.for('nodejs.util.inspect.custom');

/** Returns the placeholder whatever it is given, for logging call sites that hold a secret. */
export function redact(_secret: unknown): typeof REDACTED {
  return REDACTED;
}

/**
 * Base class for secrets: `String()`, template literals, `JSON.stringify` and `util.inspect` all
 * give `<redacted>`. Subclasses keep their secret bytes out of own properties (in a module-private
 * WeakMap), so structured cloning or `Object.entries` cannot reach them either.
 */
export abstract class RedactedSecret {
  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspectCustom](): string {
    return REDACTED;
  }
}

import { LIMITS } from '@frostbunker/shared/protocol';

/**
 * Makes a string safe to put in a refusal or a log line: control characters become spaces and
 * the result is cut to `maxChars` (default LIMITS.refusalReasonChars, what a refusal can carry).
 * Plugin reasons and event values are untrusted display strings (STYLE.md 2.1, Signet lesson).
 */
export function boundReason(text: string, maxChars: number = LIMITS.refusalReasonChars): string {
  // eslint-disable-next-line no-control-regex
  const clean = text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, ' ');
  return clean.length <= maxChars ? clean : `${clean.slice(0, maxChars - 1)}…`;
}

import { ProtocolError } from '@frostbunker/shared/errors';
import { Nip46Method, sanitize, type Nip46MethodName } from '@frostbunker/shared/protocol';
import type { GrantTemplate, UsageCap } from './types.js';

/*
 * The NIP-46 perms grammar (INTEROP.md): comma-separated `method[:param]`, e.g.
 * `sign_event:1,sign_event:7,nip44_encrypt`. NIP-46 gives a param meaning only for `sign_event`
 * (the kind; bare `sign_event` means every kind, and we also accept `sign_event:*`).
 *
 * Two readers use it: a `bunker://` token's perms, written by the operator, become exactly those
 * grants; a client's requested perms (connect params[2], nostrconnect `perms=`) are shown to the
 * operator and never trusted. So the parser is strict where strictness fails safe and lenient
 * only where leniency cannot widen a grant:
 * - whitespace around items, methods and params is ignored; empty items (`a,,b`, a trailing
 *   comma) are skipped; exact duplicates collapse; the empty string is no perms at all;
 * - method names are case-sensitive NIP-46 spellings; an unknown method is an error naming it;
 * - a param on any method but `sign_event` is refused, not ignored: dropping
 *   `nip44_encrypt:<pubkey>` would grant more than was written;
 * - a kind is decimal digits, 0..65535; anything else is an error naming the item;
 * - more than MAX_PERMS_CHARS characters is refused before any splitting.
 */

/** The same bound NIP-46 `connect` params get (shared/protocol nip46.ts). */
export const MAX_PERMS_CHARS = 4_096;
const MAX_KIND = 65_535;
const KIND_DIGITS = /^[0-9]{1,5}$/;
/** How many problems an error message names; the `problems` array keeps them all. */
const NAMED_PROBLEMS = 5;

type SignEventMethod = typeof Nip46Method.signEvent;

/** One permission. A `sign_event` perm always carries its kind scope (`'*'` = every kind). */
export type PermSpec =
  | { method: SignEventMethod; kind: number | '*' }
  | { method: Exclude<Nip46MethodName, SignEventMethod> };

export type PermProblemKind = 'unknown_method' | 'invalid_kind' | 'unexpected_param';

/** One bad item; `item` is sanitised (printable ASCII, bounded) and safe to show or log. */
export interface PermProblem {
  item: string;
  problem: PermProblemKind;
}

export type PermsParse =
  | { ok: true; perms: PermSpec[] }
  /** `recognized`: the valid items, for display only — a failed parse grants nothing. */
  | { ok: false; error: ProtocolError; problems: PermProblem[]; recognized: PermSpec[] };

const KNOWN_METHODS: ReadonlySet<string> = new Set<string>(Object.values(Nip46Method));

/**
 * Parses a perms string into canonical (deduplicated, sorted) specs, or returns the problems.
 * Total: never throws.
 *
 * @example safeParsePerms('sign_event:1, nip44_encrypt') // { ok: true, perms: [{ method: 'nip44_encrypt' }, { method: 'sign_event', kind: 1 }] }
 */
export function safeParsePerms(text: string): PermsParse {
  if (typeof text !== 'string') {
    return { ok: false, error: new ProtocolError('PROTOCOL_INVALID', 'perms must be a string'), problems: [], recognized: [] };
  }
  if (text.length > MAX_PERMS_CHARS) {
    const error = new ProtocolError('PROTOCOL_TOO_LARGE', `perms longer than ${MAX_PERMS_CHARS} characters`);
    return { ok: false, error, problems: [], recognized: [] };
  }
  const recognized: PermSpec[] = [];
  const problems: PermProblem[] = [];
  for (const raw of text.split(',')) {
    const item = raw.trim();
    if (item === '') continue;
    const parsed = parseItem(item);
    if ('problem' in parsed) problems.push({ item: sanitize(item), problem: parsed.problem });
    else recognized.push(parsed);
  }
  const perms = canonicalPerms(recognized);
  if (problems.length === 0) return { ok: true, perms };
  const code = problems.every((p) => p.problem === 'unknown_method') ? 'METHOD_UNKNOWN' : 'PROTOCOL_INVALID';
  return { ok: false, error: new ProtocolError(code, describeProblems(problems)), problems, recognized: perms };
}

/** Like `safeParsePerms`, but throws its `ProtocolError` (STYLE.md 2.3 rule 7). */
export function parsePerms(text: string): PermSpec[] {
  const result = safeParsePerms(text);
  if (!result.ok) throw result.error;
  return result.perms;
}

/**
 * The canonical perms string: deduplicated, sorted by method then kind (`*` first), bare
 * `sign_event` for every kind (the NIP-46 spelling). `parsePerms(formatPerms(x))` equals
 * `canonicalPerms(x)`. Throws `ProtocolError` on a spec no perms string can express.
 */
export function formatPerms(specs: readonly PermSpec[]): string {
  return canonicalPerms(specs)
    .map((spec) => {
      assertPermSpec(spec);
      if (spec.method !== Nip46Method.signEvent || spec.kind === '*') return spec.method;
      return `${spec.method}:${spec.kind}`;
    })
    .join(',');
}

/** Deduplicated and sorted: the order `parsePerms` returns and `formatPerms` writes. */
export function canonicalPerms(specs: readonly PermSpec[]): PermSpec[] {
  const byKey = new Map<string, PermSpec>();
  for (const spec of specs) byKey.set(permKey(spec), spec);
  return [...byKey.values()].sort(comparePerms);
}

/** Options a token (or an operator) puts on every grant its perms turn into. */
export interface GrantTemplateOptions {
  notBeforeSec?: number;
  expiresAtSec?: number;
  usageCap?: UsageCap;
}

/**
 * The grant templates a token's perms turn into — exactly those perms, one template each; the
 * store binds them to the redeeming client when it joins them live (never copied into permanent
 * rows, DESIGN.md Live ACL).
 */
export function grantTemplatesFromPerms(specs: readonly PermSpec[], options: GrantTemplateOptions = {}): GrantTemplate[] {
  return canonicalPerms(specs).map((spec) => {
    const template: GrantTemplate = { method: spec.method };
    if (spec.method === Nip46Method.signEvent) template.kind = spec.kind;
    if (options.notBeforeSec !== undefined) template.notBeforeSec = options.notBeforeSec;
    if (options.expiresAtSec !== undefined) template.expiresAtSec = options.expiresAtSec;
    if (options.usageCap !== undefined) template.usageCap = { ...options.usageCap };
    return template;
  });
}

function parseItem(item: string): PermSpec | { problem: PermProblemKind } {
  const colon = item.indexOf(':');
  const method = (colon < 0 ? item : item.slice(0, colon)).trim();
  const param = colon < 0 ? undefined : item.slice(colon + 1).trim();
  if (!isNip46Method(method)) return { problem: 'unknown_method' };
  if (method !== Nip46Method.signEvent) return param === undefined ? { method } : { problem: 'unexpected_param' };
  if (param === undefined || param === '*') return { method, kind: '*' };
  if (!KIND_DIGITS.test(param)) return { problem: 'invalid_kind' };
  const kind = Number(param);
  return kind <= MAX_KIND ? { method, kind } : { problem: 'invalid_kind' };
}

function isNip46Method(method: string): method is Nip46MethodName {
  return KNOWN_METHODS.has(method);
}

function assertPermSpec(spec: PermSpec): void {
  if (!KNOWN_METHODS.has(spec.method)) {
    throw new ProtocolError('METHOD_UNKNOWN', `perm method unknown: ${sanitize(String(spec.method))}`);
  }
  if (spec.method !== Nip46Method.signEvent || spec.kind === '*') return;
  if (!Number.isInteger(spec.kind) || spec.kind < 0 || spec.kind > MAX_KIND) {
    throw new ProtocolError('PROTOCOL_INVALID', `sign_event perm kind must be an integer 0..${MAX_KIND} or '*'`);
  }
}

function permKey(spec: PermSpec): string {
  return spec.method === Nip46Method.signEvent ? `${spec.method}:${spec.kind}` : spec.method;
}

function comparePerms(a: PermSpec, b: PermSpec): number {
  if (a.method !== b.method) return a.method < b.method ? -1 : 1;
  if (a.method !== Nip46Method.signEvent || b.method !== Nip46Method.signEvent) return 0;
  if (a.kind === b.kind) return 0;
  if (a.kind === '*') return -1;
  if (b.kind === '*') return 1;
  return a.kind - b.kind;
}

function describeProblems(problems: readonly PermProblem[]): string {
  const labels: Record<PermProblemKind, string> = {
    unknown_method: 'unknown method',
    invalid_kind: 'invalid kind (want 0..65535 or *)',
    unexpected_param: 'param not allowed on this method',
  };
  const named = problems.slice(0, NAMED_PROBLEMS).map((p) => `${labels[p.problem]} in "${p.item}"`);
  const more = problems.length > NAMED_PROBLEMS ? `; and ${problems.length - NAMED_PROBLEMS} more` : '';
  return `invalid perms: ${named.join('; ')}${more}`;
}

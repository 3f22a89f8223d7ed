/**
 * Where a process gets the passphrase for its sealed secrets files (RELIABILITY.md §2.5): a file
 * (`--passphrase-file`, also the form a systemd credential takes), the environment (accepted with
 * a warning: `/proc/<pid>/environ` is readable), or a terminal prompt without echo. The passphrase
 * itself is never logged, echoed or put in an error message.
 */
import { readFile, stat } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';
import { ConfigError } from '../errors.js';

export const PASSPHRASE_ENV = 'FROSTBUNKER_PASSPHRASE';

export type PassphraseSource = 'file' | 'env' | 'prompt';

export interface ReadPassphraseOptions {
  /** `--passphrase-file`: wins over everything else when given. */
  file?: string;
  /** Defaults to `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** The terminal to prompt on; defaults to `process.stdin`. Prompting needs `isTTY` and `setRawMode`. */
  input?: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };
  /** Where the prompt goes; defaults to `process.stderr`, so stdout stays clean. */
  output?: NodeJS.WritableStream;
  /** Defaults to `Passphrase: `. */
  prompt?: string;
}

export interface PassphraseResult {
  passphrase: string;
  source: PassphraseSource;
  /** Operator-facing warnings (never containing the passphrase); the caller logs them. */
  warnings: string[];
}

const FILE_FLAG = '--passphrase-file';

export const ENV_PASSPHRASE_WARNING = `passphrase from ${PASSPHRASE_ENV}: other local users may read a process environment; prefer --passphrase-file`;

/**
 * Reads the passphrase: `file` if given, else `FROSTBUNKER_PASSPHRASE` (an empty value counts as
 * unset), else a no-echo prompt when `input` is a terminal, else a ConfigError saying how to give one.
 *
 * @example
 * const { passphrase, warnings } = await readPassphrase({ file: values['passphrase-file'] });
 * for (const warning of warnings) logger.warn(warning);
 */
export async function readPassphrase(options: ReadPassphraseOptions = {}): Promise<PassphraseResult> {
  if (options.file !== undefined) return readPassphraseFile(options.file);
  const fromEnv = (options.env ?? process.env)[PASSPHRASE_ENV];
  if (fromEnv !== undefined && fromEnv !== '') {
    return { passphrase: fromEnv, source: 'env', warnings: [ENV_PASSPHRASE_WARNING] };
  }
  const input = options.input ?? process.stdin;
  if (input.isTTY === true) {
    const passphrase = await promptWithoutEcho(input, options.output ?? process.stderr, options.prompt ?? 'Passphrase: ');
    return { passphrase, source: 'prompt', warnings: [] };
  }
  throw new ConfigError(
    'passphrase',
    `no passphrase: pass ${FILE_FLAG} <file>, set ${PASSPHRASE_ENV}, or run on a terminal`,
  );
}

async function readPassphraseFile(path: string): Promise<PassphraseResult> {
  const warnings: string[] = [];
  let text: string;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new ConfigError(FILE_FLAG, `${path} is not a regular file`);
    // Group or other read bits: anyone in them can read the passphrase.
    if ((info.mode & 0o044) !== 0) warnings.push(`passphrase file ${path} is readable by other users (chmod 600)`);
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(FILE_FLAG, `cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`, {
      cause: error,
    });
  }
  // One trailing newline is how editors and `echo` end a file; it is not part of the passphrase.
  const passphrase = text.replace(/\r?\n$/, '');
  if (passphrase.length === 0) throw new ConfigError(FILE_FLAG, `${path} is empty`);
  return { passphrase, source: 'file', warnings };
}

const ENTER = new Set(['\r', '\n']);
const CTRL_C = '\u0003';
const CTRL_D = '\u0004';
const CTRL_U = '\u0015';
const BACKSPACE = new Set(['\u007f', '\b']);
const ESC = '\u001b';

/**
 * Reads one line from a terminal in raw mode, echoing nothing. Handles backspace, Ctrl-U (clear),
 * Enter, Ctrl-C (cancel) and Ctrl-D (end); skips ANSI escape sequences (arrow keys) and other
 * control characters. Multi-byte UTF-8 split across chunks is decoded correctly.
 */
function promptWithoutEcho(
  input: NodeJS.ReadableStream & { setRawMode?: (raw: boolean) => unknown },
  output: NodeJS.WritableStream,
  prompt: string,
): Promise<string> {
  const setRawMode = input.setRawMode?.bind(input);
  if (setRawMode === undefined) {
    return Promise.reject(new ConfigError('passphrase', 'the terminal cannot turn echo off; use --passphrase-file'));
  }
  return new Promise<string>((resolve, reject) => {
    const decoder = new StringDecoder('utf8');
    let chars: string[] = [];
    let inEscape = false;
    let settled = false;

    const finish = (error: ConfigError | undefined): void => {
      if (settled) return;
      settled = true;
      input.removeListener('data', onData);
      input.removeListener('end', onEnd);
      input.removeListener('error', onError);
      setRawMode(false);
      input.pause();
      output.write('\n');
      const value = chars.join('');
      chars = [];
      if (error !== undefined) reject(error);
      else if (value.length === 0) reject(new ConfigError('passphrase', 'empty passphrase'));
      else resolve(value);
    };

    const onData = (chunk: Buffer | string): void => {
      const text = typeof chunk === 'string' ? chunk : decoder.write(chunk);
      for (const char of text) {
        if (settled) return;
        if (inEscape) {
          // CSI "ESC [ params final": the final byte is in 0x40..0x7e; a bare ESC ends at the next char.
          if (char !== '[' && char >= '\u0040' && char <= '\u007e') inEscape = false;
          continue;
        }
        if (ENTER.has(char)) finish(undefined);
        else if (char === CTRL_C) finish(new ConfigError('passphrase', 'cancelled'));
        else if (char === CTRL_D) finish(chars.length === 0 ? new ConfigError('passphrase', 'cancelled') : undefined);
        else if (BACKSPACE.has(char)) chars.pop();
        else if (char === CTRL_U) chars = [];
        else if (char === ESC) inEscape = true;
        else if (char >= ' ') chars.push(char);
      }
    };
    const onEnd = (): void => finish(new ConfigError('passphrase', 'cancelled'));
    const onError = (error: unknown): void => {
      if (settled) return;
      finish(new ConfigError('passphrase', 'cannot read the terminal', { cause: error }));
    };

    input.on('data', onData);
    input.once('end', onEnd);
    input.once('error', onError);
    try {
      setRawMode(true);
    } catch (error) {
      onError(error);
      return;
    }
    output.write(prompt);
    input.resume();
  });
}

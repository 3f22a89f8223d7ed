import { z } from 'zod';
import { isSealedFile, openSealed, sealSecret } from '../crypto/at-rest.js';
import { ConfigError, FrostbunkerError } from '../errors.js';
import { readJsonFile, writeJsonFileAtomic } from './files.js';
import { readPassphrase } from './passphrase.js';

/** How a process may open its secrets file. */
export interface SecretsAccess {
  /** Accept a plaintext file (the lab says so when it passes this; RELIABILITY.md 2.5). */
  insecurePlaintext: boolean;
  /** Asked only when the file is sealed, so a plaintext lab never prompts. */
  passphrase?: () => Promise<string>;
}

/** Marks a plaintext secrets file so nobody mistakes it for a sealed one. */
export const INSECURE_PLAINTEXT = 'insecure-plaintext';

/**
 * Reads a secrets file: sealed (scrypt + XChaCha20-Poly1305, see crypto/at-rest.ts) or, only when
 * allowed, plaintext. Problems are ConfigErrors naming the file; a wrong passphrase changes nothing.
 */
export async function readSecretsFile<S extends z.ZodType>(path: string, schema: S, access: SecretsAccess): Promise<z.infer<S>> {
  const raw = readJsonFile(path, z.unknown());
  let document: unknown = raw;
  if (isSealedFile(raw)) {
    if (!access.passphrase) throw new ConfigError(path, 'sealed: a passphrase is needed');
    let bytes: Uint8Array;
    try {
      bytes = await openSealed(raw, await access.passphrase());
    } catch (error) {
      if (error instanceof ConfigError) throw error;
      throw new ConfigError(path, error instanceof FrostbunkerError ? error.message : 'cannot open sealed file', { cause: error });
    }
    document = JSON.parse(new TextDecoder().decode(bytes));
    bytes.fill(0);
  } else if (!access.insecurePlaintext || !isPlaintextMarked(raw)) {
    throw new ConfigError(path, 'secrets stored in plaintext: seal them (the `seal` command) or pass --insecure-plaintext');
  }
  const parsed = schema.safeParse(document);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(`${path}#${issue?.path.join('.') || '(root)'}`, issue?.message ?? 'invalid');
  }
  return parsed.data;
}

/** Writes a secrets document sealed under `passphrase`, or plaintext-marked when none is given. */
export async function writeSecretsFile(path: string, document: Record<string, unknown>, options: { passphrase?: string }): Promise<void> {
  if (options.passphrase === undefined) {
    writeJsonFileAtomic(path, { ...document, storage: INSECURE_PLAINTEXT });
    return;
  }
  const { storage: _storage, ...rest } = document;
  const bytes = new TextEncoder().encode(JSON.stringify(rest));
  try {
    writeJsonFileAtomic(path, await sealSecret(bytes, options.passphrase));
  } finally {
    bytes.fill(0);
  }
}

function isPlaintextMarked(value: unknown): boolean {
  return typeof value === 'object' && value !== null && (value as { storage?: unknown }).storage === INSECURE_PLAINTEXT;
}

/**
 * Builds the SecretsAccess a service's command line asks for. The passphrase is read at most once,
 * lazily (file, then environment, then terminal), and its warnings go to `warn`.
 */
export function secretsAccessFromFlags(options: {
  insecurePlaintext: boolean;
  passphraseFile?: string;
  env: NodeJS.ProcessEnv;
  input: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };
  output: NodeJS.WritableStream;
  warn: (message: string) => void;
}): SecretsAccess {
  let cached: Promise<string> | undefined;
  return {
    insecurePlaintext: options.insecurePlaintext,
    passphrase: () =>
      (cached ??= readPassphrase({
        ...(options.passphraseFile === undefined ? {} : { file: options.passphraseFile }),
        env: options.env,
        input: options.input,
        output: options.output,
      }).then(({ passphrase, warnings }) => {
        for (const warning of warnings) options.warn(warning);
        return passphrase;
      })),
  };
}

/** The two command-line options every process that opens a secrets file accepts (node:util parseArgs). */
export const SECRETS_ARG_OPTIONS = {
  'passphrase-file': { type: 'string' },
  'insecure-plaintext': { type: 'boolean', default: false },
} as const;

/**
 * SecretsAccess from parsed SECRETS_ARG_OPTIONS; `io` is the process (environment, stdin for the
 * prompt, stderr for the prompt text), passed in so nothing here reads globals.
 */
export function secretsAccessFromArgs(
  values: { 'passphrase-file'?: string | undefined; 'insecure-plaintext'?: boolean | undefined },
  io: { env: NodeJS.ProcessEnv; stdin: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown }; stderr: NodeJS.WritableStream },
  warn: (message: string) => void,
): SecretsAccess {
  const insecurePlaintext = values['insecure-plaintext'] === true;
  if (insecurePlaintext) warn('secrets may be read from plaintext files (--insecure-plaintext): for labs only');
  return secretsAccessFromFlags({
    insecurePlaintext,
    ...(values['passphrase-file'] === undefined ? {} : { passphraseFile: values['passphrase-file'] }),
    env: io.env,
    input: io.stdin,
    output: io.stderr,
    warn,
  });
}

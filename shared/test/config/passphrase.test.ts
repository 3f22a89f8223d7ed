import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { ENV_PASSPHRASE_WARNING, PASSPHRASE_ENV, readPassphrase } from '../../src/config/passphrase.js';
import { ConfigError } from '../../src/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'frostbunker-passphrase-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function writePassphraseFile(name: string, content: string, mode = 0o600): string {
  const path = join(dir, name);
  writeFileSync(path, content, { mode });
  chmodSync(path, mode); // the umask may have narrowed it
  return path;
}

/** A fake terminal: records raw-mode switches; what the test writes is what the user types. */
class FakeTty extends PassThrough {
  readonly isTTY = true;
  readonly rawModes: boolean[] = [];
  setRawMode(raw: boolean): this {
    this.rawModes.push(raw);
    return this;
  }
}

/** Collects everything written to it, as the terminal's screen would show. */
class Screen extends Writable {
  text = '';
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.text += chunk.toString('utf8');
    callback();
  }
}

const notATerminal = new PassThrough();

describe('readPassphrase: file', () => {
  it('strips exactly one trailing newline', async () => {
    const path = writePassphraseFile('a', 'correct horse\n');
    expect(await readPassphrase({ file: path, env: {}, input: notATerminal })).toEqual({
      passphrase: 'correct horse',
      source: 'file',
      warnings: [],
    });
    const crlf = writePassphraseFile('b', 'correct horse\r\n');
    expect((await readPassphrase({ file: crlf, env: {} })).passphrase).toBe('correct horse');
    const two = writePassphraseFile('c', 'correct horse\n\n');
    expect((await readPassphrase({ file: two, env: {} })).passphrase).toBe('correct horse\n');
  });

  it('takes the file as is without a trailing newline, and wins over the environment', async () => {
    const path = writePassphraseFile('d', '  spaced  out  ');
    const result = await readPassphrase({ file: path, env: { [PASSPHRASE_ENV]: 'from env' } });
    expect(result).toEqual({ passphrase: '  spaced  out  ', source: 'file', warnings: [] });
  });

  it('warns when group or others can read the file (0644), without the passphrase', async () => {
    const path = writePassphraseFile('e', 'hunter2-but-longer\n', 0o644);
    const result = await readPassphrase({ file: path, env: {} });
    expect(result.passphrase).toBe('hunter2-but-longer');
    expect(result.warnings).toEqual([`passphrase file ${path} is readable by other users (chmod 600)`]);
    const groupOnly = writePassphraseFile('f', 'x\n', 0o640);
    expect((await readPassphrase({ file: groupOnly, env: {} })).warnings).toHaveLength(1);
  });

  it('refuses an empty or missing file as --passphrase-file', async () => {
    const empty = writePassphraseFile('g', '\n');
    const error = await readPassphrase({ file: empty, env: {} }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).toMatchObject({ field: '--passphrase-file', code: 'CONFIG_INVALID' });
    await expect(readPassphrase({ file: join(dir, 'missing'), env: {} })).rejects.toThrow(
      /^--passphrase-file: cannot read .*missing \(ENOENT\)$/,
    );
    await expect(readPassphrase({ file: dir, env: {} })).rejects.toThrow(/--passphrase-file: .* is not a regular file/);
  });
});

describe('readPassphrase: environment', () => {
  it('reads FROSTBUNKER_PASSPHRASE with the /proc/<pid>/environ warning', async () => {
    const result = await readPassphrase({ env: { [PASSPHRASE_ENV]: 'from env' }, input: notATerminal });
    expect(result).toEqual({ passphrase: 'from env', source: 'env', warnings: [ENV_PASSPHRASE_WARNING] });
    expect(ENV_PASSPHRASE_WARNING).toBe(
      'passphrase from FROSTBUNKER_PASSPHRASE: other local users may read a process environment; prefer --passphrase-file',
    );
  });

  it('treats an empty variable as unset', async () => {
    await expect(readPassphrase({ env: { [PASSPHRASE_ENV]: '' }, input: notATerminal })).rejects.toThrow(/no passphrase/);
  });
});

describe('readPassphrase: no source', () => {
  it('says how to give one when there is no file, no variable and no terminal', async () => {
    const error = await readPassphrase({ env: {}, input: notATerminal }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).field).toBe('passphrase');
    expect((error as ConfigError).message).toBe(
      'passphrase: no passphrase: pass --passphrase-file <file>, set FROSTBUNKER_PASSPHRASE, or run on a terminal',
    );
  });
});

describe('readPassphrase: terminal prompt', () => {
  function prompt(keys: (string | Buffer)[]): { tty: FakeTty; screen: Screen; result: ReturnType<typeof readPassphrase> } {
    const tty = new FakeTty();
    const screen = new Screen();
    const result = readPassphrase({ env: {}, input: tty, output: screen, prompt: 'Unlock: ' });
    for (const key of keys) tty.write(key);
    return { tty, screen, result };
  }

  it('reads "pässwörd" typed with a backspace, echoing none of it', async () => {
    // The user types "pässwördx", deletes the x, presses Enter; "ö" arrives split across two chunks.
    const o = Buffer.from('ö');
    const { tty, screen, result } = prompt(['p', 'äss', 'w', o.subarray(0, 1), o.subarray(1), 'rdx', '\u007f', '\r']);
    expect(await result).toEqual({ passphrase: 'pässwörd', source: 'prompt', warnings: [] });
    // The prompt, then only the newline after Enter: no characters, no asterisks.
    expect(screen.text).toBe('Unlock: \n');
    for (const piece of ['p', 'ä', 's', 'w', 'ö', 'r', 'd', 'x', '*']) expect(screen.text).not.toContain(piece);
    expect(tty.rawModes).toEqual([true, false]);
  });

  it('skips arrow-key escape sequences and clears the line on Ctrl-U', async () => {
    const { result } = prompt(['wrong', '\u0015', 'ri', '\u001b[D', 'ght\n']);
    expect((await result).passphrase).toBe('right');
  });

  it('rejects Ctrl-C as cancelled and leaves raw mode', async () => {
    const { tty, screen, result } = prompt(['secret', '\u0003']);
    await expect(result).rejects.toThrow(new ConfigError('passphrase', 'cancelled'));
    expect(tty.rawModes).toEqual([true, false]);
    expect(screen.text).not.toContain('secret');
  });

  it('rejects an empty line and an input that ends', async () => {
    await expect(prompt(['\r']).result).rejects.toThrow(/passphrase: empty passphrase/);
    const { tty, result } = prompt(['abc']);
    tty.end();
    await expect(result).rejects.toThrow(new ConfigError('passphrase', 'cancelled'));
  });

  it('refuses a terminal whose echo cannot be turned off', async () => {
    const tty = Object.assign(new PassThrough(), { isTTY: true });
    await expect(readPassphrase({ env: {}, input: tty, output: new Screen() })).rejects.toThrow(/echo/);
  });
});

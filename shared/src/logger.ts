/** Log fields are public values only: ids, labels, counts. Secrets never reach a logger. */
export type LogFields = Record<string, unknown>;
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/**
 * JSON-lines logger. `write` is injected (main.ts passes stderr) so nothing here does I/O on import
 * and tests can capture lines.
 */
export function createLogger(options: {
  name: string;
  level?: LogLevel;
  write: (line: string) => void;
  now?: () => number;
  base?: LogFields;
}): Logger {
  const min = ORDER[options.level ?? 'info'];
  const now = options.now ?? Date.now;
  const make = (base: LogFields): Logger => {
    const emit = (level: LogLevel, message: string, fields?: LogFields) => {
      if (ORDER[level] < min) return;
      const line = { t: new Date(now()).toISOString(), level, name: options.name, msg: message, ...base, ...fields };
      options.write(`${JSON.stringify(line)}\n`);
    };
    return {
      debug: (m, f) => emit('debug', m, f),
      info: (m, f) => emit('info', m, f),
      warn: (m, f) => emit('warn', m, f),
      error: (m, f) => emit('error', m, f),
      child: (fields) => make({ ...base, ...fields }),
    };
  };
  return make(options.base ?? {});
}

/** A logger that drops everything, for tests that do not read logs. */
export const silentLogger: Logger = createLogger({ name: 'silent', level: 'error', write: () => {} });

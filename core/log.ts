import { pino } from 'pino';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
/** `json`: one pino object per line (for journald, Loki, …); `text`: one readable line. */
export type LogFormat = 'json' | 'text';

/**
 * Structured fields of a log line. Only ids and technical facts belong here (request id,
 * method, path, status, account or photo id), never names, e-mail addresses or message text:
 * logs travel to places where personal data has no business.
 */
export type LogFields = Record<string, string | number | boolean | null | undefined>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

const order: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

/**
 * Fields that could carry a database statement, its parameters or the driver's detail (which
 * quotes values): masked in both formats, should a caller ever pass a driver error's fields
 * along. Database errors themselves go into messages via core/db/errors.ts loggableError.
 */
export const REDACTED_FIELDS = ['sql', 'query', 'params', 'parameters', 'bindings', 'values', 'detail', 'where'] as const;
const redacted = new Set<string>(REDACTED_FIELDS);

const toStderr = (line: string) => {
  process.stderr.write(line);
};

function textLogger(level: LogLevel, write: (line: string) => void): Logger {
  const at = (lvl: Exclude<LogLevel, 'silent'>) => (message: string, fields?: LogFields) => {
    if (order[lvl] < order[level]) return;
    const extra = fields
      ? Object.entries(fields)
          .filter(([, v]) => v !== undefined)
          .map(([k, v]) => ` ${k}=${redacted.has(k) ? '[redacted]' : v}`)
          .join('')
      : '';
    write(`${new Date().toISOString()} ${lvl.padEnd(5)} ${message}${extra}\n`);
  };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

function jsonLogger(level: LogLevel, write: (line: string) => void): Logger {
  // No pid/hostname: the process manager adds them, and they are noise in every line.
  const p = pino(
    { level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime, redact: { paths: [...REDACTED_FIELDS], censor: '[redacted]' } },
    { write },
  );
  return {
    debug: (m, f) => p.debug(f ?? {}, m),
    info: (m, f) => p.info(f ?? {}, m),
    warn: (m, f) => p.warn(f ?? {}, m),
    error: (m, f) => p.error(f ?? {}, m),
  };
}

/**
 * Logs go to stderr, so that a CLI command's stdout stays clean for --json and tables. The
 * server logs JSON unless stderr is a terminal (then text, for the person watching it); CLI
 * commands log text.
 */
export function createLogger(
  level: LogLevel,
  write: (line: string) => void = toStderr,
  format: LogFormat | 'auto' = 'text',
): Logger {
  const resolved = format === 'auto' ? (process.stderr.isTTY ? 'text' : 'json') : format;
  return resolved === 'json' ? jsonLogger(level, write) : textLogger(level, write);
}

export const silentLogger: Logger = createLogger('silent');

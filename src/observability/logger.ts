/**
 * A tiny JSON-lines logger whose every record passes through {@link redact}: logs never contain
 * a token, DPoP proof, cookie, secret, password or authorization code — whatever a caller passes.
 */

/** Severity of a record. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Structured fields of one record. */
export type LogFields = Record<string, unknown>;

/** Writes one JSON object per line. */
export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** Lowest level written. Default `info`. */
  level?: LogLevel;
  /** Sink for one serialised line (without newline). Default: stdout. */
  write?: (line: string) => void;
  /** Clock (tests). */
  now?: () => Date;
}

/** Placeholder written instead of a sensitive value. */
export const REDACTED = '[REDACTED]';

// Header and field names whose values are credentials. Matched case-insensitively on the whole
// name, or on parts like "refresh_token" / "clientSecret".
const SENSITIVE_NAME = /^(authorization|proxy-authorization|dpop|cookie|set-cookie|code|code_verifier|d|p|q|dp|dq|qi|k)$|token|secret|password|passwd|credential|assertion|proof|private|api[-_]?key|session/i;
// Compact JWS/JWE (tokens, proofs, assertions) anywhere in free text.
const JWT_LIKE = /eyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*)?/g;
// `Bearer <token>` / `DPoP <token>` / `Basic <creds>` in free text (e.g. an echoed header). The
// length floor for tokens keeps prose ("DPoP public key") readable; real tokens are far longer.
// Basic credentials can be short, so any base64 word after `Basic` goes.
const SCHEME_CREDENTIALS = /\b(Bearer|DPoP)\s+[A-Za-z0-9\-._~+/]{16,}=*|\b(Basic)\s+[A-Za-z0-9+/]{4,}=*/gi;
// Credentials inside URLs: user:password@ and sensitive query parameters.
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^/\s:@]*:[^/\s@]*@/gi;
const SENSITIVE_QUERY = /([?&](?:access_token|refresh_token|id_token|code|code_verifier|client_secret|token|password)=)[^&#\s]*/gi;

/** Removes credentials from free text. */
export function redactString(value: string): string {
  return value
    .replace(JWT_LIKE, REDACTED)
    .replace(SCHEME_CREDENTIALS, (_m, token: string | undefined, basic: string | undefined) => `${token ?? basic ?? ''} ${REDACTED}`)
    .replace(URL_USERINFO, (_m, scheme: string) => `${scheme}${REDACTED}@`)
    .replace(SENSITIVE_QUERY, (_m, name: string) => `${name}${REDACTED}`);
}

/**
 * A copy of `value` safe to log: values under sensitive names are replaced, strings are scrubbed
 * of anything token-shaped, errors are reduced to name, message and code. Cycles are cut.
 */
export function redact(value: unknown, seen: WeakSet<object> = new WeakSet()): unknown {
  if (typeof value === 'string') return redactString(value);
  if (value === null || typeof value !== 'object') return typeof value === 'bigint' ? String(value) : value;
  if (seen.has(value)) return '[Circular]';
  seen.add(value);
  if (value instanceof Error) {
    const code = (value as NodeJS.ErrnoException).code;
    return { name: value.name, message: redactString(value.message), ...(code === undefined ? {} : { code }) };
  }
  if (Array.isArray(value)) return value.map((item) => redact(item, seen));
  if (value instanceof Date) return value.toISOString();
  if (value instanceof URL) return redactString(value.href);
  if (Buffer.isBuffer(value)) return `[${value.length} bytes]`;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    out[key] = SENSITIVE_NAME.test(key) && item !== undefined && item !== null ? REDACTED : redact(item, seen);
  }
  return out;
}

/** Creates a logger writing redacted JSON lines. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const threshold = LEVELS[options.level ?? 'info'];
  const write = options.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const now = options.now ?? (() => new Date());
  const log = (level: LogLevel) => (msg: string, fields: LogFields = {}) => {
    if (LEVELS[level] < threshold) return;
    const record = { time: now().toISOString(), level, msg: redactString(msg), ...(redact(fields) as LogFields) };
    write(JSON.stringify(record));
  };
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}

/** A logger that drops everything (library use, tests). */
export const silentLogger: Logger = Object.freeze({ debug() {}, info() {}, warn() {}, error() {} });

/** Argument parsers shared by the `warden` commands: reject bad values with a usage error. */
import { InvalidArgumentError } from 'commander';

/** `--port`: 0-65535 (0 picks a free port). */
export function parsePort(value: string): number {
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65_535) throw new InvalidArgumentError('expected a port number 0-65535.');
  return Number(value);
}

/** `--timeout`: a whole number of milliseconds, 1-600000. */
export function parseMilliseconds(value: string): number {
  if (!/^\d{1,6}$/.test(value) || Number(value) < 1 || Number(value) > 600_000) throw new InvalidArgumentError('expected milliseconds, 1-600000.');
  return Number(value);
}

/** Quotes `value` for a POSIX shell when it needs it (for commands we print). */
export function shellQuote(value: string): string {
  return /^[A-Za-z0-9_./:@%+=,-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

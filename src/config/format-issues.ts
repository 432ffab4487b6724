/**
 * Turns zod issues into messages an operator can act on: the key path first
 * (`resources[0].dpop`), then what is wrong and what would be right. Never quotes a value that
 * may be a credential.
 */
import type { ZodIssue } from 'zod';

/** `['resources', 0, 'dpop']` → `resources[0].dpop`. */
export function formatKeyPath(path: readonly (string | number)[]): string {
  let out = '';
  for (const segment of path) {
    out += typeof segment === 'number' ? `[${segment}]` : out === '' ? segment : `.${segment}`;
  }
  return out === '' ? '(top level)' : out;
}

/** The raw value at a key path (for quoting what was given). */
function valueAt(raw: unknown, path: readonly (string | number)[]): unknown {
  let current = raw;
  for (const segment of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string | number, unknown>)[segment];
  }
  return current;
}

/** Values under these keys may be credentials: messages never quote them. */
const SECRET_PATH = /secret|password|url|token/i;

/** How a wrong value is quoted in a message; values under secret-like keys only by type. */
export function describeValue(value: unknown, path: readonly (string | number)[]): string {
  const last = String(path[path.length - 1] ?? '');
  if (SECRET_PATH.test(last)) return typeof value;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return JSON.stringify(value);
  return value === null ? 'null' : Array.isArray(value) ? 'a list' : typeof value === 'object' ? 'a mapping' : typeof value;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(above + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}

const TYPE_NAMES: Record<string, string> = { object: 'a mapping', array: 'a list', integer: 'an integer' };

/** Turns one zod issue into messages that name the key and say what to change. */
export function formatIssue(issue: ZodIssue, raw: unknown): string[] {
  const at = formatKeyPath(issue.path);
  switch (issue.code) {
    case 'unrecognized_keys': {
      const allowed = issue.message.replace(/^allowed keys: /, '').split(', ');
      return issue.keys.map((key) => {
        const close = allowed.find((candidate) => editDistance(key.toLowerCase(), candidate.toLowerCase()) <= 2);
        const hint = close ? `did you mean "${close}"? ` : '';
        return `${formatKeyPath([...issue.path, key])}: unknown key (${hint}${issue.message})`;
      });
    }
    case 'invalid_enum_value':
      return [`${at}: expected one of ${issue.options.join('|')}, got ${describeValue(issue.received, issue.path)}`];
    case 'invalid_union_discriminator': {
      const got = valueAt(raw, issue.path);
      const options = issue.options.map(String).join('|');
      return [got === undefined ? `${at}: required, one of ${options}` : `${at}: expected one of ${options}, got ${describeValue(got, issue.path)}`];
    }
    case 'invalid_type': {
      if (issue.received === 'undefined') return [`${at}: required`];
      const expected = TYPE_NAMES[issue.expected] ?? issue.expected;
      return [`${at}: expected ${expected}, got ${describeValue(valueAt(raw, issue.path), issue.path)}`];
    }
    case 'too_small':
      if (issue.type === 'number') return [`${at}: must be at least ${String(issue.minimum)}`];
      if (issue.type === 'array' && issue.message.startsWith('Array must')) return [`${at}: list at least ${String(issue.minimum)} item(s)`];
      return [`${at}: ${issue.message}`];
    case 'too_big':
      if (issue.type === 'number') return [`${at}: must be at most ${String(issue.maximum)}`];
      return [`${at}: ${issue.message}`];
    default:
      return [`${at}: ${issue.message}`];
  }
}

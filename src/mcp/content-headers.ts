/**
 * The headers that decide how a body's bytes become text: `Content-Type` (its `charset`) and
 * `Content-Encoding`. Warden reads bodies as UTF-8 with no coding; a body the next parser would
 * decode otherwise — UTF-7, UTF-16, gzip — is refused with 415, never forwarded, because the
 * message the upstream decodes would not be the one Warden authorized.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9110#section-8.3
 * @see https://www.rfc-editor.org/rfc/rfc9110#section-8.4
 * @see https://www.rfc-editor.org/rfc/rfc9110#section-15.5.16 (415: "…or encoding")
 */
import { MessageRefusedError, RPC_CODES } from './message-refused-error.js';

/** A parsed `Content-Type`: lower-case `type/subtype` and lower-case parameter names. */
export interface MediaType {
  essence: string;
  parameters: Map<string, string>;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Parses a `Content-Type` value (RFC 9110 §8.3.1); undefined when malformed. */
export function parseMediaType(value: string): MediaType | undefined {
  const parts = splitParameters(value);
  if (parts === undefined) return undefined;
  const [essence = '', ...params] = parts;
  const slash = essence.indexOf('/');
  if (slash <= 0 || !TOKEN.test(essence.slice(0, slash)) || !TOKEN.test(essence.slice(slash + 1))) return undefined;
  const parameters = new Map<string, string>();
  for (const param of params) {
    const eq = param.indexOf('=');
    if (eq <= 0) return undefined;
    const name = param.slice(0, eq).toLowerCase();
    let v = param.slice(eq + 1);
    if (!TOKEN.test(name)) return undefined;
    if (v.startsWith('"')) {
      if (!v.endsWith('"') || v.length < 2) return undefined;
      v = v.slice(1, -1).replace(/\\(.)/g, '$1');
    } else if (!TOKEN.test(v)) return undefined;
    // A repeated parameter is a question two parsers answer differently.
    if (parameters.has(name)) return undefined;
    parameters.set(name, v);
  }
  return { essence: essence.toLowerCase(), parameters };
}

/** Splits on `;` outside quoted strings and trims OWS; undefined on an unterminated quote. */
function splitParameters(value: string): string[] | undefined {
  const out: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i] as string;
    if (quoted) {
      current += c;
      if (c === '\\' && i + 1 < value.length) current += value[++i];
      else if (c === '"') quoted = false;
    } else if (c === ';') {
      out.push(current.trim());
      current = '';
    } else {
      if (c === '"') quoted = true;
      current += c;
    }
  }
  if (quoted) return undefined;
  out.push(current.trim());
  return out;
}

const parsedTypes = new Map<string, MediaType | undefined>();

/** {@link parseMediaType}, remembered: a server sees a handful of distinct values. Results are shared; do not mutate. */
function parseMediaTypeCached(value: string): MediaType | undefined {
  if (parsedTypes.has(value)) return parsedTypes.get(value);
  const type = parseMediaType(value);
  if (value.length <= 256) {
    if (parsedTypes.size >= 256) parsedTypes.clear();
    parsedTypes.set(value, type);
  }
  return type;
}

/** True for `application/json` and `application/*+json` (RFC 6839 §3.1). */
export function isJsonMediaType(type: MediaType): boolean {
  return type.essence === 'application/json' || (type.essence.startsWith('application/') && type.essence.endsWith('+json'));
}

/**
 * Checks that a body, if any, is read as UTF-8 with no content coding: refuses (415) any
 * `Content-Encoding` other than `identity`, and any `charset` other than UTF-8; refuses (400) a
 * repeated `Content-Type` or an unparseable one. Returns the media type, when one was sent.
 *
 * @throws {MessageRefusedError}
 */
export function checkBodyEncoding(contentTypes: readonly string[], contentEncodings: readonly string[]): MediaType | undefined {
  for (const line of contentEncodings) {
    for (const coding of line.split(',')) {
      const c = coding.trim().toLowerCase();
      if (c !== '' && c !== 'identity') {
        throw new MessageRefusedError(415, RPC_CODES.invalidRequest, 'request bodies with a Content-Encoding are not accepted: send the JSON uncompressed (RFC 9110 §15.5.16)', {
          headers: { 'Accept-Encoding': 'identity' },
        });
      }
    }
  }
  if (contentTypes.length === 0) return undefined;
  if (contentTypes.length > 1) throw new MessageRefusedError(400, RPC_CODES.invalidRequest, 'more than one Content-Type header');
  const type = parseMediaTypeCached(contentTypes[0] as string);
  if (type === undefined) throw new MessageRefusedError(400, RPC_CODES.invalidRequest, 'malformed Content-Type header (RFC 9110 §8.3.1)');
  const charset = type.parameters.get('charset');
  if (charset !== undefined && charset.toLowerCase() !== 'utf-8' && charset.toLowerCase() !== 'utf8') {
    throw new MessageRefusedError(415, RPC_CODES.invalidRequest, 'request bodies must be UTF-8: send Content-Type: application/json without another charset (RFC 8259 §8.1)');
  }
  return type;
}

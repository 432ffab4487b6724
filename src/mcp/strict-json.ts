/**
 * A JSON parser that sees what `JSON.parse` hides. A check on a request body is only as good as
 * its agreement with the parser on the other side of it: `JSON.parse` silently keeps the last of
 * duplicate members, accepts lone surrogates, turns `1e400` into `Infinity` and rounds integers
 * beyond 2^53, and other parsers (Go, Python, Java) resolve each of those differently. So bodies
 * Warden authorizes must be I-JSON (RFC 7493): UTF-8 without a byte order mark, unique member
 * names, well-formed strings, numbers a double holds exactly — and this parser refuses the rest
 * with a reason, instead of picking one reading.
 *
 * Written here rather than taken from npm: no maintained package reports duplicates and lone
 * surrogates while producing plain values, and MCP bodies are small (`node bench/micro.mjs`
 * measures the cost next to `JSON.parse`).
 *
 * @see https://www.rfc-editor.org/rfc/rfc8259
 * @see https://www.rfc-editor.org/rfc/rfc7493#section-2
 */

/** Why a body was refused: `syntax` is not JSON at all; `interoperability` is JSON that parsers read differently. */
export type StrictJsonProblem = 'syntax' | 'interoperability';

/** Outcome of {@link parseStrictJson}. */
export type StrictJsonResult =
  | { ok: true; value: unknown }
  | { ok: false; problem: StrictJsonProblem; reason: string };

/** Deepest nesting accepted; deeper documents are refused rather than risk the stack. */
export const MAX_JSON_DEPTH = 128;

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const LONE_SURROGATE = /\p{Cs}/u;
/** A string body that needs the escape-aware loop: a backslash or a control character. */
const SLOW_STRING = /[\\\u0000-\u001f]/;
const loneSurrogate = (): Refusal =>
  new Refusal('interoperability', 'a string holds a lone surrogate: parsers replace, keep or refuse it differently (RFC 7493 §2.1)');

class Refusal {
  constructor(
    readonly problem: StrictJsonProblem,
    readonly reason: string,
  ) {}
}

/**
 * Parses one JSON text (RFC 8259 §2) held as UTF-8 bytes or a string, refusing anything that is
 * not I-JSON (RFC 7493 §2): a byte order mark, invalid UTF-8, a duplicate member name in any
 * object, a lone surrogate in any string or name, a number that overflows a double or an integer
 * beyond ±(2^53−1), or nesting deeper than {@link MAX_JSON_DEPTH}. Never throws.
 */
export function parseStrictJson(input: Uint8Array | string): StrictJsonResult {
  let text: string;
  if (typeof input === 'string') {
    // Bytes decoded as UTF-8 cannot hold a lone surrogate; a JS string can, anywhere.
    if (LONE_SURROGATE.test(input)) return { ok: false, problem: 'interoperability', reason: loneSurrogate().reason };
    text = input;
  } else {
    if (input.length >= 3 && input[0] === 0xef && input[1] === 0xbb && input[2] === 0xbf) {
      return { ok: false, problem: 'syntax', reason: 'the body starts with a byte order mark (RFC 8259 §8.1)' };
    }
    try {
      text = utf8.decode(input);
    } catch {
      return { ok: false, problem: 'syntax', reason: 'the body is not valid UTF-8 (RFC 8259 §8.1)' };
    }
  }
  if (text.charCodeAt(0) === 0xfeff) return { ok: false, problem: 'syntax', reason: 'the body starts with a byte order mark (RFC 8259 §8.1)' };
  try {
    const parser = new Parser(text);
    const value = parser.document();
    return { ok: true, value };
  } catch (error) {
    if (error instanceof Refusal) return { ok: false, problem: error.problem, reason: error.reason };
    // A RangeError from an exhausted stack cannot happen within MAX_JSON_DEPTH; anything else is a bug worth refusing on.
    return { ok: false, problem: 'syntax', reason: 'the body could not be parsed' };
  }
}

class Parser {
  #i = 0;
  readonly #s: string;

  constructor(text: string) {
    this.#s = text;
  }

  document(): unknown {
    this.#ws();
    const value = this.#value(0);
    this.#ws();
    if (this.#i !== this.#s.length) this.#syntax('unexpected data after the JSON value');
    return value;
  }

  #syntax(what: string): never {
    throw new Refusal('syntax', `invalid JSON at offset ${this.#i}: ${what}`);
  }

  #ws(): void {
    const s = this.#s;
    let i = this.#i;
    for (;;) {
      const c = s.charCodeAt(i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
      else break;
    }
    this.#i = i;
  }

  #value(depth: number): unknown {
    const c = this.#s.charCodeAt(this.#i);
    if (c === 0x7b) return this.#object(depth + 1);
    if (c === 0x5b) return this.#array(depth + 1);
    if (c === 0x22) return this.#string();
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.#number();
    if (this.#s.startsWith('true', this.#i)) return this.#literal(4, true);
    if (this.#s.startsWith('false', this.#i)) return this.#literal(5, false);
    if (this.#s.startsWith('null', this.#i)) return this.#literal(4, null);
    return this.#syntax(Number.isNaN(c) ? 'unexpected end of input' : 'expected a value');
  }

  #literal(length: number, value: boolean | null): boolean | null {
    this.#i += length;
    return value;
  }

  #nest(depth: number): void {
    if (depth > MAX_JSON_DEPTH) throw new Refusal('interoperability', `JSON nested deeper than ${MAX_JSON_DEPTH} levels`);
  }

  #object(depth: number): Record<string, unknown> {
    this.#nest(depth);
    const out: Record<string, unknown> = {};
    this.#i++;
    this.#ws();
    if (this.#s.charCodeAt(this.#i) === 0x7d) {
      this.#i++;
      return out;
    }
    for (;;) {
      if (this.#s.charCodeAt(this.#i) !== 0x22) this.#syntax('expected a member name');
      const name = this.#string();
      if (Object.hasOwn(out, name)) {
        throw new Refusal('interoperability', `duplicate member name ${quote(name)}: parsers disagree on which one counts (RFC 7493 §2.3)`);
      }
      this.#ws();
      if (this.#s.charCodeAt(this.#i) !== 0x3a) this.#syntax('expected ":" after a member name');
      this.#i++;
      this.#ws();
      const value = this.#value(depth);
      // A member named __proto__ must be data, as JSON.parse makes it, never the prototype.
      if (name === '__proto__') Object.defineProperty(out, name, { value, enumerable: true, writable: true, configurable: true });
      else out[name] = value;
      this.#ws();
      const c = this.#s.charCodeAt(this.#i);
      this.#i++;
      if (c === 0x7d) return out;
      if (c !== 0x2c) {
        this.#i--;
        this.#syntax('expected "," or "}" in an object');
      }
      this.#ws();
    }
  }

  #array(depth: number): unknown[] {
    this.#nest(depth);
    const out: unknown[] = [];
    this.#i++;
    this.#ws();
    if (this.#s.charCodeAt(this.#i) === 0x5d) {
      this.#i++;
      return out;
    }
    for (;;) {
      out.push(this.#value(depth));
      this.#ws();
      const c = this.#s.charCodeAt(this.#i);
      this.#i++;
      if (c === 0x5d) return out;
      if (c !== 0x2c) {
        this.#i--;
        this.#syntax('expected "," or "]" in an array');
      }
      this.#ws();
    }
  }

  #string(): string {
    const s = this.#s;
    const start = this.#i + 1;
    // Most strings hold no escape: one search for the closing quote, one check of what is between.
    const close = s.indexOf('"', start);
    if (close !== -1) {
      const plain = s.slice(start, close);
      if (!SLOW_STRING.test(plain)) {
        this.#i = close + 1;
        return plain;
      }
    }
    return this.#escapedString(start);
  }

  #escapedString(from: number): string {
    const s = this.#s;
    let i = from;
    let start = i;
    let out = '';
    let surrogates = false;
    for (;;) {
      const c = s.charCodeAt(i);
      if (c === 0x22) break;
      if (Number.isNaN(c)) {
        this.#i = i;
        this.#syntax('unterminated string');
      }
      if (c < 0x20) {
        this.#i = i;
        this.#syntax('unescaped control character in a string');
      }
      if (c !== 0x5c) {
        i++;
        continue;
      }
      out += s.slice(start, i);
      const e = s.charCodeAt(i + 1);
      i += 2;
      switch (e) {
        case 0x22: out += '"'; break;
        case 0x5c: out += '\\'; break;
        case 0x2f: out += '/'; break;
        case 0x62: out += '\b'; break;
        case 0x66: out += '\f'; break;
        case 0x6e: out += '\n'; break;
        case 0x72: out += '\r'; break;
        case 0x74: out += '\t'; break;
        case 0x75: {
          const hex = s.slice(i, i + 4);
          if (!/^[0-9A-Fa-f]{4}$/.test(hex)) {
            this.#i = i;
            this.#syntax('invalid \\u escape');
          }
          const unit = Number.parseInt(hex, 16);
          if (unit >= 0xd800 && unit <= 0xdfff) surrogates = true;
          out += String.fromCharCode(unit);
          i += 4;
          break;
        }
        default:
          this.#i = i - 2;
          this.#syntax('invalid escape');
      }
      start = i;
    }
    out += s.slice(start, i);
    this.#i = i + 1;
    // Only an escape can make a surrogate here; a pair of escapes is fine, half of one is not.
    if (surrogates && LONE_SURROGATE.test(out)) throw loneSurrogate();
    return out;
  }

  #number(): number {
    const s = this.#s;
    const start = this.#i;
    let i = start;
    if (s.charCodeAt(i) === 0x2d) i++;
    const first = s.charCodeAt(i);
    if (first === 0x30) i++;
    else if (first >= 0x31 && first <= 0x39) while (isDigit(s.charCodeAt(i))) i++;
    else {
      this.#i = i;
      this.#syntax('invalid number');
    }
    if (s.charCodeAt(i) === 0x2e) {
      i++;
      if (!isDigit(s.charCodeAt(i))) {
        this.#i = i;
        this.#syntax('invalid number: digits must follow "."');
      }
      while (isDigit(s.charCodeAt(i))) i++;
    }
    const e = s.charCodeAt(i);
    if (e === 0x65 || e === 0x45) {
      i++;
      const sign = s.charCodeAt(i);
      if (sign === 0x2b || sign === 0x2d) i++;
      if (!isDigit(s.charCodeAt(i))) {
        this.#i = i;
        this.#syntax('invalid number: digits must follow the exponent');
      }
      while (isDigit(s.charCodeAt(i))) i++;
    }
    this.#i = i;
    const value = Number(s.slice(start, i));
    if (!Number.isFinite(value)) throw new Refusal('interoperability', 'a number overflows a double (RFC 7493 §2.2)');
    // Integer-valued beyond 2^53, however written (1e20 too): readers that keep integers exact
    // (Python, Go's json.Number) and JSON.parse disagree, and a rebuilt body would change it.
    if (Number.isInteger(value) && !Number.isSafeInteger(value)) {
      throw new Refusal('interoperability', 'an integer beyond ±(2^53−1) is read differently by different parsers (RFC 7493 §2.2)');
    }
    return value;
  }
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** A member name as it may appear in an error message: escaped, bounded. */
export function quote(name: string): string {
  const shown = name.length > 64 ? `${name.slice(0, 64)}…` : name;
  return asciiJson(shown);
}

/**
 * `JSON.stringify`, with every character outside printable ASCII escaped as `\uXXXX`: the same
 * bytes in every charset a lenient decoder might guess, and no U+2028/U+2029 surprises.
 */
export function asciiJson(value: unknown): string {
  const text = JSON.stringify(value);
  if (!NON_ASCII.test(text)) return text;
  // One pass, in slices: a replace callback per character costs ~50× more on a large body.
  const parts: string[] = [];
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x7f) continue;
    if (i > start) parts.push(text.slice(start, i));
    parts.push(`\\u${c.toString(16).padStart(4, '0')}`);
    start = i + 1;
  }
  parts.push(text.slice(start));
  return parts.join('');
}

const NON_ASCII = /[\u007f-\uffff]/;

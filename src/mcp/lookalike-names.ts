/**
 * Names a lenient decoder reads as another name. Go's `encoding/json` matches struct fields
 * case-insensitively with Unicode simple folding (`ſ` U+017F is `s`, `K` U+212A is `k`; the
 * bypass of GHSA-wvj2-96wp-fq3f), Jackson and System.Text.Json have case-insensitive modes, C
 * decoders stop at a NUL, and others trim spaces or a BOM. Warden refuses a name that is not
 * byte-exactly a schema name but folds to one, rather than guess which reading an upstream takes.
 *
 * @see https://github.com/advisories/GHSA-wvj2-96wp-fq3f
 * @see https://www.unicode.org/reports/tr44/#CaseFolding.txt
 */

/** Characters with no width that a decoder or a human may not see. */
const INVISIBLE = /[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]/g;
const PLAIN_ASCII = /^[\x21-\x7e]*$/;
/** Printable ASCII without upper-case letters: a name that is its own folded form. */
const ALREADY_FOLDED = /^[\x21-\x40\x5b-\x7e]*$/;

/**
 * The form under which two names are "the same" to some decoder: cut at the first NUL, invisible
 * characters removed, surrounding white space trimmed, NFKC, then each code point folded to
 * lower(upper(lower(c))) keeping only the first code point of each mapping — which makes the
 * simple case folding of Go (`ToUpper(ToLower(r))`) and the full mappings of JavaScript and Java
 * land on the same key. Deliberately broader than any one decoder: a false alarm costs a client
 * a 400 for a name no real MCP message uses; a miss costs a bypass.
 */
export function foldName(name: string): string {
  if (PLAIN_ASCII.test(name)) return name.toLowerCase();
  let s = name;
  const nul = s.indexOf('\0');
  if (nul !== -1) s = s.slice(0, nul);
  s = s.replace(INVISIBLE, '').trim().normalize('NFKC');
  let out = '';
  for (const c of s) out += firstCodePoint(firstCodePoint(firstCodePoint(c.toLowerCase()).toUpperCase()).toLowerCase());
  return out;
}

function firstCodePoint(s: string): string {
  const cp = s.codePointAt(0);
  return cp === undefined ? '' : String.fromCodePoint(cp);
}

/** A set of exact names and the folded forms that must not stand in for them. */
export class NameSet {
  readonly #exact: ReadonlySet<string>;
  readonly #folded: ReadonlyMap<string, string>;

  constructor(names: Iterable<string>) {
    const exact = new Set(names);
    this.#exact = exact;
    this.#folded = new Map([...exact].map((n) => [foldName(n), n]));
  }

  /** True when `name` is exactly one of the names. */
  has(name: string): boolean {
    return this.#exact.has(name);
  }

  /** The name `candidate` could be read as, when it is not byte-exactly that name; else undefined. */
  lookalikeOf(candidate: string): string | undefined {
    if (this.#exact.has(candidate)) return undefined;
    return this.#folded.get(foldName(candidate));
  }
}

/**
 * Two member names of one object that some decoder reads as one: the first such pair found
 * anywhere in `value` (every nested object, arrays included), or undefined.
 */
export function foldedCollision(value: unknown, depth = 0): [string, string] | undefined {
  if (value === null || typeof value !== 'object' || depth > 256) return undefined;
  if (Array.isArray(value)) {
    for (const item of value) {
      const found = foldedCollision(item, depth + 1);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  const keys = Object.keys(value);
  // Distinct names that are their own folded forms cannot fold together: skip the map.
  if (keys.length > 1 && !keys.every((key) => ALREADY_FOLDED.test(key))) {
    const seen = new Map<string, string>();
    for (const key of keys) {
      const folded = foldName(key);
      const other = seen.get(folded);
      if (other !== undefined) return [other, key];
      seen.set(folded, key);
    }
  }
  for (const key of keys) {
    const found = foldedCollision((value as Record<string, unknown>)[key], depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}

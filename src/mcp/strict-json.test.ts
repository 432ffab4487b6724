import { randomInt } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { asciiJson, MAX_JSON_DEPTH, parseStrictJson } from './strict-json.js';

const ok = (text: string | Uint8Array) => {
  const r = parseStrictJson(text);
  if (!r.ok) throw new Error(`refused: ${r.reason}`);
  return r.value;
};
const refused = (text: string | Uint8Array) => {
  const r = parseStrictJson(text);
  if (r.ok) throw new Error(`accepted: ${JSON.stringify(r.value)}`);
  return r;
};

describe('parseStrictJson reads what JSON.parse reads (RFC 8259)', () => {
  it.each([
    // RFC 8259 §13 examples.
    '{"Image":{"Width":800,"Height":600,"Title":"View from 15th Floor","Thumbnail":{"Url":"http://www.example.com/image/481989943","Height":125,"Width":100},"Animated":false,"IDs":[116,943,234,38793]}}',
    '[{"precision":"zip","Latitude":37.7668,"Longitude":-122.3959,"Address":"","City":"SAN FRANCISCO","State":"CA","Zip":"94107","Country":"US"}]',
    '"Hello world!"', '42', 'true', 'null', '[]', '{}', ' \t\n\r[ 1 , -0 , 0.5e-3 , 1E+2 ] ',
    '"\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00"', '{"__proto__":{"polluted":1}}', '"héllo ſ 😀"',
  ])('%s', (text) => {
    expect(ok(text)).toStrictEqual(JSON.parse(text));
    expect(ok(Buffer.from(text))).toStrictEqual(JSON.parse(text));
  });

  it('a member named __proto__ is data, never the prototype', () => {
    const value = ok('{"__proto__":{"polluted":1}}') as Record<string, unknown>;
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.keys(value)).toEqual(['__proto__']);
  });

  it('agrees with JSON.parse on 2,000 random I-JSON documents', () => {
    const gen = (depth: number): unknown => {
      const pick = randomInt(depth > 3 ? 5 : 7);
      if (pick === 0) return randomInt(-1e9, 1e9);
      if (pick === 1) return randomInt(1e6) / 1000;
      if (pick === 2) return String.fromCodePoint(...Array.from({ length: randomInt(8) }, () => [0x22, 0x5c, 0x0a, 0x41, 0xe9, 0x1f600, 0x2028][randomInt(7)] as number));
      if (pick === 3) return [true, false, null][randomInt(3)];
      if (pick === 4) return '';
      if (pick === 5) return Array.from({ length: randomInt(4) }, () => gen(depth + 1));
      return Object.fromEntries(Array.from({ length: randomInt(4) }, (_, i) => [`k${i}${'ſé'.slice(0, randomInt(3))}`, gen(depth + 1)]));
    };
    for (let i = 0; i < 2000; i++) {
      const text = JSON.stringify(gen(0));
      expect(ok(text)).toStrictEqual(JSON.parse(text));
    }
  });
});

describe('parseStrictJson refuses what parsers read differently (RFC 7493 I-JSON)', () => {
  it.each([
    ['a duplicate member (§2.3)', '{"a":1,"a":2}'],
    ['a duplicate member deep inside', '{"a":{"b":[{"c":1,"c":1}]}}'],
    ['a duplicate written once as an escape', '{"name":1,"n\\u0061me":2}'],
    ['a lone high surrogate (§2.1)', '"\\ud800"'],
    ['a lone low surrogate in a name', '{"\\udc00":1}'],
    ['reversed surrogates', '"\\udc00\\ud800"'],
    ['an integer beyond 2^53 (§2.2)', '9007199254740993'],
    ['a negative integer beyond 2^53', '-9007199254740993'],
    ['a number that overflows', '1e400'],
    ['an integer beyond 2^53 written with an exponent', '1e20'],
    ['an integer-valued float beyond 2^53', '1.5e300'],
    ['nesting beyond the cap', `${'['.repeat(MAX_JSON_DEPTH + 1)}${']'.repeat(MAX_JSON_DEPTH + 1)}`],
  ])('%s → interoperability', (_name, text) => {
    expect(refused(text).problem).toBe('interoperability');
  });

  it.each([
    ['a UTF-8 BOM (RFC 8259 §8.1)', Buffer.from([0xef, 0xbb, 0xbf, 0x7b, 0x7d])],
    ['a BOM in a string input', '\ufeff{}'],
    ['invalid UTF-8', Buffer.from([0x22, 0xff, 0x22])],
    ['an overlong UTF-8 encoding', Buffer.from([0x22, 0xc0, 0xaf, 0x22])],
    ['a UTF-8-encoded surrogate', Buffer.from([0x22, 0xed, 0xa0, 0x80, 0x22])],
    ['UTF-16LE', Buffer.from('{"a":1}', 'utf16le')],
    ['a trailing comma', '{"a":1,}'],
    ['a comment', '{"a":1 /* x */}'],
    ['single quotes', "{'a':1}"],
    ['an unquoted name', '{a:1}'],
    ['NaN', 'NaN'],
    ['a leading zero', '01'],
    ['a leading plus', '+1'],
    ['a bare dot', '1.'],
    ['an unescaped control character', '"a\u0001"'],
    ['an invalid escape', '"\\x41"'],
    ['a short \\u escape', '"\\u12"'],
    ['two values', '{} {}'],
    ['an empty text', ''],
    ['an unterminated string', '"abc'],
    ['an unterminated object', '{"a":1'],
    ['a vertical tab as white space', '\u000b{}'],
    ['a NUL after the value', '{}\u0000'],
  ])('%s → syntax', (_name, text) => {
    expect(refused(text).problem).toBe('syntax');
  });
});

describe('asciiJson', () => {
  it('escapes every non-ASCII character so any charset guess reads the same bytes, and round-trips', () => {
    const value = { text: 'héllo ſ 😀 \u2028', k: 'K' };
    const out = asciiJson(value);
    expect(out).toMatch(/^[\x20-\x7e]*$/);
    expect(JSON.parse(out)).toStrictEqual(value);
  });
});

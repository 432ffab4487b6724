/**
 * Bytes and media types: bodies that are not UTF-8 JSON text (RFC 8259 §8.1), charsets, content
 * codings and content types an upstream may decode differently from Warden.
 */
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { INVALID_REQUEST, PARSE_ERROR, UNSUPPORTED_MEDIA, type DiffCase } from './case.js';
import { ADMIN, ECHO, utf16, utf32, utf8 } from './json-text.js';

/** A UTF-8 BOM, UTF-16/32 with and without BOM, invalid UTF-8, lone surrogate escapes. */
export function encodingCases(): DiffCase[] {
  const cases: DiffCase[] = [];
  const bad = (why: string) => PARSE_ERROR(`${why} (RFC 8259 §8.1: JSON text exchanged between systems is UTF-8, without a BOM)`);
  for (const [tool, text] of [['admin', ADMIN], ['echo', ECHO]] as const) {
    cases.push({ id: `encoding/utf-8-bom/${tool}`, group: 'encoding', body: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), utf8(text)]), expect: bad('a UTF-8 BOM') });
    for (const order of ['le', 'be'] as const) {
      for (const bom of [true, false]) {
        const label = `${order}${bom ? '-bom' : ''}`;
        cases.push({ id: `encoding/utf-16${label}/${tool}`, group: 'encoding', body: utf16(text, order, bom), expect: bad(`UTF-16${order.toUpperCase()}`) });
        cases.push({ id: `encoding/utf-32${label}/${tool}`, group: 'encoding', body: utf32(text, order, bom), expect: bad(`UTF-32${order.toUpperCase()}`) });
      }
    }
  }
  const withBytes = (before: string, bytes: number[], after: string): Buffer => Buffer.concat([utf8(before), Buffer.from(bytes), utf8(after)]);
  const invalid = (id: string, body: Buffer, why: string): DiffCase => ({ id: `encoding/invalid-utf-8/${id}`, group: 'encoding', body, expect: bad(why) });
  cases.push(
    invalid('0xff-in-tool-name', withBytes('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo', [0xff], '"}}'), 'byte 0xFF'),
    invalid('lone-continuation-in-key', withBytes('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo"},"param', [0x80], '":{"name":"admin_delete"}}'), 'a lone continuation byte'),
    invalid('overlong-s', withBytes('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo"},"param', [0xc1, 0xb3], '":{"name":"admin_delete"}}'), 'an overlong encoding of "s"'),
    invalid('overlong-quote', withBytes('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo', [0xc0, 0xa2], ',"x":"admin_delete"}}'), 'an overlong encoding of \'"\''),
    invalid('cesu-8-surrogate', withBytes('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo', [0xed, 0xa0, 0x80], '"}}'), 'a CESU-8 encoded surrogate'),
    invalid('truncated-sequence', withBytes('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo', [0xe2, 0x82], '"}}'), 'a truncated multi-byte sequence'),
    invalid(
      'two-keys-one-replacement',
      Buffer.concat([withBytes('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","x', [0xfe], '":"a",'), withBytes('"x', [0xff], '":"b"}}')]),
      'bytes that decode to the same U+FFFD key',
    ),
    invalid('nul-byte', withBytes('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo"}}', [0x00], ''), 'a raw NUL after the JSON text'),
  );
  // Lone surrogates are valid JSON escapes but no Unicode string (RFC 8259 §8.2): parsers differ.
  const surrogate = (id: string, text: string): DiffCase => ({
    id: `encoding/lone-surrogate/${id}`,
    group: 'encoding',
    body: utf8(text),
    expect: INVALID_REQUEST('a lone surrogate escape: not a Unicode string, readers differ (RFC 8259 §8.2)'),
  });
  cases.push(
    surrogate('high-in-tool-name', '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"admin_delete\\ud800"}}'),
    surrogate('low-in-tool-name', '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo\\udc00"}}'),
    surrogate('in-member-name', '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo"},"params\\ud800":{"name":"admin_delete"}}'),
    surrogate('in-argument', '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"\\udfff"}}}'),
  );
  return cases;
}

/** `Content-Type` charsets other than UTF-8 (and UTF-8 spelled in ways that must pass). */
export function charsetCases(): DiffCase[] {
  const notUtf8 = (charset: string) => UNSUPPORTED_MEDIA(`charset=${charset} is not UTF-8 (RFC 8259 §8.1; RFC 9110 §15.5.16)`);
  const ct = (value: string) => ({ 'content-type': value });
  return [
    { id: 'charset/utf-16/utf-16-body', group: 'charset', headers: ct('application/json; charset=utf-16'), body: utf16(ADMIN, 'le', true), expect: notUtf8('utf-16') },
    { id: 'charset/utf-16/echo-utf-16-body', group: 'charset', headers: ct('application/json; charset=utf-16'), body: utf16(ECHO, 'le', true), expect: notUtf8('utf-16') },
    { id: 'charset/utf-16/utf-8-body', group: 'charset', headers: ct('application/json; charset=utf-16'), body: utf8(ECHO), expect: notUtf8('utf-16') },
    { id: 'charset/utf-16le', group: 'charset', headers: ct('application/json;charset=UTF-16LE'), body: utf16(ECHO, 'le', false), expect: notUtf8('UTF-16LE') },
    { id: 'charset/utf-32', group: 'charset', headers: ct('application/json; charset=utf-32'), body: utf32(ECHO, 'le', true), expect: notUtf8('utf-32') },
    { id: 'charset/latin1', group: 'charset', headers: ct('application/json; charset=latin1'), body: utf8('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"café"}}}'), expect: notUtf8('latin1') },
    { id: 'charset/iso-8859-1', group: 'charset', headers: ct('application/json; charset=ISO-8859-1'), body: utf8(ECHO), expect: notUtf8('ISO-8859-1') },
    { id: 'charset/windows-1252', group: 'charset', headers: ct('application/json; charset=windows-1252'), body: utf8(ECHO), expect: notUtf8('windows-1252') },
    { id: 'charset/utf-7-quoted', group: 'charset', headers: ct('application/json; charset="utf-7"'), body: utf8(ECHO), expect: notUtf8('"utf-7"') },
    { id: 'charset/utf-8', group: 'charset', headers: ct('application/json; charset=utf-8'), body: utf8(ECHO), mustForward: true },
    { id: 'charset/utf-8-quoted-upper', group: 'charset', headers: ct('application/json; charset="UTF-8"'), body: utf8(ECHO), mustForward: true },
    { id: 'charset/twice', group: 'charset', headers: ct('application/json; charset=utf-8; charset=utf-7'), body: utf8(ECHO) },
  ];
}

/** Content codings: Warden reads none, an upstream (the Python one) inflates gzip and deflate. */
export function contentEncodingCases(): DiffCase[] {
  const encoded = (coding: string) => UNSUPPORTED_MEDIA(`Content-Encoding ${coding}: Warden reads no coded bodies, an upstream might (RFC 9110 §8.4, §15.5.16)`);
  const ce = (value: string) => ({ 'content-encoding': value });
  return [
    { id: 'content-encoding/gzip/admin', group: 'content-encoding', headers: ce('gzip'), body: gzipSync(utf8(ADMIN)), expect: encoded('gzip') },
    { id: 'content-encoding/gzip/echo', group: 'content-encoding', headers: ce('gzip'), body: gzipSync(utf8(ECHO)), expect: encoded('gzip') },
    { id: 'content-encoding/gzip/uncompressed-body', group: 'content-encoding', headers: ce('gzip'), body: utf8(ECHO), expect: encoded('gzip') },
    { id: 'content-encoding/x-gzip', group: 'content-encoding', headers: ce('x-gzip'), body: gzipSync(utf8(ADMIN)), expect: encoded('x-gzip') },
    { id: 'content-encoding/GZIP-upper', group: 'content-encoding', headers: ce('GZIP'), body: gzipSync(utf8(ADMIN)), expect: encoded('GZIP') },
    { id: 'content-encoding/deflate', group: 'content-encoding', headers: ce('deflate'), body: deflateSync(utf8(ADMIN)), expect: encoded('deflate') },
    { id: 'content-encoding/br', group: 'content-encoding', headers: ce('br'), body: brotliCompressSync(utf8(ADMIN)), expect: encoded('br') },
    { id: 'content-encoding/identity-then-gzip', group: 'content-encoding', headers: ce('identity, gzip'), body: gzipSync(utf8(ADMIN)), expect: encoded('identity, gzip') },
    { id: 'content-encoding/two-headers', group: 'content-encoding', headers: { 'content-encoding': ['identity', 'gzip'] }, body: gzipSync(utf8(ECHO)), expect: encoded('identity + gzip') },
    { id: 'content-encoding/identity', group: 'content-encoding', headers: ce('identity'), body: utf8(ECHO) },
  ];
}

/** JSON bodies under other media types (Go's decoder ignores the content type). */
export function contentTypeCases(): DiffCase[] {
  const ct = (value: string | null) => ({ 'content-type': value });
  return [
    { id: 'content-type/text-plain', group: 'content-type', headers: ct('text/plain'), body: utf8(ECHO) },
    {
      id: 'content-type/text-plain-params-long-s',
      group: 'content-type',
      headers: ct('text/plain'),
      body: utf8('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo"},"paramſ":{"name":"admin_delete"}}'),
    },
    { id: 'content-type/missing', group: 'content-type', headers: ct(null), body: utf8(ECHO) },
    { id: 'content-type/form-urlencoded', group: 'content-type', headers: ct('application/x-www-form-urlencoded'), body: utf8(ECHO) },
    { id: 'content-type/multipart', group: 'content-type', headers: ct('multipart/form-data; boundary=xyz'), body: utf8(ECHO) },
    { id: 'content-type/vendor-json', group: 'content-type', headers: ct('application/vnd.attacker+json'), body: utf8(ECHO) },
    { id: 'content-type/jsonx', group: 'content-type', headers: ct('application/jsonx'), body: utf8(ECHO) },
    { id: 'content-type/text-json', group: 'content-type', headers: ct('text/json'), body: utf8(ECHO) },
    { id: 'content-type/upper-case', group: 'content-type', headers: ct('APPLICATION/JSON'), body: utf8(ECHO) },
    { id: 'content-type/trailing-semicolon', group: 'content-type', headers: ct('application/json;'), body: utf8(ECHO) },
    { id: 'content-type/list', group: 'content-type', headers: ct('application/json, text/plain'), body: utf8(ECHO) },
    { id: 'content-type/twice', group: 'content-type', headers: { 'content-type': ['application/json', 'text/plain'] }, body: utf8(ECHO) },
    { id: 'content-type/extra-parameter', group: 'content-type', headers: ct('application/json; profile=x'), body: utf8(ECHO) },
  ];
}

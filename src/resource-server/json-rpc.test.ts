import { describe, expect, it } from 'vitest';
import { MessageRefusedError } from '../mcp/message-refused-error.js';
import { readRpcView, REFUSED_BODY, type RpcView } from './json-rpc.js';
import type { VerifyRequest } from './types.js';

const JSON_TYPE = { 'content-type': 'application/json' };
const call = (name: string, id: number | string = 1) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: {} } });
const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

function view(body: unknown, headers: VerifyRequest['headers'] = JSON_TYPE, strict = true): RpcView {
  return readRpcView({ method: 'POST', url: '/mcp', headers, body }, strict);
}

function refusal(body: unknown, headers: VerifyRequest['headers'] = JSON_TYPE): { status: number; rpcCode: number; code: string; challenge: boolean; headers: Record<string, string>; description: string } {
  try {
    view(body, headers, true);
  } catch (error) {
    if (!(error instanceof MessageRefusedError)) throw error;
    return { status: error.status, rpcCode: error.rpcCode, code: error.code, challenge: error.challenge, headers: error.headers, description: error.description };
  }
  throw new Error('expected the body to be refused');
}
const refused = (status: number, rpcCode: number, extra: Record<string, string> = {}) => ({ status, rpcCode, code: 'invalid_request', challenge: false, headers: extra, description: expect.any(String) as string });

const NOT_RPC = { isJsonRpc: false, id: null, toolNames: [], messages: [], json: undefined, ambiguous: false };
const UNREADABLE = { ...NOT_RPC, ambiguous: true };

describe('readRpcView — what the gauntlet reads from an MCP body', () => {
  it('no body, null, an empty string or empty bytes: not JSON-RPC, nothing to judge', () => {
    for (const body of [undefined, null, '', new Uint8Array(0)]) expect(view(body)).toStrictEqual(NOT_RPC);
  });

  it('JSON-RPC 2.0 §4: a single request as bytes or a string — its id, its tool, its message and the parsed JSON', () => {
    for (const body of [bytes(JSON.stringify(call('echo', 42))), JSON.stringify(call('echo', 42))]) {
      expect(view(body)).toStrictEqual({
        isJsonRpc: true,
        id: 42,
        toolNames: ['echo'],
        messages: [{ kind: 'request', id: 42, method: 'tools/call', params: { name: 'echo', arguments: {} } }],
        json: call('echo', 42),
        ambiguous: false,
      });
    }
  });

  it('JSON-RPC 2.0 §6: a batch has no single id; its tools are listed once each, in order', () => {
    const v = view(JSON.stringify([call('b', 1), call('a', 2), call('b', 3), { jsonrpc: '2.0', method: 'tools/call', params: { name: 'c' } }]));
    expect([v.isJsonRpc, v.id, v.toolNames]).toEqual([true, null, ['b', 'a', 'c']]);
  });

  it('JSON-RPC 2.0 §4.1 / §5: a notification or a response has no id to answer', () => {
    expect(view(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }))).toMatchObject({ isJsonRpc: true, id: null, toolNames: [] });
    expect(view(JSON.stringify({ jsonrpc: '2.0', id: 9, result: {} }))).toMatchObject({ isJsonRpc: true, id: null });
  });

  it('JSON that carries no JSON-RPC member is read (json set) but is not JSON-RPC', () => {
    expect(view('{"hello":"world"}')).toStrictEqual({ ...NOT_RPC, json: { hello: 'world' } });
    expect(view('[1,2]')).toStrictEqual({ ...NOT_RPC, json: [1, 2] });
  });

  it('a JSON-RPC body declared as text/plain is still read as JSON-RPC: its tools count', () => {
    expect(view(JSON.stringify(call('admin_reset')), { 'content-type': 'text/plain' })).toMatchObject({ isJsonRpc: true, toolNames: ['admin_reset'], ambiguous: false });
  });

  it('a form body is not JSON-RPC but ambiguous: a decoder ignoring the content type must not find a cheaper call in it', () => {
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    expect(view('jsonrpc=2.0&method=tools%2Fcall&params=x', form)).toStrictEqual(UNREADABLE);
    expect(view(bytes('a=1'), form, false)).toStrictEqual(UNREADABLE);
    expect(view('plain words', { 'content-type': 'text/plain; charset=utf-8' })).toStrictEqual(UNREADABLE);
  });

  it('REFUSED_BODY, for a request refused before its body was read, still answers as JSON-RPC', () => {
    expect(REFUSED_BODY).toStrictEqual({ ...NOT_RPC, isJsonRpc: true });
    expect(Object.isFrozen(REFUSED_BODY)).toBe(true);
  });
});

describe('readRpcView strict (the default) — a body every parser reads alike, or 400 / 415 without a challenge', () => {
  it('RFC 9110 §15.5.16: any Content-Encoding but identity → 415 with Accept-Encoding: identity', () => {
    for (const encoding of ['gzip', 'br', 'identity, gzip', 'x-custom']) {
      expect(refusal(JSON.stringify(call('echo')), { ...JSON_TYPE, 'content-encoding': encoding })).toStrictEqual(refused(415, -32600, { 'Accept-Encoding': 'identity' }));
    }
    expect(refusal('{}', { ...JSON_TYPE, 'content-encoding': 'gzip' }).description).toBe(
      'request bodies with a Content-Encoding are not accepted: send the JSON uncompressed (RFC 9110 §15.5.16)',
    );
    expect(view(JSON.stringify(call('echo')), { ...JSON_TYPE, 'content-encoding': 'identity' }).toolNames).toEqual(['echo']);
  });

  it('RFC 8259 §8.1: a charset other than UTF-8 → 415', () => {
    for (const type of ['application/json; charset=utf-16', 'application/json; charset=iso-8859-1', 'text/plain; charset="utf-7"']) {
      expect(refusal(JSON.stringify(call('echo')), { 'content-type': type })).toStrictEqual(refused(415, -32600));
    }
    for (const type of ['application/json; charset=utf-8', 'application/json;charset=UTF8', 'application/vnd.api+json']) {
      expect(view(JSON.stringify(call('echo')), { 'content-type': type }).toolNames).toEqual(['echo']);
    }
  });

  it('RFC 9110 §8.3: two Content-Type headers or a malformed one → 400', () => {
    expect(refusal('{}', { 'content-type': ['application/json', 'text/plain'] })).toStrictEqual(refused(400, -32600));
    expect(refusal('{}', { 'content-type': 'application/json; charset' })).toStrictEqual(refused(400, -32600));
  });

  it('JSON-RPC 2.0 §5.1: not JSON under a JSON content type, or none → 400 parse error -32700', () => {
    for (const headers of [JSON_TYPE, {}]) {
      expect(refusal('{"jsonrpc":"2.0",', headers)).toStrictEqual(refused(400, -32700));
      expect(refusal(bytes('not json'), headers)).toStrictEqual(refused(400, -32700));
    }
  });

  it('RFC 8259 §8.1: a byte order mark or invalid UTF-8 → 400 -32700', () => {
    expect(refusal(new Uint8Array([0xef, 0xbb, 0xbf, ...bytes(JSON.stringify(call('echo')))]))).toStrictEqual(refused(400, -32700));
    expect(refusal(new Uint8Array([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]))).toStrictEqual(refused(400, -32700));
  });

  it('RFC 7493 §2: JSON parsers read differently (duplicate names, lone surrogates, integers beyond 2^53) → 400 -32600, whatever the declared type', () => {
    const duplicate = '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","name":"admin_reset"}}';
    for (const headers of [JSON_TYPE, { 'content-type': 'text/plain' }, {}]) {
      expect(refusal(duplicate, headers)).toStrictEqual(refused(400, -32600));
    }
    expect(refusal('{"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":"\\ud800"}}')).toStrictEqual(refused(400, -32600));
    expect(refusal('{"jsonrpc":"2.0","id":9007199254740993,"method":"ping"}')).toStrictEqual(refused(400, -32600));
  });

  it('member names and methods a lenient decoder reads as schema names → 400 -32600', () => {
    for (const body of [
      { jsonrpc: '2.0', id: 1, method: 'tools/call', Params: { name: 'echo' } },
      { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', 'nAme': 'admin_reset' } },
      { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', 'name\u0000': 'admin_reset' } },
      { jsonrpc: '2.0', id: 1, method: 'tools/call', 'paramſ': { name: 'admin_reset' } },
      { jsonrpc: '2.0', id: 1, method: 'Tools/Call', params: { name: 'admin_reset' } },
    ]) {
      expect(refusal(JSON.stringify(body))).toStrictEqual(refused(400, -32600));
    }
  });

  it('malformed messages → 400 -32600: tools/call without a name, a batch mixing messages and other JSON', () => {
    expect(refusal(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: {} }))).toStrictEqual(refused(400, -32600));
    expect(refusal(JSON.stringify([call('echo'), { hello: 1 }]))).toStrictEqual(refused(400, -32600));
  });
});

describe('readRpcView — pre-parsed bodies (a framework parsed first): only member names are checked', () => {
  it('a parsed request is read like the bytes would be', () => {
    expect(view(call('echo', 'a'))).toMatchObject({ isJsonRpc: true, id: 'a', toolNames: ['echo'], json: call('echo', 'a') });
  });

  it('lookalike member names are still refused', () => {
    expect(refusal({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', NAME: 'admin_reset' } })).toStrictEqual(refused(400, -32600));
  });

  it('I-JSON checks do not apply to what another parser already produced (a big integer, a lone surrogate pass)', () => {
    expect(view({ jsonrpc: '2.0', id: 2 ** 60, method: 'ping', params: { x: '\ud800' } })).toMatchObject({ isJsonRpc: true, id: 2 ** 60 });
  });

  // BUG (reported): `VerifyRequest.body` may be "raw string/bytes", but only a string or a
  // Uint8Array is read as bytes. An ArrayBuffer (what `await request.arrayBuffer()` returns), a
  // DataView, a Blob or a stream is taken for a pre-parsed JSON value with no JSON-RPC members:
  // not JSON-RPC, not ambiguous — so a tools/call for a tool with its own scopes needs only the
  // default scopes (verified end to end: createResourceServer(...).verify with an ArrayBuffer body
  // for admin_reset and a token holding only mcp:tools answers ok). Fix in readBody: read
  // ArrayBuffer and ArrayBuffer views as bytes (`new Uint8Array(buffer, offset, length)`), and
  // treat any other non-plain object (prototype neither Object.prototype nor null, not an array)
  // as unreadable — refused when strict, ambiguous when lenient.
  it('an ArrayBuffer or DataView body is read as bytes: the tool it calls counts', () => {
    const raw = bytes(JSON.stringify(call('admin_reset')));
    expect(view(raw.buffer).toolNames).toEqual(['admin_reset']);
    expect(view(new DataView(raw.buffer)).toolNames).toEqual(['admin_reset']);
  });
});

describe('readRpcView — MCP SEP-2243 Mcp-Method / Mcp-Name must mirror the body (strict)', () => {
  const body = JSON.stringify(call('echo'));

  it('headers that equal the body pass, base64-sentinel names included', () => {
    expect(view(body, { ...JSON_TYPE, 'mcp-method': 'tools/call', 'mcp-name': 'echo' }).toolNames).toEqual(['echo']);
    expect(view(body, { ...JSON_TYPE, 'mcp-name': `=?base64?${Buffer.from('echo').toString('base64')}?=` }).toolNames).toEqual(['echo']);
  });

  it('a header naming another method or target → 400 HeaderMismatch -32020', () => {
    expect(refusal(body, { ...JSON_TYPE, 'mcp-method': 'tools/list' })).toStrictEqual({
      ...refused(400, -32020),
      description: "the Mcp-Method header does not name the body's method (MCP SEP-2243: servers reject requests whose headers and body disagree)",
    });
    expect(refusal(body, { ...JSON_TYPE, 'mcp-method': 'tools/call', 'mcp-name': 'admin_reset' })).toStrictEqual(refused(400, -32020));
    expect(refusal(body, { ...JSON_TYPE, 'mcp-method': ['tools/call', 'tools/call'] })).toStrictEqual(refused(400, -32020));
  });

  it('a header with no single message to mirror (a batch, a body that is not JSON-RPC) → 400 -32020', () => {
    expect(refusal(JSON.stringify([call('echo')]), { ...JSON_TYPE, 'mcp-method': 'tools/call' })).toStrictEqual(refused(400, -32020));
    expect(refusal('a=1', { 'content-type': 'application/x-www-form-urlencoded', 'mcp-method': 'tools/call' })).toStrictEqual(refused(400, -32020));
  });

  it('header names match case-insensitively in plain records', () => {
    expect(refusal(body, { 'Content-Type': 'application/json', 'Mcp-Method': 'tools/list' })).toStrictEqual(refused(400, -32020));
  });
});

describe('readRpcView lenient (strictMessages: false) — nothing refused, doubtful bodies judged ambiguous', () => {
  it('a body strict mode refuses is unreadable instead: not JSON-RPC, ambiguous (every scope required)', () => {
    for (const body of ['{"jsonrpc":', '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a","name":"b"}}', JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', Params: { name: 'x' } })]) {
      expect(view(body, JSON_TYPE, false)).toStrictEqual(UNREADABLE);
    }
    expect(view({ jsonrpc: '2.0', id: 1, method: 'Tools/Call', params: { name: 'x' } }, JSON_TYPE, false)).toStrictEqual(UNREADABLE);
  });

  it('content coding, charset and SEP-2243 headers are not checked', () => {
    const headers = { 'content-type': 'application/json; charset=utf-16', 'content-encoding': 'gzip', 'mcp-method': 'tools/list' };
    expect(view(JSON.stringify(call('echo', 3)), headers, false)).toMatchObject({ isJsonRpc: true, id: 3, toolNames: ['echo'], ambiguous: false });
  });
});

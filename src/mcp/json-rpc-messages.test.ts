import { describe, expect, it } from 'vitest';
import { calledTools, inspectMessages } from './json-rpc-messages.js';

const call = (name: string, id: number | string = 1) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: {} } });

describe('inspectMessages (JSON-RPC 2.0 §4–6, MCP basic/messages)', () => {
  it('classifies requests, notifications and responses, keeping only schema members', () => {
    const r = inspectMessages([
      { ...call('echo'), extra: 1 },
      { jsonrpc: '2.0', method: 'notifications/initialized' },
      { jsonrpc: '2.0', id: 'x', result: { ok: true } },
      { jsonrpc: '2.0', id: null, error: { code: -32000, message: 'no', data: [1] } },
    ]);
    expect(r).toMatchObject({ ok: true, isJsonRpc: true, batch: true });
    if (!r.ok) throw new Error();
    expect(r.messages.map((m) => m.kind)).toEqual(['request', 'notification', 'response', 'response']);
    expect(r.messages[0]).toStrictEqual({ kind: 'request', id: 1, method: 'tools/call', params: { name: 'echo', arguments: {} } });
    expect(r.messages[3]).toMatchObject({ error: { code: -32000, message: 'no', data: [1] } });
    expect(calledTools(r.messages)).toEqual(['echo']);
  });

  it('JSON without any JSON-RPC member is not JSON-RPC (the library lets the application judge it)', () => {
    expect(inspectMessages({ hello: 'world' })).toMatchObject({ ok: true, isJsonRpc: false, messages: [] });
    expect(inspectMessages([1, 2])).toMatchObject({ ok: true, isJsonRpc: false });
    expect(inspectMessages('text')).toMatchObject({ ok: true, isJsonRpc: false });
  });

  it.each([
    ['a lookalike top-level member', { jsonrpc: '2.0', id: 1, method: 'tools/call', Params: { name: 'x' } }],
    ['a lookalike "jsonrpc"', { 'jſonrpc': '2.0', id: 1, method: 'tools/call', params: { name: 'x' } }],
    ['a lookalike params member', { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'a', NAME: 'b' } }],
    ['a lone lookalike params member', { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { nAme: 'b' } }],
    ['two argument names that fold together', { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'a', arguments: { path: '/tmp', PATH: '/etc' } } }],
    ['jsonrpc 1.0', { jsonrpc: '1.0', id: 1, method: 'tools/call', params: { name: 'x' } }],
    ['no jsonrpc member', { id: 1, method: 'tools/call', params: { name: 'x' } }],
    ['a non-string method', { jsonrpc: '2.0', id: 1, method: 7 }],
    ['a lookalike method', { jsonrpc: '2.0', id: 1, method: 'tools/CALL', params: { name: 'x' } }],
    ['array params', { jsonrpc: '2.0', id: 1, method: 'tools/call', params: ['x'] }],
    ['tools/call without a name', { jsonrpc: '2.0', id: 1, method: 'tools/call', params: {} }],
    ['a null request id (MCP)', { jsonrpc: '2.0', id: null, method: 'ping' }],
    ['an object id', { jsonrpc: '2.0', id: {}, method: 'ping' }],
    ['request and response at once', { jsonrpc: '2.0', id: 1, method: 'ping', result: {} }],
    ['a response with result and error', { jsonrpc: '2.0', id: 1, result: {}, error: { code: 1, message: 'x' } }],
    ['a response with neither', { jsonrpc: '2.0', id: 1 }],
    ['a malformed error object', { jsonrpc: '2.0', id: 1, error: { code: 'x', message: 'y' } }],
    ['a batch mixing messages and other JSON', [call('echo'), { hello: 1 }]],
  ])('%s → refused with a reason', (_name, value) => {
    const r = inspectMessages(value);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason.length).toBeGreaterThan(10);
  });
});

import { describe, expect, it } from 'vitest';
import { inspectMessages, type JsonRpcMessage } from './json-rpc-messages.js';
import { MessageRefusedError } from './message-refused-error.js';
import { checkStandardHeaders, decodeHeaderValue, encodeHeaderValue } from './standard-headers.js';

const messagesOf = (value: unknown): JsonRpcMessage[] => {
  const r = inspectMessages(value);
  if (!r.ok) throw new Error(r.reason);
  return r.messages;
};
const call = (name: string) => messagesOf({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name } });

function refusal(f: () => unknown): MessageRefusedError {
  try {
    f();
  } catch (error) {
    if (error instanceof MessageRefusedError) return error;
    throw error;
  }
  throw new Error('not refused');
}

describe('Mcp-Method / Mcp-Name must mirror the body (MCP SEP-2243)', () => {
  it('matching headers pass and are re-encoded from the body; absent headers stay absent', () => {
    expect(checkStandardHeaders(call('echo'), false, { method: ['tools/call'], name: [' echo '] })).toEqual({ 'mcp-method': 'tools/call', 'mcp-name': 'echo' });
    expect(checkStandardHeaders(call('echo'), false, { method: [], name: [] })).toEqual({});
    const uri = messagesOf({ jsonrpc: '2.0', id: 1, method: 'resources/read', params: { uri: 'file:///a b' } });
    expect(checkStandardHeaders(uri, false, { method: [], name: ['file:///a b'] })).toEqual({ 'mcp-name': 'file:///a b' });
  });

  it('a non-ASCII name travels as =?base64?…?= and is compared decoded', () => {
    const header = encodeHeaderValue('tööl');
    expect(header).toBe(`=?base64?${Buffer.from('tööl').toString('base64')}?=`);
    expect(checkStandardHeaders(call('tööl'), false, { method: ['tools/call'], name: [header] })).toEqual({ 'mcp-method': 'tools/call', 'mcp-name': header });
    expect(decodeHeaderValue('=?BASE64?ZWNobw==?=')).toBe('=?BASE64?ZWNobw==?='); // markers are case-sensitive: a literal value
    expect(decodeHeaderValue('=?base64?ZWNobw?=')).toBeUndefined(); // not canonical base64
    expect(encodeHeaderValue(' padded')).toMatch(/^=\?base64\?/);
    expect(encodeHeaderValue('=?base64?x?=')).toMatch(/^=\?base64\?/);
  });

  it.each([
    ['Mcp-Name naming another tool', call('echo'), { method: [], name: ['admin_delete'] }],
    ['Mcp-Name in base64 naming another tool', call('echo'), { method: [], name: [encodeHeaderValue('admin_delete')] }],
    ['a malformed base64 Mcp-Name', call('echo'), { method: [], name: ['=?base64?!!?='] }],
    ['Mcp-Method naming another method', call('echo'), { method: ['tools/list'], name: [] }],
    ['Mcp-Method differing by case', call('echo'), { method: ['Tools/Call'], name: [] }],
    ['two Mcp-Name headers', call('echo'), { method: [], name: ['echo', 'echo'] }],
    ['Mcp-Name for a method without a target', messagesOf({ jsonrpc: '2.0', id: 1, method: 'tools/list' }), { method: [], name: ['echo'] }],
    ['headers on a batch', messagesOf([{ jsonrpc: '2.0', id: 1, method: 'ping' }]), { method: ['ping'], name: [] }],
    ['headers on a response', messagesOf({ jsonrpc: '2.0', id: 1, result: {} }), { method: ['ping'], name: [] }],
  ])('%s → 400 with JSON-RPC -32020 (HeaderMismatch)', (_name, messages, sent) => {
    const error = refusal(() => checkStandardHeaders(messages, Array.isArray(messages) && _name.includes('batch'), sent));
    expect(error.status).toBe(400);
    expect(error.rpcCode).toBe(-32020);
  });
});

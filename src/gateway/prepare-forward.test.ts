import { describe, expect, it } from 'vitest';
import { MessageRefusedError } from '../mcp/message-refused-error.js';
import { prepareForward, type ForwardRequest } from './prepare-forward.js';

const mount = { mountPath: '/mcp', upstream: new URL('http://127.0.0.1:9000/up') };
const post = (body: string | Buffer, headers: Record<string, string[]> = {}): ForwardRequest => ({
  method: 'POST',
  url: '/mcp',
  headers: { 'content-type': ['application/json'], ...headers },
  body: Buffer.isBuffer(body) ? body : Buffer.from(body),
});

function refusal(request: ForwardRequest): MessageRefusedError {
  try {
    prepareForward(request, mount);
  } catch (error) {
    if (error instanceof MessageRefusedError) return error;
    throw error;
  }
  throw new Error('forwarded');
}

describe('the gateway forwards each message rebuilt from its own parse (MCP Streamable HTTP; RFC 7493)', () => {
  it('keeps only schema members, escapes non-ASCII, and sends application/json with no parameters', () => {
    const plan = prepareForward(post('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"héllo ſ 😀"}},"x-extension":{"name":"admin"}}', { 'content-type': ['application/json; charset=utf-8'] }), mount);
    const text = plan.body?.toString('latin1') ?? '';
    expect(text).toMatch(/^[\x20-\x7e]*$/);
    expect(JSON.parse(text)).toStrictEqual({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { text: 'héllo ſ 😀' } } });
    expect(plan.headers).toStrictEqual({ 'content-type': 'application/json' });
    expect(plan.path).toBe('/up');
  });

  it('rebuilds batches element by element, responses with result or error only', () => {
    const plan = prepareForward(post('[{"jsonrpc":"2.0","id":"a","result":{"ok":1},"extra":1},{"jsonrpc":"2.0","id":2,"error":{"code":-1,"message":"m","data":null,"more":1}},{"jsonrpc":"2.0","method":"notifications/initialized"}]'), mount);
    expect(JSON.parse(plan.body?.toString() ?? '')).toStrictEqual([
      { jsonrpc: '2.0', id: 'a', result: { ok: 1 } },
      { jsonrpc: '2.0', id: 2, error: { code: -1, message: 'm', data: null } },
      { jsonrpc: '2.0', method: 'notifications/initialized' },
    ]);
    expect(plan.batch).toBe(true);
  });

  it('GET and DELETE forward no body; the session id travels as sent', () => {
    const plan = prepareForward({ method: 'GET', url: '/mcp/sub?x=1', headers: { 'mcp-session-id': ['abc-123'] }, body: Buffer.alloc(0) }, mount);
    expect(plan).toMatchObject({ path: '/up/sub?x=1', body: undefined, sessionId: 'abc-123' });
  });

  it.each<[string, ForwardRequest, number, number]>([
    ['PUT', { method: 'PUT', url: '/mcp', headers: {}, body: Buffer.alloc(0) }, 405, -32600],
    ['a GET with a body', { method: 'GET', url: '/mcp', headers: {}, body: Buffer.from('{}') }, 400, -32600],
    ['Mcp-Method on a GET', { method: 'GET', url: '/mcp', headers: { 'mcp-method': ['tools/call'] }, body: Buffer.alloc(0) }, 400, -32020],
    ['two session ids', { method: 'GET', url: '/mcp', headers: { 'mcp-session-id': ['a', 'b'] }, body: Buffer.alloc(0) }, 400, -32600],
    ['a session id with a space', { method: 'GET', url: '/mcp', headers: { 'mcp-session-id': ['a b'] }, body: Buffer.alloc(0) }, 400, -32600],
    ['a path with ..;', { method: 'GET', url: '/mcp/..;/..;/actuator/env', headers: {}, body: Buffer.alloc(0) }, 400, -32600],
    ['no content type', { method: 'POST', url: '/mcp', headers: {}, body: Buffer.from('{"jsonrpc":"2.0","id":1,"method":"ping"}') }, 415, -32600],
    ['text/plain', post('{"jsonrpc":"2.0","id":1,"method":"ping"}', { 'content-type': ['text/plain'] }), 415, -32600],
    ['charset=utf-7', post('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"+AG4-ame":"admin_delete"}}', { 'content-type': ['application/json; charset=utf-7'] }), 415, -32600],
    ['gzip', post('x', { 'content-encoding': ['gzip'] }), 415, -32600],
    ['an empty POST', post(''), 400, -32700],
    ['not JSON', post('{"jsonrpc":'), 400, -32700],
    ['a BOM', post(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"jsonrpc":"2.0","id":1,"method":"ping"}')])), 400, -32700],
    ['duplicate members', post('{"jsonrpc":"2.0","id":1,"method":"ping","method":"tools/call"}'), 400, -32600],
    ['"paramſ"', post('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo"},"paramſ":{"name":"admin_delete"}}'), 400, -32600],
    ['"jſonrpc"', post('{"jſonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"admin_delete"}}'), 400, -32600],
    ['JSON that is no message', post('{"hello":"world"}'), 400, -32600],
    ['an empty batch', post('[]'), 400, -32600],
    ['Mcp-Name naming another tool', post('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo"}}', { 'mcp-name': ['admin_delete'] }), 400, -32020],
    ['Mcp-Method naming another method', post('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo"}}', { 'mcp-method': ['tools/list'] }), 400, -32020],
  ])('%s → %i with JSON-RPC %i, nothing forwarded', (_name, request, status, code) => {
    const error = refusal(request);
    expect(error.status).toBe(status);
    expect(error.rpcCode).toBe(code);
  });

  it('matching Mcp-Method / Mcp-Name go upstream re-encoded from the body (SEP-2243)', () => {
    const name = 'tööl';
    const plan = prepareForward(post(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name } }), {
      'mcp-method': ['tools/call'],
      'mcp-name': [`=?base64?${Buffer.from(name).toString('base64')}?=`],
    }), mount);
    expect(plan.headers).toStrictEqual({ 'content-type': 'application/json', 'mcp-method': 'tools/call', 'mcp-name': `=?base64?${Buffer.from(name).toString('base64')}?=` });
  });
});

describe('one value per MCP transport header', () => {
  it.each(['mcp-protocol-version', 'last-event-id', 'mcp-session-id'])('two %s headers → 400', (name) => {
    const error = refusal({ method: 'GET', url: '/mcp', headers: { [name]: ['a', 'b'] }, body: Buffer.alloc(0) });
    expect(error.status).toBe(400);
  });
});

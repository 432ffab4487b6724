import { Readable, type Transform } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { filterEventStream, filterJsonResponse, toolsListFilter } from './filter-tools-list.js';

const visible = (name: string) => name !== 'secret';
const ids = new Set<string | number>([7]);
const listed = (id: unknown) => JSON.stringify({ jsonrpc: '2.0', id, result: { tools: [{ name: 'echo' }, { name: 'secret' }], nextCursor: 'c' } });

async function run(transform: Transform, chunks: string[]): Promise<string> {
  return (await buffer(Readable.from(chunks.map((c) => Buffer.from(c))).pipe(transform))).toString();
}

describe('tools/list filtering of SSE events (WHATWG HTML §9.2.6 event stream interpretation)', () => {
  it('rewrites the answer to the listing request, whatever the chunking and line endings', async () => {
    const stream = `: comment\r\n\r\nid: e1\r\nevent: message\r\ndata: ${listed(7)}\r\n\r\nid: e2\ndata: ${listed(8)}\n\n`;
    for (const size of [1, 3, 17, stream.length]) {
      const chunks: string[] = [];
      for (let i = 0; i < stream.length; i += size) chunks.push(stream.slice(i, i + size));
      const out = await run(filterEventStream(ids, visible), chunks);
      expect(out).toBe(`: comment\r\n\r\nid: e1\nevent: message\ndata: ${JSON.stringify({ jsonrpc: '2.0', id: 7, result: { tools: [{ name: 'echo' }], nextCursor: 'c' } })}\n\nid: e2\ndata: ${listed(8)}\n\n`);
    }
  });

  it('joins multi-line data before reading it; passes unreadable and unrelated events byte for byte', async () => {
    const body = listed(7);
    const cut = body.indexOf('"id"'); // between two members: the newline joining data lines is whitespace there
    const out = await run(filterEventStream(ids, visible), [`data: ${body.slice(0, cut)}\ndata:${body.slice(cut)}\n\n`, 'data: not json\n\n', 'data: {"x":1}\n\n']);
    expect(out).toBe(`data: ${body.replace(',{"name":"secret"}', '')}\n\ndata: not json\n\ndata: {"x":1}\n\n`);
  });

  it('a JSON answer is filtered whole; one that does not parse fails the stream (never passed on unfiltered)', async () => {
    expect(JSON.parse(await run(filterJsonResponse(ids, visible), [listed(7).slice(0, 5), listed(7).slice(5)]))).toMatchObject({ result: { tools: [{ name: 'echo' }] } });
    await expect(run(filterJsonResponse(ids, visible), ['{"jsonrpc":"2.0","id":7,'])).rejects.toThrow(/not JSON/);
  });

  it('only 200 answers to a tools/list request are filtered; compressed or other media types are unreadable (502)', () => {
    const messages = [{ kind: 'request' as const, id: 7, method: 'tools/list', params: undefined }];
    expect(toolsListFilter(visible, messages, 200, { 'content-type': 'application/json; charset=utf-8' })).toBeDefined();
    expect(toolsListFilter(visible, messages, 202, { 'content-type': 'application/json' })).toBeUndefined();
    expect(toolsListFilter(visible, [{ kind: 'request', id: 7, method: 'tools/call', params: undefined }], 200, { 'content-type': 'application/json' })).toBeUndefined();
    expect(toolsListFilter(visible, messages, 200, { 'content-type': 'application/json', 'content-encoding': 'gzip' })).toBe('unreadable');
    expect(toolsListFilter(visible, messages, 200, { 'content-type': 'text/plain' })).toBe('unreadable');
  });
});

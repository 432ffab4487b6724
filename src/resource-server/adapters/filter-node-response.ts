/**
 * The node adapter's `tools/list` filtering: wraps the application's `ServerResponse` so that,
 * once its status and content type are known, the body passes through the same filter the
 * gateway uses (JSON or SSE; `Content-Length` dropped, the length changes). An answer the filter
 * cannot read (compressed, another media type) is cut — never sent unfiltered.
 */
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Transform } from 'node:stream';
import { inspectMessages } from '../../mcp/json-rpc-messages.js';
import { toolsListFilter } from '../policy/filter-tools-list.js';

type Write = ServerResponse['write'];
type End = ServerResponse['end'];

/** Makes `res` filter the answers to the `tools/list` requests of `body` (as the gauntlet parsed it) with `visible`. */
export function filterNodeResponse(res: ServerResponse, body: unknown, visible: (name: string) => boolean): void {
  const inspection = inspectMessages(body);
  if (!inspection.ok) return;
  const messages = inspection.messages;
  const write = res.write.bind(res) as (chunk: unknown, cb?: (error?: Error | null) => void) => boolean;
  const end = res.end.bind(res) as (cb?: () => void) => ServerResponse;
  const writeHead = res.writeHead.bind(res) as (status: number, ...rest: unknown[]) => ServerResponse;
  let filter: Transform | undefined;
  let decided = false;

  const decide = (status: number, headers: OutgoingHttpHeaders | undefined): void => {
    if (decided) return;
    decided = true;
    const lower: Record<string, string | string[] | undefined> = {};
    for (const name of res.getHeaderNames()) lower[name] = stringValue(res.getHeader(name));
    for (const [name, value] of Object.entries(headers ?? {})) lower[name.toLowerCase()] = stringValue(value);
    const chosen = toolsListFilter(visible, messages, status, lower);
    if (chosen === undefined) return;
    if (chosen === 'unreadable') {
      res.destroy(new Error('tools/list answer cannot be filtered'));
      return;
    }
    filter = chosen;
    res.removeHeader('content-length');
    if (headers !== undefined) for (const name of Object.keys(headers)) if (name.toLowerCase() === 'content-length') delete headers[name];
    filter.on('data', (chunk: Buffer) => void write(chunk));
    filter.once('end', () => void end());
    filter.once('error', () => res.destroy());
  };

  res.writeHead = ((status: number, ...rest: unknown[]) => {
    // (status, headers) or (status, reason, headers); the headers object loses Content-Length in place.
    const headers = rest.find((r) => r !== null && typeof r === 'object' && !Array.isArray(r)) as OutgoingHttpHeaders | undefined;
    decide(status, headers);
    return writeHead(status, ...rest);
  }) as ServerResponse['writeHead'];
  res.write = ((chunk: unknown, encoding?: unknown, cb?: unknown) => {
    decide(res.statusCode, undefined);
    if (filter === undefined) return (write as unknown as (...a: unknown[]) => boolean)(chunk, encoding, cb);
    return filter.write(chunk as Buffer, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8', typeof cb === 'function' ? (cb as () => void) : typeof encoding === 'function' ? (encoding as () => void) : undefined);
  }) as Write;
  res.end = ((chunk?: unknown, encoding?: unknown, cb?: unknown) => {
    decide(res.statusCode, undefined);
    if (filter === undefined) return (end as unknown as (...a: unknown[]) => ServerResponse)(chunk, encoding, cb);
    if (typeof chunk === 'function') filter.end(chunk as () => void);
    else if (chunk === undefined || chunk === null) filter.end();
    else filter.end(chunk as Buffer, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
    return res;
  }) as End;
}

function stringValue(value: number | string | readonly string[] | undefined): string | string[] | undefined {
  if (value === undefined) return undefined;
  if (Array.isArray(value)) return [...value];
  return String(value);
}

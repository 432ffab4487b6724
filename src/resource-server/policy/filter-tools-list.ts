/**
 * Rewrites the upstream's answers to `tools/list` so a caller sees only the tools it may call
 * (`VerifyResult.toolVisible`): in a JSON response and in the events of an SSE stream, only the
 * JSON-RPC responses whose id is that of a `tools/list` request of this body are touched;
 * everything else passes byte for byte. What cannot be read is not guessed at: a JSON answer
 * that does not parse, or grows past the cap, is cut (the client sees a failed exchange, never
 * an unfiltered list).
 *
 * @see https://modelcontextprotocol.io/specification/2025-06-18/server/tools#listing-tools
 * @see https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation
 */
import { Transform, type TransformCallback } from 'node:stream';
import type { JsonRpcMessage } from '../../mcp/json-rpc-messages.js';

/** Largest JSON answer to a `tools/list` buffered for filtering (and largest single SSE event). */
export const MAX_TOOLS_LIST_BYTES = 16 * 1024 * 1024;

/** Ids of the `tools/list` requests among `messages`. */
export function toolsListIds(messages: readonly JsonRpcMessage[]): Set<string | number> {
  const ids = new Set<string | number>();
  for (const m of messages) if (m.kind === 'request' && m.method === 'tools/list') ids.add(m.id);
  return ids;
}

/** Filters `result.tools` of each response in `value` (one message or a batch) answering one of `ids`; returns whether anything changed. */
export function filterToolsListMessages(value: unknown, ids: ReadonlySet<string | number>, visible: (name: string) => boolean): boolean {
  const list = Array.isArray(value) ? value : [value];
  let changed = false;
  for (const message of list) {
    if (message === null || typeof message !== 'object') continue;
    const { id, result } = message as { id?: unknown; result?: unknown };
    if ((typeof id !== 'string' && typeof id !== 'number') || !ids.has(id)) continue;
    if (result === null || typeof result !== 'object') continue;
    const tools = (result as { tools?: unknown }).tools;
    if (!Array.isArray(tools)) continue;
    const kept = tools.filter((tool: unknown) => {
      const name = tool !== null && typeof tool === 'object' ? (tool as { name?: unknown }).name : undefined;
      return typeof name === 'string' && visible(name);
    });
    if (kept.length !== tools.length) {
      (result as { tools: unknown[] }).tools = kept;
      changed = true;
    }
  }
  return changed;
}

/** A transform for a whole JSON response: buffers it (capped), filters, writes it once. */
export function filterJsonResponse(ids: ReadonlySet<string | number>, visible: (name: string) => boolean): Transform {
  const chunks: Buffer[] = [];
  let size = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      size += chunk.length;
      if (size > MAX_TOOLS_LIST_BYTES) return callback(new Error('tools/list answer too large to filter'));
      chunks.push(chunk);
      callback();
    },
    flush(callback: TransformCallback) {
      const raw = Buffer.concat(chunks);
      if (raw.length === 0) return callback();
      let value: unknown;
      try {
        value = JSON.parse(raw.toString('utf8'));
      } catch {
        return callback(new Error('tools/list answer is not JSON'));
      }
      callback(null, filterToolsListMessages(value, ids, visible) ? Buffer.from(JSON.stringify(value)) : raw);
    },
  });
}

/** Blank line ending an SSE event; a lone CR counts only once the next byte is known. */
const EVENT_END = /(?:\r\n|\n|\r(?!\n))(?:\r\n|\n|\r(?!\n))/;

/**
 * A transform for an SSE stream: each complete event whose data is a response to one of `ids`
 * is rewritten (its `data` as one line; `id`, `event` and `retry` fields kept), the rest passes
 * through unchanged and unbuffered beyond the event being read.
 */
export function filterEventStream(ids: ReadonlySet<string | number>, visible: (name: string) => boolean): Transform {
  let pending = '';
  const decoder = new TextDecoder('utf-8');
  return new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      pending += decoder.decode(chunk, { stream: true });
      let out = '';
      for (;;) {
        const match = EVENT_END.exec(pending);
        // A CR at the very end may be the first half of CRLF: wait for the next chunk.
        if (match === null || (match.index + match[0].length === pending.length && pending.endsWith('\r'))) break;
        const end = match.index + match[0].length;
        out += rewriteEvent(pending.slice(0, match.index), ids, visible) ?? pending.slice(0, end);
        pending = pending.slice(end);
      }
      if (pending.length > MAX_TOOLS_LIST_BYTES) return callback(new Error('SSE event too large to filter'));
      callback(null, out === '' ? undefined : Buffer.from(out, 'utf8'));
    },
    flush(callback: TransformCallback) {
      pending += decoder.decode();
      callback(null, pending === '' ? undefined : Buffer.from(pending, 'utf8'));
    },
  });
}

/** The filtered event (with its terminating blank line), or undefined to pass it through unchanged. */
function rewriteEvent(event: string, ids: ReadonlySet<string | number>, visible: (name: string) => boolean): string | undefined {
  const lines = event.split(/\r\n|\n|\r/);
  const data: string[] = [];
  const kept: string[] = [];
  for (const line of lines) {
    if (line === 'data' || line.startsWith('data:')) {
      const value = line.slice(5);
      data.push(value.startsWith(' ') ? value.slice(1) : value);
    } else kept.push(line);
  }
  if (data.length === 0) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(data.join('\n'));
  } catch {
    return undefined;
  }
  if (!filterToolsListMessages(value, ids, visible)) return undefined;
  return `${[...kept, `data: ${JSON.stringify(value)}`].join('\n')}\n\n`;
}

/**
 * The filter for one upstream answer, when the request listed tools and the answer is a success:
 * a transform for JSON or SSE, `'unreadable'` for an answer Warden cannot filter (compressed, or
 * of another media type — answered 502 rather than passed on unfiltered), else undefined.
 */
export function toolsListFilter(
  visible: (name: string) => boolean,
  messages: readonly JsonRpcMessage[],
  status: number,
  headers: Readonly<Record<string, string | string[] | undefined>>,
): Transform | 'unreadable' | undefined {
  if (status !== 200) return undefined;
  const ids = toolsListIds(messages);
  if (ids.size === 0) return undefined;
  const encoding = headers['content-encoding'];
  if (encoding !== undefined && String(encoding).trim().toLowerCase() !== 'identity') return 'unreadable';
  const type = String(headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type === 'text/event-stream') return filterEventStream(ids, visible);
  if (type === 'application/json') return filterJsonResponse(ids, visible);
  return 'unreadable';
}

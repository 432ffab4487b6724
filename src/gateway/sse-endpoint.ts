/**
 * Rewrites the `endpoint` event of a legacy HTTP+SSE stream (MCP 2024-11-05), which tells the
 * client where to POST (`event: endpoint` / `data: /messages?sessionId=…`). The upstream's URL —
 * and the session id in it — never reaches the client: `onEndpoint` binds it to the stream's
 * opener under an opaque token and returns the URL to announce instead. Nothing of the stream is
 * released before that has settled; events before the endpoint event (comments, `retry:`) pass
 * unchanged, and so does everything after it.
 *
 * @see https://modelcontextprotocol.io/specification/2024-11-05/basic/transports#http-with-sse
 * @see https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation
 */
import { StringDecoder } from 'node:string_decoder';
import { Transform, type TransformCallback } from 'node:stream';

/** Bytes read before deciding a stream announces no endpoint (it is the first event with data). */
const MAX_PREAMBLE_BYTES = 16 * 1024;
const EVENT_END = /\r\n\r\n|\n\n|\r\r/;

/**
 * A stream transform that replaces the data of the first event with data, when that event is
 * `endpoint`, by what `onEndpoint(data)` resolves to. A rejection destroys the stream.
 */
export function rewriteEndpointEvent(onEndpoint: (data: string) => Promise<string>): Transform {
  let pending = '';
  let done = false;
  // Keeps a character split across chunks whole.
  const decoder = new StringDecoder('utf8');
  return new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      if (done) return callback(null, chunk);
      pending += decoder.write(chunk);
      let released = '';
      for (;;) {
        const end = EVENT_END.exec(pending);
        if (end === null) break;
        const raw = pending.slice(0, end.index + end[0].length);
        const event = parseEvent(pending.slice(0, end.index));
        if (event.data === undefined) {
          // A comment or a retry: nothing to rewrite; pass it and look at the next event.
          released += raw;
          pending = pending.slice(raw.length);
          continue;
        }
        done = true;
        const rest = pending.slice(raw.length);
        pending = '';
        if (event.name !== 'endpoint') return callback(null, Buffer.from(released + raw + rest));
        onEndpoint(event.data).then(
          (announced) => callback(null, Buffer.from(`${released}event: endpoint\ndata: ${announced}\n\n${rest}`)),
          (error: unknown) => callback(error instanceof Error ? error : new Error('the endpoint could not be bound')),
        );
        return undefined;
      }
      if (Buffer.byteLength(pending) > MAX_PREAMBLE_BYTES) {
        done = true;
        const out = released + pending;
        pending = '';
        return callback(null, Buffer.from(out));
      }
      return callback(null, released === '' ? undefined : Buffer.from(released));
    },
    flush(callback: TransformCallback) {
      if (!done) pending += decoder.end();
      callback(null, pending === '' ? undefined : Buffer.from(pending));
    },
  });
}

/** The name and data of one event (undefined data when it has no `data` field). */
function parseEvent(text: string): { name: string; data: string | undefined } {
  let name = 'message';
  const data: string[] = [];
  for (const line of text.split(/\r\n|\r|\n/)) {
    if (line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') name = value;
    else if (field === 'data') data.push(value);
  }
  return { name, data: data.length === 0 ? undefined : data.join('\n') };
}

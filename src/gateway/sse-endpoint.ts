/**
 * Reads the first event of a legacy HTTP+SSE stream (MCP 2024-11-05), which announces where the
 * client must POST: `event: endpoint` / `data: /messages?sessionId=…`. The stream is held until
 * that event is read and `onEndpoint` has settled, so the client cannot learn the session before
 * it is bound; then everything passes through unchanged.
 *
 * @see https://modelcontextprotocol.io/specification/2024-11-05/basic/transports#http-with-sse
 * @see https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation
 */
import { Transform, type TransformCallback } from 'node:stream';

/** Bytes read before giving up on finding the first event (it is a short line). */
const MAX_FIRST_EVENT_BYTES = 16 * 1024;

/**
 * A pass-through stream that calls `onEndpoint(data)` for a first event named `endpoint`, before
 * releasing any byte. A rejection (or `false`) from `onEndpoint` destroys the stream with an error.
 */
export function watchEndpointEvent(onEndpoint: (data: string) => Promise<boolean>): Transform {
  let pending: Buffer[] = [];
  let size = 0;
  let done = false;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      if (done) return callback(null, chunk);
      pending.push(chunk);
      size += chunk.length;
      const text = Buffer.concat(pending).toString('utf8');
      const end = /\r\n\r\n|\n\n|\r\r/.exec(text);
      if (end === null && size < MAX_FIRST_EVENT_BYTES) return callback();
      done = true;
      const held = Buffer.concat(pending);
      pending = [];
      const endpoint = end === null ? undefined : endpointData(text.slice(0, end.index));
      if (endpoint === undefined) return callback(null, held);
      onEndpoint(endpoint).then(
        (ok) => (ok ? callback(null, held) : callback(new Error('the endpoint event names a session another principal holds'))),
        (error: unknown) => callback(error instanceof Error ? error : new Error('session store failed')),
      );
    },
    flush(callback: TransformCallback) {
      callback(null, pending.length > 0 ? Buffer.concat(pending) : undefined);
    },
  });
}

/** The `data` of an event named `endpoint`, or undefined. */
function endpointData(event: string): string | undefined {
  let name = 'message';
  const data: string[] = [];
  for (const line of event.split(/\r\n|\r|\n/)) {
    if (line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') name = value;
    else if (field === 'data') data.push(value);
  }
  return name === 'endpoint' && data.length > 0 ? data.join('\n') : undefined;
}

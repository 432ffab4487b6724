/**
 * Sends one request exactly as written — raw request target (no URL normalisation, so `/./`,
 * `%2e%2e` and `..;` reach Warden as typed), repeated headers, any bytes as body — and reads the
 * whole answer. `fetch` cannot: it normalises paths and merges headers.
 */
import http, { type IncomingHttpHeaders } from 'node:http';

export interface RawRequest {
  method: string;
  /** The request target, verbatim. */
  target: string;
  /** An array value sends the header once per element. */
  headers: Record<string, string | string[]>;
  body: Buffer;
}

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });

/** Closes the kept-alive sockets (end of the suite). */
export function closeSender(): void {
  agent.destroy();
}

export interface SendOptions {
  /** Default 5 s. */
  timeoutMs?: number;
  /** Resolve on the status line and headers, then drop the connection (for streams that never end). */
  headersOnly?: boolean;
}

/** Sends `request` to `origin` (`http://127.0.0.1:port`); rejects on a socket error or after the timeout. */
export function sendRaw(origin: string, request: RawRequest, options: SendOptions = {}): Promise<RawResponse> {
  const timeoutMs = options.timeoutMs ?? 5_000;
  const { hostname, port } = new URL(origin);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: hostname, port: Number(port), method: request.method, path: request.target, agent, headers: { 'content-length': String(request.body.length) } });
    for (const [name, value] of Object.entries(request.headers)) req.setHeader(name, value);
    let answer: RawResponse | undefined;
    const chunks: Buffer[] = [];
    const timeout = new Error(`no complete answer within ${timeoutMs} ms`);
    const timer = setTimeout(() => req.destroy(timeout), timeoutMs);
    const settle = (error?: Error): void => {
      clearTimeout(timer);
      // A server that answers before reading the whole body may reset the connection while this
      // side still writes: the answer it gave is what counts, not the write error.
      if (answer !== undefined && error !== timeout) resolve({ ...answer, body: Buffer.concat(chunks) });
      else reject(error ?? new Error('no answer'));
    };
    req.on('error', settle);
    req.once('response', (res) => {
      answer = { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.alloc(0) };
      if (options.headersOnly === true && answer.status < 300) {
        settle();
        req.destroy();
        return;
      }
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', settle);
      res.once('end', () => settle());
    });
    req.end(request.body);
  });
}

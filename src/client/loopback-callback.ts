/**
 * The redirect target of a native client: an HTTP listener on the loopback interface that takes
 * the authorization response and hands it to whoever waits for it.
 * @see https://www.rfc-editor.org/rfc/rfc8252#section-7.3
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Options of {@link startLoopbackCallback}. */
export interface LoopbackCallbackOptions {
  /** Default `127.0.0.1` (RFC 8252 §8.3: the literal address, not `localhost`). */
  host?: '127.0.0.1' | '::1';
  /** Default 0: any free port (RFC 8252 §7.3 lets the port vary). */
  port?: number;
  /** Default `/callback`. */
  path?: string;
  /** How long {@link LoopbackCallback.next} waits. Default 300 s. */
  timeoutSeconds?: number;
}

/** A running loopback redirect listener. */
export interface LoopbackCallback {
  /** The `redirect_uri` to register and send. */
  readonly redirectUrl: string;
  /** Resolves with the next authorization response URL that arrives (or one that already did). */
  next(): Promise<URL>;
  close(): Promise<void>;
}

const PAGE = (title: string, text: string) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title></head><body><main><h1>${title}</h1><p>${text}</p></main></body></html>`;

/** Starts the listener. */
export async function startLoopbackCallback(options: LoopbackCallbackOptions = {}): Promise<LoopbackCallback> {
  const host = options.host ?? '127.0.0.1';
  const path = options.path ?? '/callback';
  if (!path.startsWith('/')) throw new TypeError('path must start with "/"');
  const timeoutMs = (options.timeoutSeconds ?? 300) * 1000;
  const arrived: URL[] = [];
  const waiting: Array<(url: URL) => void> = [];

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', `http://${req.headers.host ?? host}`);
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Content-Security-Policy', "default-src 'none'");
    res.setHeader('Referrer-Policy', 'no-referrer');
    if (req.method !== 'GET' || url.pathname !== path) {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('not found');
      return;
    }
    const declined = url.searchParams.has('error');
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(declined ? PAGE('Authorization not granted', 'You can close this window and return to the application.') : PAGE('Signed in', 'You can close this window and return to the application.'));
    const waiter = waiting.shift();
    if (waiter) waiter(url);
    else arrived.push(url);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const authority = host === '::1' ? `[::1]:${port}` : `${host}:${port}`;

  return {
    redirectUrl: `http://${authority}${path}`,
    next() {
      const ready = arrived.shift();
      if (ready) return Promise.resolve(ready);
      return new Promise<URL>((resolve, reject) => {
        const timer = setTimeout(() => {
          const index = waiting.indexOf(done);
          if (index >= 0) waiting.splice(index, 1);
          reject(new Error(`no authorization response arrived at the loopback redirect within ${timeoutMs / 1000} s`));
        }, timeoutMs);
        timer.unref();
        const done = (url: URL) => {
          clearTimeout(timer);
          resolve(url);
        };
        waiting.push(done);
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

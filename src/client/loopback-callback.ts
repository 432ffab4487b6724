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
  /**
   * Resolves with the next authorization response that arrives (or one that already did). With
   * `state`, only a response carrying that `state` counts: anything else that reaches the port (a
   * forged callback from another local program or a web page, a reloaded tab) is answered 400 and
   * dropped, so it can neither abort the sign-in nor be mistaken for it (RFC 6749 §10.12).
   */
  next(options?: { state?: string | null }): Promise<URL>;
  close(): Promise<void>;
}

const MAX_QUEUED = 16;

const PAGE = (title: string, text: string) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title></head><body><main><h1>${title}</h1><p>${text}</p></main></body></html>`;

/** Starts the listener. */
export async function startLoopbackCallback(options: LoopbackCallbackOptions = {}): Promise<LoopbackCallback> {
  const host = options.host ?? '127.0.0.1';
  const path = options.path ?? '/callback';
  if (!path.startsWith('/')) throw new TypeError('path must start with "/"');
  const timeoutMs = (options.timeoutSeconds ?? 300) * 1000;
  /** Responses nobody waited for yet, oldest first; bounded, so a flood cannot grow it. */
  const arrived: URL[] = [];
  const waiting: Array<{ state: string | undefined; done: (url: URL) => void }> = [];
  const matches = (url: URL, state: string | undefined) => state === undefined || url.searchParams.get('state') === state;
  let base = '';

  const server: Server = createServer((req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Content-Security-Policy', "default-src 'none'");
    res.setHeader('Referrer-Policy', 'no-referrer');
    // Parsed against our own address: the Host header is the sender's to choose.
    const url = URL.parse(req.url ?? '', base);
    if (req.method !== 'GET' || url === null || url.pathname !== path) {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('not found');
      return;
    }
    const index = waiting.findIndex((w) => matches(url, w.state));
    if (index < 0 && waiting.length > 0) {
      res.writeHead(400, { 'Content-Type': 'text/html; charset=utf-8' }).end(PAGE('Not expected', 'This response does not belong to a sign-in in progress. Return to the application.'));
      return;
    }
    const declined = url.searchParams.has('error');
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(declined ? PAGE('Authorization not granted', 'You can close this window and return to the application.') : PAGE('Signed in', 'You can close this window and return to the application.'));
    if (index >= 0) (waiting.splice(index, 1)[0] as (typeof waiting)[number]).done(url);
    else if (arrived.push(url) > MAX_QUEUED) arrived.shift();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const authority = host === '::1' ? `[::1]:${port}` : `${host}:${port}`;
  base = `http://${authority}`;

  return {
    redirectUrl: `http://${authority}${path}`,
    next(options = {}) {
      const state = options.state ?? undefined;
      // Queued responses for another sign-in are stale or forged: drop them.
      while (arrived.length > 0) {
        const ready = arrived.shift() as URL;
        if (matches(ready, state)) return Promise.resolve(ready);
      }
      return new Promise<URL>((resolve, reject) => {
        const waiter = {
          state,
          done: (url: URL) => {
            clearTimeout(timer);
            resolve(url);
          },
        };
        const timer = setTimeout(() => {
          const index = waiting.indexOf(waiter);
          if (index >= 0) waiting.splice(index, 1);
          reject(new Error(`no authorization response arrived at the loopback redirect within ${timeoutMs / 1000} s`));
        }, timeoutMs);
        timer.unref();
        waiting.push(waiter);
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

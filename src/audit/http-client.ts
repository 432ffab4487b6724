/**
 * The only way an audit talks to the network. Every request passes three gates before it is sent:
 * its origin must be one the audit may contact (the target's and its authorization server's), the
 * request budget must not be spent, and the rate limiter must allow it. Redirects are never
 * followed; responses are read up to a cap (an event stream only until its first event).
 */
import { request as httpRequest, Agent as HttpAgent, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest, Agent as HttpsAgent } from 'node:https';
import { createRateLimiter, type RateLimiter, type RateLimiterClock } from './rate-limiter.js';

/** A request as a check writes it. */
export interface ProbeRequest {
  method: string;
  url: string;
  /** Header names in lower case. `host` overrides the Host header (DNS-rebinding probes). */
  headers?: Record<string, string>;
  body?: string;
  /** Said in evidence in place of what is redacted, e.g. "DPoP proof with htm=GET". */
  note?: string;
}

/** A response as a check reads it. */
export interface ProbeResponse {
  status: number;
  /** Header names in lower case; repeated headers keep every value. */
  headers: ReadonlyMap<string, readonly string[]>;
  /** Body text, at most {@link MAX_BODY_BYTES} bytes of it. */
  body: string;
  /** The first value of a header, or undefined. */
  header(name: string): string | undefined;
}

/** One request and its response. */
export interface Exchange {
  request: ProbeRequest;
  response: ProbeResponse;
}

/** What actually goes over the wire: injectable, so tests can stand in for an HTTPS server. */
export type Transport = (request: ProbeRequest & { headers: Record<string, string> }, timeoutMs: number) => Promise<ProbeResponse>;

/** The request budget is spent: the check that hit it is skipped, and so is every later one. */
export class BudgetExhaustedError extends Error {
  override name = 'BudgetExhaustedError';
}

/** A request to an origin the audit may not contact; the check is skipped, saying which origin. */
export class OriginNotAllowedError extends Error {
  override name = 'OriginNotAllowedError';
  constructor(readonly origin: string) {
    super(`${origin} is neither the target's origin nor its authorization server's; the audit does not contact it (--allow-origin to include it)`);
  }
}

/** The request failed below HTTP (refused, reset, timed out, TLS). */
export class TransportError extends Error {
  override name = 'TransportError';
}

/** Largest body read from any response. */
export const MAX_BODY_BYTES = 64 * 1024;
/** How long an event stream is read before the audit stops listening. */
const STREAM_READ_MS = 1500;

/** Options of {@link ProbeClient}. */
export interface ProbeClientOptions {
  /** Requests per second. */
  rate: number;
  /** Most requests this audit may send. */
  budget: number;
  /** Per-request timeout. */
  timeoutMs: number;
  transport?: Transport;
  clock?: RateLimiterClock;
  /** Called before each request is sent (after the gates). */
  onRequest?: (request: ProbeRequest) => void;
}

/** Sends the audit's requests, bounded and restricted to the allowed origins. */
export class ProbeClient {
  readonly #allowed = new Set<string>();
  readonly #limiter: RateLimiter;
  readonly #transport: Transport;
  readonly #agents: { http: HttpAgent; https: HttpsAgent } | undefined;
  readonly #options: ProbeClientOptions;
  #sent = 0;

  constructor(options: ProbeClientOptions) {
    if (!Number.isInteger(options.budget) || options.budget < 1) throw new RangeError('the request budget must be a positive integer');
    this.#options = options;
    this.#limiter = createRateLimiter(options.rate, options.clock);
    if (options.transport === undefined) {
      this.#agents = { http: new HttpAgent({ keepAlive: true, maxSockets: 4 }), https: new HttpsAgent({ keepAlive: true, maxSockets: 4 }) };
      this.#transport = nodeTransport(this.#agents);
    } else {
      this.#agents = undefined;
      this.#transport = options.transport;
    }
  }

  /** Allows requests to `origin` (scheme://host:port). */
  allowOrigin(origin: string): void {
    this.#allowed.add(new URL(origin).origin);
  }

  /** True when requests to `url`'s origin are allowed. */
  allows(url: string): boolean {
    return URL.canParse(url) && this.#allowed.has(new URL(url).origin);
  }

  /** Origins requests may go to. */
  get origins(): string[] {
    return [...this.#allowed];
  }

  /** Requests sent so far. */
  get sent(): number {
    return this.#sent;
  }

  /** The budget this client was given. */
  get budget(): number {
    return this.#options.budget;
  }

  /** Requests left in the budget. */
  get remaining(): number {
    return this.#options.budget - this.#sent;
  }

  /**
   * Sends one request.
   * @throws {OriginNotAllowedError} for an origin the audit may not contact (nothing is sent).
   * @throws {BudgetExhaustedError} when the budget is spent (nothing is sent).
   * @throws {TransportError} when the exchange failed below HTTP.
   */
  async send(request: ProbeRequest): Promise<ProbeResponse> {
    const url = new URL(request.url);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new OriginNotAllowedError(request.url);
    if (!this.#allowed.has(url.origin)) throw new OriginNotAllowedError(url.origin);
    if (this.#sent >= this.#options.budget) throw new BudgetExhaustedError(`the request budget (${this.#options.budget}) is spent`);
    this.#sent++;
    await this.#limiter.take();
    this.#options.onRequest?.(request);
    const headers: Record<string, string> = { 'user-agent': 'warden-audit', ...lowerCaseKeys(request.headers ?? {}) };
    return this.#transport({ ...request, headers }, this.#options.timeoutMs);
  }

  /** Closes idle connections. */
  close(): void {
    this.#agents?.http.destroy();
    this.#agents?.https.destroy();
  }
}

function lowerCaseKeys(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) out[name.toLowerCase()] = value;
  return out;
}

/** Builds a {@link ProbeResponse} (also for injected transports). */
export function probeResponse(status: number, headers: Iterable<[string, string]>, body: string): ProbeResponse {
  const map = new Map<string, string[]>();
  for (const [name, value] of headers) {
    const key = name.toLowerCase();
    const list = map.get(key);
    if (list === undefined) map.set(key, [value]);
    else list.push(value);
  }
  return { status, headers: map, body, header: (name) => map.get(name.toLowerCase())?.[0] };
}

/** node:http(s) transport: full control of the Host header, no redirects, capped reads. */
function nodeTransport(agents: { http: HttpAgent; https: HttpsAgent }): Transport {
  return (request, timeoutMs) =>
    new Promise<ProbeResponse>((resolve, reject) => {
      const url = new URL(request.url);
      const secure = url.protocol === 'https:';
      const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
      const headers: Record<string, string> = { host: url.host, ...request.headers };
      if (request.body !== undefined) headers['content-length'] = String(Buffer.byteLength(request.body));
      const send = secure ? httpsRequest : httpRequest;
      const options: RequestOptions & { servername?: string; autoSelectFamily?: boolean } = {
        hostname,
        port: url.port === '' ? undefined : Number(url.port),
        path: `${url.pathname}${url.search}`,
        method: request.method,
        headers,
        setHost: false,
        agent: secure ? agents.https : agents.http,
        servername: secure && !/^[\d.]+$|:/.test(hostname) ? hostname : undefined,
        autoSelectFamily: true,
      };
      const req = send(options);
      const timer = setTimeout(() => req.destroy(new TransportError(`no answer within ${timeoutMs} ms`)), timeoutMs);
      req.on('error', (error) => {
        clearTimeout(timer);
        reject(error instanceof TransportError ? error : new TransportError(`${request.method} ${url.origin}${url.pathname}: ${describeNetworkError(error)}`));
      });
      req.on('response', (res) => {
        readBody(res).then(
          (body) => {
            clearTimeout(timer);
            const pairs: Array<[string, string]> = [];
            for (let i = 0; i < res.rawHeaders.length; i += 2) pairs.push([res.rawHeaders[i] as string, res.rawHeaders[i + 1] as string]);
            resolve(probeResponse(res.statusCode ?? 0, pairs, body));
          },
          (error: unknown) => {
            clearTimeout(timer);
            reject(new TransportError(`reading the response of ${request.method} ${url.pathname}: ${describeNetworkError(error)}`));
          },
        );
      });
      req.end(request.body);
    });
}

function describeNetworkError(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : error instanceof Error ? error.message : String(error);
}

/** Reads at most MAX_BODY_BYTES; an event stream only until its first complete event (or a short wait). */
function readBody(res: IncomingMessage): Promise<string> {
  const stream = /^text\/event-stream/i.test(res.headers['content-type'] ?? '');
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('utf8');
      // Stop listening: an unbounded stream must not hold the audit (or its socket) open.
      if (!res.complete) res.destroy();
      resolve(text);
    };
    const timer = stream ? setTimeout(finish, STREAM_READ_MS) : undefined;
    res.on('data', (chunk: Buffer) => {
      if (done) return;
      const room = MAX_BODY_BYTES - size;
      chunks.push(chunk.length > room ? chunk.subarray(0, room) : chunk);
      size += Math.min(chunk.length, room);
      if (size >= MAX_BODY_BYTES) return finish();
      if (stream && /\n\n|\r\n\r\n/.test(Buffer.concat(chunks).toString('utf8')) && /^data:/m.test(Buffer.concat(chunks).toString('utf8'))) finish();
    });
    res.on('end', finish);
    res.on('close', finish);
    res.on('error', (error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      reject(error);
    });
  });
}

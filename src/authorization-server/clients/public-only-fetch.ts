/**
 * A `fetch` for URLs a client chose (a self-registered client's `jwks_uri`): it connects only to
 * public addresses, vetted before the connection and pinned for it.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { isIP, isIPv4, type LookupFunction } from 'node:net';
import { Readable } from 'node:stream';
import { isPublicAddress } from './public-address.js';

/** Hosts an `http:` URL may name when private networks are allowed (development). */
const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(['127.0.0.1', '[::1]', 'localhost']);

/** Options of {@link createPublicOnlyFetch}. */
export interface PublicOnlyFetchOptions {
  /** Development only: allow loopback and private addresses, and `http:` on a loopback host. */
  allowPrivateNetworks: boolean;
  /**
   * Takes a slot before anything is resolved or fetched (e.g. the per-host and concurrency limits
   * of metadata-document fetches): a release function, called once the exchange ends, or a
   * {@link RefusedUrlError} thrown to refuse the fetch.
   */
  acquire?: (url: URL) => () => void;
}

/** Why the guarded fetch refused a URL before connecting. The message names no resolved address. */
export class RefusedUrlError extends TypeError {
  readonly code = 'ERR_WARDEN_REFUSED_URL';
}

interface Target {
  address: string;
  family: 4 | 6;
}

function lookupAll(host: string): Promise<LookupAddress[]> {
  return new Promise((resolve, reject) => {
    dnsLookup(host, { all: true }, (error, found) => (error === null ? resolve(found) : reject(new RefusedUrlError('host does not resolve'))));
  });
}

/** Resolves `host`; one non-public address refuses the whole name, or a resolver answering [public, private] lets the connect step pick either. */
async function vet(host: string, allowPrivate: boolean): Promise<Target[]> {
  const bare = host.replace(/^\[|\]$/g, '');
  const literal = isIP(bare);
  const addresses = literal !== 0 ? [{ address: bare, family: literal }] : await lookupAll(bare);
  if (addresses.length === 0) throw new RefusedUrlError('host does not resolve');
  if (!allowPrivate && addresses.some((a) => !isPublicAddress(a.address))) throw new RefusedUrlError('host resolves to a non-public address');
  return addresses.map((a) => ({ address: a.address, family: isIPv4(a.address) ? 4 : 6 }));
}

/** True when `url` may be fetched at all: https, or http on a loopback host when private networks are allowed. */
export function isFetchableUrl(url: URL, allowPrivateNetworks: boolean): boolean {
  if (url.username !== '' || url.password !== '' || url.hash !== '') return false;
  if (url.protocol === 'https:') return true;
  return url.protocol === 'http:' && allowPrivateNetworks && LOOPBACK_HOSTS.has(url.hostname);
}

function toHeaders(res: IncomingMessage): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(res.headers)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
  }
  return headers;
}

/**
 * A `fetch` (GET only, as `fetchJson` uses it) that is safe to point at a URL an anonymous client
 * chose — the SSRF guard of Client ID Metadata Documents: `https:` only (`http:` to a loopback
 * host with `allowPrivateNetworks`), the host's addresses resolved first and the name refused if
 * any is not public ({@link isPublicAddress}), the socket pinned to the vetted addresses (no DNS
 * rebinding), no redirects followed (a 3xx is returned as is, and `fetchJson` refuses non-200),
 * no compression. Timeouts and size limits stay with the caller (`fetchJson`), through `signal`.
 * It uses node:http(s), because `fetch` gives no control over name resolution and the socket.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7591#section-5
 */
export function createPublicOnlyFetch(options: PublicOnlyFetchOptions): typeof fetch {
  const allowPrivate = options.allowPrivateNetworks;
  const guarded = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = new URL(input instanceof Request ? input.url : input);
    if ((init?.method ?? 'GET') !== 'GET') throw new RefusedUrlError('only GET is allowed');
    if (!isFetchableUrl(url, allowPrivate)) throw new RefusedUrlError('the URL must be https');
    const signal = init?.signal ?? undefined;
    signal?.throwIfAborted();
    const release = options.acquire?.(url) ?? ((): void => undefined);
    try {
      return await exchange(url, init, signal, release);
    } catch (error) {
      release();
      throw error;
    }
  };
  /** Resolves, vets and GETs; `release` runs when the response ends (or here, by the caller, on a failure before it). */
  const exchange = async (url: URL, init: RequestInit | undefined, signal: AbortSignal | undefined, release: () => void): Promise<Response> => {
    const targets = await vet(url.hostname, allowPrivate);
    signal?.throwIfAborted();
    const first = targets[0] as Target;
    const pinned: LookupFunction = (_hostname, lookupOptions, callback) => {
      if (lookupOptions.all === true) callback(null, targets.map((t) => ({ address: t.address, family: t.family })));
      else callback(null, first.address, first.family);
    };
    const headers: Record<string, string> = {};
    new Headers(init?.headers).forEach((value, name) => {
      headers[name] = value;
    });
    headers['accept-encoding'] = 'identity';
    headers['user-agent'] = 'mcp-warden';
    const client = url.protocol === 'https:' ? https : http;
    return new Promise<Response>((resolve, reject) => {
      const req = client.request(
        {
          protocol: url.protocol,
          hostname: url.hostname.replace(/^\[|\]$/g, ''),
          port: url.port === '' ? undefined : Number(url.port),
          path: `${url.pathname}${url.search}`,
          method: 'GET',
          headers,
          lookup: pinned,
          agent: false,
          ...(signal !== undefined && { signal }),
        },
        (res) => {
          res.once('close', release);
          const status = res.statusCode ?? 0;
          if (status !== 200 || (res.headers['content-encoding'] ?? 'identity').toLowerCase() !== 'identity') {
            res.destroy();
            // A refused body is never read: an empty stand-in keeps the status for the caller's message.
            resolve(new Response(null, { status: status >= 200 && status <= 599 && ![204, 205, 304].includes(status) ? status : 502 }));
            return;
          }
          resolve(new Response(Readable.toWeb(res) as ReadableStream<Uint8Array>, { status, headers: toHeaders(res) }));
        },
      );
      req.on('error', reject);
      req.end();
    });
  };
  return guarded as typeof fetch;
}

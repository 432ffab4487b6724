/**
 * Where a request comes from, for throttling (sign-in attempts, registrations): the peer address,
 * or behind trusted reverse proxies the address the outermost of them saw, coarsened to what one
 * party controls — an IPv4 address, or an IPv6 /64 (one customer's prefix: counting single IPv6
 * addresses would give every attacker 2^64 fresh sources).
 */
import type { IncomingMessage } from 'node:http';
import { isIPv4, isIPv6 } from 'node:net';
import type { AsContext } from './context.js';

/** The source of requests whose address cannot be read or parsed: they share one bucket. */
export const UNKNOWN_SOURCE = 'unknown';

/**
 * The client address of `req`. With `trustedProxyHops` = 0 the socket's peer; with N > 0 the
 * N-th address from the right of `X-Forwarded-For` (each of the N trusted proxies appends the
 * address it received the request from, so that entry was written by the outermost one and a
 * client cannot forge it); the leftmost when the header is shorter. Entries a client added
 * further left are never read.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7239#section-5.2
 */
export function clientAddress(req: IncomingMessage, trustedProxyHops: number): string | undefined {
  if (trustedProxyHops <= 0) return req.socket.remoteAddress;
  const header = req.headers['x-forwarded-for'];
  const chain = (Array.isArray(header) ? header.join(',') : (header ?? ''))
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  if (chain.length === 0) return req.socket.remoteAddress;
  return chain[Math.max(0, chain.length - trustedProxyHops)];
}

/** Code of the warning {@link requestSource} gives once. */
export const UNTRUSTED_FORWARDED_FOR = 'WARDEN_UNTRUSTED_X_FORWARDED_FOR';

/**
 * The throttling source of `req`: {@link sourceBucket} of {@link clientAddress}. A request with
 * `X-Forwarded-For` while `trustedProxyHops` is 0 suggests a reverse proxy nobody told us about —
 * then every client shares the proxy's address, and every throttle per source with it — so that
 * is logged as a warning, once.
 */
export function requestSource(ctx: Pick<AsContext, 'trustedProxyHops' | 'warnOnce'>, req: IncomingMessage): string {
  if (ctx.trustedProxyHops === 0 && req.headers['x-forwarded-for'] !== undefined) {
    ctx.warnOnce(
      UNTRUSTED_FORWARDED_FOR,
      'requests arrive with X-Forwarded-For but authorizationServer.trustedProxyHops is 0: behind a reverse proxy, every client shares its address for sign-in and registration throttling; set trustedProxyHops to the number of proxies',
    );
  }
  return sourceBucket(clientAddress(req, ctx.trustedProxyHops));
}

/**
 * The throttling bucket of an address: IPv4 as is (IPv4-mapped IPv6 too), IPv6 by its /64
 * prefix, anything else {@link UNKNOWN_SOURCE}. Brackets, a port on a bracketed or IPv4 address,
 * and a zone index are dropped.
 */
export function sourceBucket(address: string | undefined): string {
  if (address === undefined) return UNKNOWN_SOURCE;
  let a = address.trim().toLowerCase();
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(a);
  if (bracketed !== null) a = bracketed[1] as string;
  else if (/^\d+\.\d+\.\d+\.\d+:\d+$/.test(a)) a = a.slice(0, a.lastIndexOf(':'));
  a = a.replace(/%.*$/, '');
  if (isIPv4(a)) return a;
  if (!isIPv6(a)) return UNKNOWN_SOURCE;
  const groups = expandIPv6(a);
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `${groups[6]! >> 8}.${groups[6]! & 0xff}.${groups[7]! >> 8}.${groups[7]! & 0xff}`;
  }
  return `${groups.slice(0, 4).map((g) => g.toString(16)).join(':')}::/64`;
}

/** The eight 16-bit groups of a valid IPv6 address (`::` and a trailing dotted IPv4 expanded). */
function expandIPv6(address: string): number[] {
  let text = address;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4 !== null) {
    const [a, b, c, d] = (v4[1] as string).split('.').map(Number) as [number, number, number, number];
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const parse = (part: string): number[] => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const left = parse(head);
  const right = tail === undefined ? [] : parse(tail);
  return [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
}

/**
 * The SSRF guard's address test: which resolved addresses the authorization server may connect to
 * when it fetches something a client named (Client ID Metadata Documents).
 */
import { isIP } from 'node:net';

function ipv4Number(address: string): number | undefined {
  const parts = address.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const part of parts) {
    if (!/^[0-9]{1,3}$/.test(part) || Number(part) > 255) return undefined;
    n = n * 256 + Number(part);
  }
  return n;
}

/** Eight 16-bit groups of an IPv6 address (zone id dropped, embedded dotted quad accepted). */
function ipv6Groups(address: string): number[] | undefined {
  let text = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const quad = /^(.*:)([0-9.]+)$/.exec(text);
  if (quad !== null && (quad[2] as string).includes('.')) {
    const v4 = ipv4Number(quad[2] as string);
    if (v4 === undefined) return undefined;
    text = `${quad[1] as string}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const head = halves[0] === '' ? [] : (halves[0] as string).split(':');
  const tail = halves.length === 2 ? (halves[1] === '' ? [] : (halves[1] as string).split(':')) : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? head.length !== 8 : missing < 1) return undefined;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  if (groups.some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g))) return undefined;
  return groups.map((g) => parseInt(g, 16));
}

const inV4 = (n: number, base: string, bits: number): boolean => {
  const b = ipv4Number(base) as number;
  const size = 2 ** (32 - bits);
  return Math.floor(n / size) === Math.floor(b / size);
};

/** IPv4 ranges that are not globally reachable unicast (RFC 6890 special-purpose registry, plus multicast and reserved). */
const V4_BLOCKED: ReadonlyArray<readonly [string, number]> = [
  ['0.0.0.0', 8], // "this network", includes the unspecified address
  ['10.0.0.0', 8], // private
  ['100.64.0.0', 10], // CGNAT shared space
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local (cloud metadata services live here)
  ['172.16.0.0', 12], // private
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // documentation
  ['192.88.99.0', 24], // 6to4 relay anycast
  ['192.168.0.0', 16], // private
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // documentation
  ['203.0.113.0', 24], // documentation
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
];

function isPublicV4(n: number): boolean {
  return !V4_BLOCKED.some(([base, bits]) => inV4(n, base, bits));
}

/**
 * True only for a globally routable unicast address. Refuses loopback, private (10/8, 172.16/12,
 * 192.168/16, fc00::/7), CGNAT (100.64/10), link-local (169.254/16, fe80::/10), unspecified,
 * multicast, documentation and reserved ranges; for IPv6 only global unicast (2000::/3) passes,
 * and addresses that embed an IPv4 address (IPv4-mapped, IPv4-compatible, NAT64 64:ff9b::/96,
 * 6to4) are judged by the embedded address. Anything unparsable is not public.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6890
 */
export function isPublicAddress(address: string): boolean {
  const version = isIP(address.replace(/^\[|\]$/g, '').replace(/%.*$/, ''));
  if (version === 4) return isPublicV4(ipv4Number(address) as number);
  if (version !== 6) return false;
  const g = ipv6Groups(address);
  if (g === undefined) return false;
  const [g0, g1, g2, g3, g4, g5, g6, g7] = g as [number, number, number, number, number, number, number, number];
  const embedded = g6 * 65536 + g7;
  if (g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0) {
    // ::ffff:a.b.c.d reaches the IPv4 host; ::a.b.c.d, ::1 and :: are never public.
    return g5 === 0xffff ? isPublicV4(embedded) : false;
  }
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0) return isPublicV4(embedded); // NAT64
  if (g0 === 0x2002) return isPublicV4(g1 * 65536 + g2); // 6to4
  if (g0 === 0x2001 && g1 === 0) return false; // Teredo
  if (g0 === 0x2001 && g1 === 0x0db8) return false; // documentation
  return (g0 & 0xe000) === 0x2000; // global unicast only: excludes fc00::/7, fe80::/10, ff00::/8, 64:ff9b:1::/48, 100::/64
}

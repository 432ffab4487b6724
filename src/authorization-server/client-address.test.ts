import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { clientAddress, sourceBucket, UNKNOWN_SOURCE } from './client-address.js';

const request = (remoteAddress: string | undefined, forwardedFor?: string | string[]): IncomingMessage =>
  ({ socket: { remoteAddress }, headers: forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor } }) as unknown as IncomingMessage;

describe('clientAddress (RFC 7239 §5.2 chain, read from the right)', () => {
  it('without trusted proxies: the socket peer, whatever X-Forwarded-For says', () => {
    expect(clientAddress(request('192.0.2.1', '203.0.113.9'), 0)).toBe('192.0.2.1');
  });
  it('with N trusted proxies: the N-th entry from the right; entries a client prepends are never read', () => {
    expect(clientAddress(request('10.0.0.2', 'forged, 203.0.113.9'), 1)).toBe('203.0.113.9');
    expect(clientAddress(request('10.0.0.2', 'forged, 203.0.113.9, 10.0.0.1'), 2)).toBe('203.0.113.9');
    expect(clientAddress(request('10.0.0.2', ['forged', '203.0.113.9']), 1)).toBe('203.0.113.9');
  });
  it('a chain shorter than the hops gives its leftmost entry; no header gives the peer', () => {
    expect(clientAddress(request('10.0.0.2', '203.0.113.9'), 3)).toBe('203.0.113.9');
    expect(clientAddress(request('10.0.0.2'), 1)).toBe('10.0.0.2');
    expect(clientAddress(request('10.0.0.2', ' , '), 1)).toBe('10.0.0.2');
  });
});

describe('sourceBucket', () => {
  it.each([
    ['192.0.2.1', '192.0.2.1'],
    ['192.0.2.1:8443', '192.0.2.1'],
    ['::ffff:192.0.2.1', '192.0.2.1'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:db8:1:2::ffff', '2001:db8:1:2::/64'],
    ['[2001:DB8:1:2::1]:443', '2001:db8:1:2::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    ['64:ff9b::192.0.2.1', '64:ff9b:0:0::/64'],
    ['not an address', UNKNOWN_SOURCE],
    ['', UNKNOWN_SOURCE],
  ])('%s → %s (IPv6 by /64: one party\'s prefix)', (address, bucket) => {
    expect(sourceBucket(address)).toBe(bucket);
  });
  it('undefined (a closed socket) is the unknown bucket', () => {
    expect(sourceBucket(undefined)).toBe(UNKNOWN_SOURCE);
  });
});

/**
 * The key the per-host fetch rate of Client ID Metadata Documents counts under: a host's
 * registrable part, so subdomains (wildcard DNS) and ports of one domain share one budget.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6265#section-5.3 (public suffixes)
 * @see https://publicsuffix.org/
 */
import { describe, expect, it } from 'vitest';
import { hostRateKey } from './host-rate-key.js';

describe('hostRateKey: subdomains of one registrable domain count together', () => {
  it.each([
    ['example.com', 'example.com'],
    ['clients.example.com', 'example.com'],
    ['a.b.c.d.example.com', 'example.com'],
    ['random-7f3a.example.com:8443', 'example.com'],
    ['example.com.', 'example.com'],
    ['x.example.com.', 'example.com'],
    ['localhost', 'localhost'],
    ['localhost:4000', 'localhost'],
  ])('%s → %s (last two labels; port and trailing dot dropped)', (host, key) => {
    expect(hostRateKey(host)).toBe(key);
  });

  it.each([
    ['app.example.co.uk', 'example.co.uk'],
    ['a.b.example.co.uk', 'example.co.uk'],
    ['example.co.uk', 'example.co.uk'],
    ['x.shop.com.au', 'shop.com.au'],
    ['x.y.co.jp', 'y.co.jp'],
    ['co.uk', 'co.uk'],
  ])('RFC 6265 §5.3: under a well-known two-label public suffix, %s → %s (last three labels)', (host, key) => {
    expect(hostRateKey(host)).toBe(key);
  });

  it('a second-level label that is not a listed public suffix is not treated as one: *.co.example counts as co.example', () => {
    expect(hostRateKey('a.co.example')).toBe('co.example');
    expect(hostRateKey('b.co.example')).toBe('co.example');
  });

  it.each([
    ['203.0.113.7', '203.0.113.7'],
    ['203.0.113.7:8443', '203.0.113.7'],
    ['[2001:db8:1:2::7]', '2001:db8:1:2::/64'],
    ['[2001:db8:1:2:ffff::9]:443', '2001:db8:1:2::/64'],
  ])('IP literals count per address, IPv6 per /64 (one party holds a whole /64): %s → %s', (host, key) => {
    expect(hostRateKey(host)).toBe(key);
  });
});

import { describe, expect, it } from 'vitest';
import { InvalidRedirectUriError } from './errors.js';
import { matchRedirectUri, validateRedirectUri } from './redirect-uri.js';

function refusal(uri: string): { status: number; code: string; description: string } {
  try {
    validateRedirectUri(uri);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidRedirectUriError);
    const e = error as InvalidRedirectUriError;
    return { status: e.status, code: e.code, description: e.description };
  }
  throw new Error(`expected ${uri} to be refused`);
}

describe('validateRedirectUri', () => {
  it.each([
    ['https://app.example.com/callback'],
    ['https://app.example.com/callback?tenant=1'],
    ['https://app.example.com:8443/cb'],
    ['https://203.0.113.10/cb'],
    ['http://127.0.0.1/callback'],
    ['http://127.0.0.1:33418/callback'],
    ['http://[::1]:8080/cb'],
    ['http://localhost:6274/oauth/callback'],
    ['com.example.app:/oauth2redirect/example-provider'],
    ['com.example.app://callback'],
  ])('accepts %s unchanged (RFC 6749 §3.1.2, RFC 8252 §7)', (uri) => {
    expect(validateRedirectUri(uri)).toBe(uri);
  });

  const R = 'redirect URI ';
  it.each([
    // RFC 6749 §3.1.2: absolute URIs only.
    ['/callback', 'must be an absolute URI'],
    ['//app.example.com/callback', 'must be an absolute URI'],
    ['callback', 'must be an absolute URI'],
    ['', 'must be a non-empty string'],
    // RFC 6749 §3.1.2: no fragment, not even an empty one.
    ['https://app.example.com/cb#frag', 'must not contain a fragment'],
    ['https://app.example.com/cb#', 'must not contain a fragment'],
    // RFC 9700 §2.1 / §4.1: exact URIs, no patterns.
    ['https://*.example.com/cb', 'must not contain wildcards'],
    ['https://app.example.com/*', 'must not contain wildcards'],
    // Userinfo makes `https://trusted@evil` look like the trusted host.
    ['https://user@app.example.com/cb', 'must not contain userinfo'],
    ['https://user:pw@app.example.com/cb', 'must not contain userinfo'],
    ['https://@app.example.com/cb', 'must not contain userinfo'],
    ['http://evil.com@127.0.0.1/cb', 'must not contain userinfo'],
    // Dot segments: stored string ≠ what the browser visits.
    ['https://app.example.com/a/../cb', 'must not contain dot segments'],
    ['https://app.example.com/./cb', 'must not contain dot segments'],
    ['https://app.example.com/a/%2e%2E/cb', 'must not contain dot segments'],
    ['https://app.example.com/a/.%2e/cb', 'must not contain dot segments'],
    // RFC 8252 §8.1 / RFC 9700 §4.1: script and local schemes.
    ['javascript:alert(1)', 'must not use the javascript: scheme'],
    ['JavaScript://%0aalert(1)', 'must not use the javascript: scheme'],
    ['data:text/html,<script>alert(1)</script>', 'must not use the data: scheme'],
    ['file:///etc/passwd', 'must not use the file: scheme'],
    ['vbscript:msgbox(1)', 'must not use the vbscript: scheme'],
    ['blob:https://app.example.com/uuid', 'must not use the blob: scheme'],
    ['about:blank', 'must not use the about: scheme'],
    // RFC 8252 §7.3, §8.3: http only on loopback.
    ['http://app.example.com/cb', 'must use https (http is allowed only for 127.0.0.1, [::1] and localhost, RFC 8252 §7.3)'],
    ['http://127.0.0.1.nip.io/cb', 'must use https (http is allowed only for 127.0.0.1, [::1] and localhost, RFC 8252 §7.3)'],
    ['http://localhost.evil.com/cb', 'must use https (http is allowed only for 127.0.0.1, [::1] and localhost, RFC 8252 §7.3)'],
    ['http://10.0.0.1/cb', 'must use https (http is allowed only for 127.0.0.1, [::1] and localhost, RFC 8252 §7.3)'],
    ['HTTP://127.0.0.1/cb', 'must use a lower-case scheme'],
    // Alternative host spellings a parser rewrites (and a comparison would not).
    ['https://APP.example.com/cb', 'must write its host in canonical form (lower case, no alternative IP notations)'],
    ['http://0x7f.0.0.1/cb', 'must write its host in canonical form (lower case, no alternative IP notations)'],
    ['http://2130706433/cb', 'must write its host in canonical form (lower case, no alternative IP notations)'],
    ['http://[0:0:0:0:0:0:0:1]/cb', 'must write its host in canonical form (lower case, no alternative IP notations)'],
    ['https:/app.example.com/cb', 'must contain a host'],
    ['https:app.example.com/cb', 'must contain a host'],
    // Characters parsers strip or reinterpret.
    ['https://app.example.com/c b', 'must contain only visible ASCII characters (no whitespace, controls or raw Unicode)'],
    ['https://app.example.com/cb\n', 'must contain only visible ASCII characters (no whitespace, controls or raw Unicode)'],
    ['https://bücher.example/cb', 'must contain only visible ASCII characters (no whitespace, controls or raw Unicode)'],
    ['https://app.example.com\\@evil.com/cb', 'must not contain a backslash'],
    [`https://app.example.com/${'a'.repeat(2000)}`, 'must be at most 2000 characters'],
    // RFC 8252 §7.1: private-use schemes are reverse domain names.
    ['myapp://callback', 'with a private-use scheme must use a reverse domain name (e.g. com.example.app:/callback, RFC 8252 §7.1)'],
    ['app.example.com:8080/cb', 'with a private-use scheme must continue with a path starting with "/" (RFC 8252 §7.1)'],
    ['wss://app.example.com/cb', 'must not use the wss: scheme'],
  ])('refuses %s: invalid_redirect_uri "%s" (RFC 7591 §3.2.2)', (uri, reason) => {
    expect(refusal(uri)).toEqual({ status: 400, code: 'invalid_redirect_uri', description: R + reason });
  });
});

describe('matchRedirectUri', () => {
  const registered = ['https://app.example.com/callback', 'http://127.0.0.1/cb', 'http://[::1]:3000/native?x=1'];

  it('matches a registered URI by exact string comparison (RFC 6749 §3.1.2.3, RFC 9700 §4.1.3)', () => {
    expect(matchRedirectUri(registered, 'https://app.example.com/callback')).toBe(true);
  });

  it('matches a loopback URI on any port, everything else identical (RFC 8252 §7.3)', () => {
    expect(matchRedirectUri(registered, 'http://127.0.0.1:51234/cb')).toBe(true);
    expect(matchRedirectUri(registered, 'http://127.0.0.1/cb')).toBe(true);
    expect(matchRedirectUri(registered, 'http://[::1]:49152/native?x=1')).toBe(true);
    expect(matchRedirectUri(registered, 'http://[::1]/native?x=1')).toBe(true);
  });

  it.each([
    ['trailing slash', 'https://app.example.com/callback/'],
    ['path case', 'https://app.example.com/Callback'],
    ['host case', 'https://APP.example.com/callback'],
    ['scheme case', 'HTTPS://app.example.com/callback'],
    ['extra query', 'https://app.example.com/callback?x=1'],
    ['empty query', 'https://app.example.com/callback?'],
    ['userinfo', 'https://user@app.example.com/callback'],
    ['dot segments', 'https://app.example.com/x/../callback'],
    ['single-dot segment', 'https://app.example.com/./callback'],
    ['encoded path', 'https://app.example.com/%63allback'],
    ['suffix domain', 'https://app.example.com.evil.com/callback'],
    ['prefix domain', 'https://evilapp.example.com/callback'],
    ['http non-loopback', 'http://app.example.com/callback'],
    ['explicit default port', 'https://app.example.com:443/callback'],
    ['other port on https', 'https://app.example.com:8443/callback'],
    ['fragment', 'https://app.example.com/callback#x'],
    ['empty fragment', 'https://app.example.com/callback#'],
    ['loopback: trailing slash', 'http://127.0.0.1:51234/cb/'],
    ['loopback: path case', 'http://127.0.0.1:51234/CB'],
    ['loopback: extra query', 'http://127.0.0.1:51234/cb?code=x'],
    ['loopback: other loopback host', 'http://localhost:51234/cb'],
    ['loopback: https instead of http', 'https://127.0.0.1:51234/cb'],
    ['loopback: userinfo', 'http://evil@127.0.0.1:51234/cb'],
    ['loopback: fragment', 'http://127.0.0.1:51234/cb#x'],
    ['loopback: dot segments', 'http://127.0.0.1:51234/x/../cb'],
    ['loopback: suffix domain', 'http://127.0.0.1.evil.com:51234/cb'],
    ['loopback: port out of range', 'http://127.0.0.1:99999/cb'],
    ['loopback: port zero', 'http://127.0.0.1:0/cb'],
    ['loopback: query differs', 'http://[::1]:3000/native?x=2'],
    ['empty string', ''],
  ])('refuses a near-miss: %s (RFC 9700 §4.1.3)', (_label, requested) => {
    expect(matchRedirectUri(registered, requested)).toBe(false);
  });

  it('never matches anything when nothing is registered', () => {
    expect(matchRedirectUri([], 'http://127.0.0.1:5000/cb')).toBe(false);
  });
});

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatChallenge, oauthErrorBody, quoteSafe } from './challenge.js';
import { InsufficientScopeError, InvalidTokenError } from './errors.js';

interface Vectors {
  challenges: { source: string; header: string }[];
}
const vectors = JSON.parse(readFileSync(new URL('../../test/vectors/rfc-vectors.json', import.meta.url), 'utf8')) as Vectors;
function vector(prefix: string): string {
  const v = vectors.challenges.find((c) => c.source.startsWith(prefix));
  if (v === undefined) throw new Error(`vector ${prefix} missing`);
  return v.header;
}

/** Every character RFC 6750 §3 allows inside error_description: %x20-21 / %x23-5B / %x5D-7E. */
const ALLOWED = Array.from({ length: 0x7f - 0x20 }, (_, i) => String.fromCharCode(0x20 + i))
  .filter((c) => c !== '"' && c !== '\\')
  .join('');

describe('formatChallenge — known answers from the RFCs', () => {
  it('RFC 9449 figure 15: a DPoP challenge with algs only', () => {
    expect(formatChallenge({ scheme: 'DPoP', algs: ['ES256', 'PS256'] })).toBe(vector('RFC 9449 figure 15'));
  });

  it('RFC 9449 figure 16: error, error_description, then algs', () => {
    expect(formatChallenge({ scheme: 'DPoP', error: 'invalid_token', errorDescription: 'Invalid DPoP key binding', algs: ['ES256'] })).toBe(
      vector('RFC 9449 figure 16'),
    );
  });

  it('RFC 9449 figure 17 (§7.2): a bare Bearer challenge next to a DPoP one', () => {
    expect([formatChallenge({ scheme: 'Bearer' }), formatChallenge({ scheme: 'DPoP', algs: ['ES256', 'PS256'] })].join(', ')).toBe(vector('RFC 9449 figure 17'));
  });

  it('RFC 9449 figure 18 (§7.2): the error on the scheme the client used only', () => {
    const header = [
      formatChallenge({ scheme: 'Bearer', error: 'invalid_token', errorDescription: 'Invalid token' }),
      formatChallenge({ scheme: 'DPoP', algs: ['ES256', 'PS256'] }),
    ].join(', ');
    expect(header).toBe(vector('RFC 9449 figure 18'));
  });

  it('RFC 9449 figure 24 (§9): use_dpop_nonce from a resource server', () => {
    expect(formatChallenge({ scheme: 'DPoP', error: 'use_dpop_nonce', errorDescription: 'Resource server requires nonce in DPoP proof' })).toBe(vector('RFC 9449 figure 24'));
  });

  it('RFC 9728 §5.1: resource_metadata in a Bearer challenge', () => {
    expect(formatChallenge({ scheme: 'Bearer', resourceMetadata: 'https://resource.example.com/.well-known/oauth-protected-resource' })).toBe(vector('RFC 9728 section 5.1'));
  });
});

describe('formatChallenge — parameters (RFC 6750 §3, RFC 9449 §7.1, RFC 9728 §5.1)', () => {
  it('orders error, error_description, scope, resource_metadata, algs; scope and algs space-delimited', () => {
    expect(
      formatChallenge({
        scheme: 'DPoP',
        error: 'insufficient_scope',
        errorDescription: 'needs admin',
        scope: ['mcp:tools', 'mcp:admin'],
        resourceMetadata: 'https://mcp.example.com/.well-known/oauth-protected-resource/mcp',
        algs: ['ES256', 'EdDSA'],
      }),
    ).toBe(
      'DPoP error="insufficient_scope", error_description="needs admin", scope="mcp:tools mcp:admin", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp", algs="ES256 EdDSA"',
    );
  });

  it('RFC 6750 §3: no parameters gives the bare scheme; empty scope and algs lists are left out', () => {
    expect(formatChallenge({ scheme: 'Bearer' })).toBe('Bearer');
    expect(formatChallenge({ scheme: 'DPoP', scope: [], algs: [] })).toBe('DPoP');
    expect(formatChallenge({ scheme: 'Bearer', scope: [], resourceMetadata: 'https://r.example/m' })).toBe('Bearer resource_metadata="https://r.example/m"');
  });

  it('a description that tries to close its quote and add a parameter stays one quoted-string', () => {
    expect(formatChallenge({ scheme: 'Bearer', error: 'invalid_token', errorDescription: 'x", error="insufficient_scope", scope="admin' })).toBe(
      'Bearer error="invalid_token", error_description="x, error=insufficient_scope, scope=admin"',
    );
  });

  it('RFC 9110 §5.5: CR, LF and NUL cannot split the header or start another field', () => {
    const header = formatChallenge({ scheme: 'Bearer', errorDescription: 'bad\r\nSet-Cookie: session=stolen\0', resourceMetadata: 'https://r.example/\r\nX: 1' });
    expect(header).toBe('Bearer error_description="badSet-Cookie: session=stolen", resource_metadata="https://r.example/X: 1"');
    expect(() => new Headers({ 'WWW-Authenticate': header })).not.toThrow();
  });

  it('every parameter value goes through quoteSafe, scope and algs too', () => {
    expect(formatChallenge({ scheme: 'DPoP', error: 'a"b', scope: ['x"y', 'z\\'], algs: ['ES256"'] })).toBe('DPoP error="ab", scope="xy z", algs="ES256"');
  });
});

describe('quoteSafe — RFC 6750 §3 error_description characters only', () => {
  it('keeps every character of %x20-21 / %x23-5B / %x5D-7E unchanged', () => {
    expect(ALLOWED).toHaveLength(93);
    expect(quoteSafe(ALLOWED)).toBe(ALLOWED);
  });

  it('drops (never escapes) `"` and `\\`, so no quote can be escaped open', () => {
    expect(quoteSafe('say "hi" \\ bye\\"')).toBe('say hi  bye');
  });

  it('drops every other code unit: controls, DEL, non-ASCII, lone surrogates', () => {
    let everything = '';
    for (let c = 0; c <= 0xffff; c++) everything += String.fromCharCode(c);
    expect(quoteSafe(everything)).toBe(ALLOWED);
    expect(quoteSafe('\t\u007f\u00e9\u2028\ud800x')).toBe('x');
  });
});

describe('oauthErrorBody — RFC 6749 §5.2 / RFC 6750 §3 JSON body', () => {
  it('is exactly the wire code and the description; nothing of the cause', () => {
    const error = new InvalidTokenError('access token has expired', { cause: new Error('secret detail') });
    expect(oauthErrorBody(error)).toStrictEqual({ error: 'invalid_token', error_description: 'access token has expired' });
  });

  it('the scope to advertise goes in the challenge, not in the body', () => {
    expect(oauthErrorBody(new InsufficientScopeError('needs mcp:admin', { scope: ['mcp:admin'] }))).toStrictEqual({
      error: 'insufficient_scope',
      error_description: 'needs mcp:admin',
    });
  });
});

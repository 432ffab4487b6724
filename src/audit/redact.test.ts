import { describe, expect, it } from 'vitest';
import { checkDefinitions } from './catalog.js';
import { REDACTED, redactPatterns, Redactor } from './redact.js';

const JWT = 'eyJhbGciOiJFUzI1NiIsInR5cCI6ImF0K2p3dCJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLXNpZ25hdHVyZQ';

describe('Redactor: no token, proof, code or secret in audit output', () => {
  it('replaces every registered value wherever it appears, longest first', () => {
    const redactor = new Redactor();
    redactor.add('opaque-token-0123456789');
    redactor.add('opaque-token-0123456789-and-more');
    expect(redactor.redact('a opaque-token-0123456789-and-more b opaque-token-0123456789 c')).toBe(`a ${REDACTED} b ${REDACTED} c`);
  });

  it('ignores values too short to be credentials (they would blank out words)', () => {
    const redactor = new Redactor();
    redactor.add('abc');
    expect(redactor.redact('abc')).toBe('abc');
  });

  it('RFC 7515 §7.1: a compact JWS anywhere is redacted', () => {
    expect(redactPatterns(`token ${JWT} end`)).toBe(`token ${REDACTED} end`);
  });

  it('RFC 6750 §2.1: Authorization keeps only its scheme; DPoP, Cookie and Mcp-Session-Id header lines lose their value', () => {
    const text = ['authorization: DPoP opaque', 'authorization: Bearer x', 'authorization: 2YotnFZFEjr1zCsicMWpAA', 'dpop: x.y.z', 'cookie: sid=1', 'mcp-session-id: 5f0c', 'content-type: application/json'].join('\n');
    expect(redactPatterns(text).split('\n')).toEqual([
      `authorization: DPoP ${REDACTED}`,
      `authorization: Bearer ${REDACTED}`,
      `authorization: ${REDACTED}`,
      `dpop: ${REDACTED}`,
      `cookie: ${REDACTED}`,
      `mcp-session-id: ${REDACTED}`,
      'content-type: application/json',
    ]);
  });

  it('RFC 6749 §4.1.2, §5.1: codes and tokens in URLs, forms and JSON bodies are redacted', () => {
    expect(redactPatterns('https://c.example/cb?code=SplxlOBeZQQYbYS6WxSbIA&state=xyz')).toBe(`https://c.example/cb?code=${REDACTED}&state=xyz`);
    expect(redactPatterns('grant_type=refresh_token&refresh_token=tGzv3JOkF0XG5Qx2TlKWIA')).toBe(`grant_type=refresh_token&refresh_token=${REDACTED}`);
    expect(redactPatterns('{"access_token":"2YotnFZFEjr1zCsicMWpAA","token_type":"Bearer","client_secret":"s3cr3t"}')).toBe(
      `{"access_token":"${REDACTED}","token_type":"Bearer","client_secret":"${REDACTED}"}`,
    );
  });

  it('RFC 6750 §2.1, RFC 7617: Bearer, DPoP and Basic credentials in free text are redacted; auth-params are not', () => {
    expect(redactPatterns('sent Bearer 2YotnFZFEjr1zCsicMWpAA1 here')).toBe(`sent Bearer ${REDACTED} here`);
    expect(redactPatterns('Basic Z2FsbGVyeTpzZWNyZXQ=')).toBe(`Basic ${REDACTED}`);
    const challenge = 'Bearer resource_metadata="https://mcp.example/.well-known/oauth-protected-resource/mcp", DPoP algs="ES256"';
    expect(redactPatterns(challenge)).toBe(challenge);
  });

  it('leaves the catalogue\'s own prose untouched (titles, summaries and fixes survive the patterns)', () => {
    for (const check of checkDefinitions()) {
      for (const text of [check.title, check.summary, check.fix]) expect(redactPatterns(text), check.id).toBe(text);
    }
  });
});

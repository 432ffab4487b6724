import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isCodeVerifier, sha256Base64url, verifyPkceS256 } from './pkce.js';

const vectors = JSON.parse(readFileSync(new URL('../../test/vectors/rfc-vectors.json', import.meta.url), 'utf8')) as {
  pkce: Array<{ source: string; codeVerifier: string; codeChallengeS256: string }>;
};
const rfc = vectors.pkce[0] as { codeVerifier: string; codeChallengeS256: string };

describe('PKCE S256', () => {
  it('RFC 7636 appendix B: the known-answer vector verifies', () => {
    expect(sha256Base64url(rfc.codeVerifier)).toBe(rfc.codeChallengeS256);
    expect(verifyPkceS256(rfc.codeVerifier, rfc.codeChallengeS256)).toBe(true);
  });

  it('RFC 7636 §4.6: a different verifier does not verify', () => {
    const other = `${rfc.codeVerifier.slice(0, -1)}Y`;
    expect(verifyPkceS256(other, rfc.codeChallengeS256)).toBe(false);
  });

  it('RFC 7636 §4.6: the challenge itself sent as the verifier ("plain" downgrade) does not verify', () => {
    expect(verifyPkceS256(rfc.codeChallengeS256, rfc.codeChallengeS256)).toBe(false);
  });

  it('RFC 7636 §4.1: verifiers outside 43–128 unreserved characters are refused', () => {
    expect(isCodeVerifier('a'.repeat(42))).toBe(false);
    expect(isCodeVerifier('a'.repeat(43))).toBe(true);
    expect(isCodeVerifier('a'.repeat(128))).toBe(true);
    expect(isCodeVerifier('a'.repeat(129))).toBe(false);
    expect(isCodeVerifier(`${'a'.repeat(42)}+`)).toBe(false);
    expect(isCodeVerifier(`${'a'.repeat(42)}=`)).toBe(false);
    expect(verifyPkceS256('a'.repeat(129), sha256Base64url('a'.repeat(129)))).toBe(false);
  });

  it('RFC 7636 §4.6: a malformed stored challenge never verifies', () => {
    expect(verifyPkceS256(rfc.codeVerifier, '')).toBe(false);
    expect(verifyPkceS256(rfc.codeVerifier, `${rfc.codeChallengeS256}=`)).toBe(false);
  });
});

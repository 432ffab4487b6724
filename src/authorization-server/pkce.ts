import { createHash, timingSafeEqual } from 'node:crypto';

/** RFC 7636 §4.1: `code-verifier = 43*128unreserved`. */
const CODE_VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;

/**
 * BASE64URL(SHA-256(ASCII(value))). The S256 code challenge of a verifier, and also the form in
 * which codes and refresh tokens are stored (the stores hold digests, never plaintext).
 *
 * @see https://www.rfc-editor.org/rfc/rfc7636#section-4.2
 */
export function sha256Base64url(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('base64url');
}

/**
 * True for a syntactically valid `code_verifier`: 43–128 characters of
 * `[A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~"`.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7636#section-4.1
 */
export function isCodeVerifier(value: string): boolean {
  return CODE_VERIFIER.test(value);
}

/**
 * Verifies a `code_verifier` against the S256 `code_challenge` stored with the code
 * (RFC 7636 §4.6). `plain` does not exist here: S256 is the only method Warden accepts. The
 * comparison is constant-time, so response timing does not reveal how much of a guess matched.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7636#section-4.6
 */
export function verifyPkceS256(codeVerifier: string, codeChallenge: string): boolean {
  if (!isCodeVerifier(codeVerifier)) return false;
  const actual = Buffer.from(sha256Base64url(codeVerifier), 'utf8');
  const expected = Buffer.from(codeChallenge, 'utf8');
  // Both are 43 characters for a well-formed challenge; a length mismatch reveals nothing secret.
  if (actual.length !== expected.length) return false;
  return timingSafeEqual(actual, expected);
}

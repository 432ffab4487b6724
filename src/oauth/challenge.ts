import type { OAuthError } from './errors.js';

/** Parameters of one `WWW-Authenticate` challenge. */
export interface ChallengeParams {
  scheme: 'Bearer' | 'DPoP';
  error?: string;
  errorDescription?: string;
  scope?: readonly string[];
  resourceMetadata?: string;
  /** DPoP only: accepted proof algorithms (RFC 9449 §7.1). */
  algs?: readonly string[];
}

/**
 * Makes a string safe inside an RFC 9110 quoted-string: printable ASCII only (RFC 6750 §3 limits
 * `error_description` to %x20-21 / %x23-5B / %x5D-7E), so `"` and `\` are dropped rather than
 * escaped, and nothing can split the header.
 */
export function quoteSafe(value: string): string {
  return value.replace(/[^\x20-\x21\x23-\x5B\x5D-\x7E]/g, '');
}

/**
 * Formats one challenge: `Bearer error="invalid_token", error_description="…", scope="…",
 * resource_metadata="…"` or `DPoP …, algs="ES256 …"`.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-3
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-7.1
 * @see https://www.rfc-editor.org/rfc/rfc9728#section-5.1
 */
export function formatChallenge(params: ChallengeParams): string {
  const parts: string[] = [];
  if (params.error !== undefined) parts.push(`error="${quoteSafe(params.error)}"`);
  if (params.errorDescription !== undefined) parts.push(`error_description="${quoteSafe(params.errorDescription)}"`);
  if (params.scope !== undefined && params.scope.length > 0) parts.push(`scope="${quoteSafe(params.scope.join(' '))}"`);
  if (params.resourceMetadata !== undefined) parts.push(`resource_metadata="${quoteSafe(params.resourceMetadata)}"`);
  if (params.algs !== undefined && params.algs.length > 0) parts.push(`algs="${quoteSafe(params.algs.join(' '))}"`);
  return parts.length === 0 ? params.scheme : `${params.scheme} ${parts.join(', ')}`;
}

/** A plain OAuth error body (RFC 6750 §3, RFC 6749 §5.2). */
export function oauthErrorBody(error: OAuthError): { error: string; error_description: string } {
  return { error: error.code, error_description: error.description };
}

/**
 * Redaction of audit evidence. Two layers: every credential the audit handles (the user's tokens
 * and secrets, tokens and codes it obtained, proofs it signed) is registered and replaced wherever
 * it appears, and anything credential-shaped (a JWS, `Bearer …`, `"refresh_token": "…"`,
 * `code=…`) is replaced whether or not it was registered — a server may echo a value the audit
 * never saw, such as a client secret from a registration response.
 */

/** What a redacted value is replaced with. */
export const REDACTED = '[redacted]';

// Compact JWS/JWE anywhere (tokens, proofs, assertions): base64url JSON header starting `eyJ`.
const JWT_LIKE = /eyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*)?/g;
// `Bearer <token>` / `DPoP <token>`: a token68 of 16+ characters with a digit in it (so prose like
// "DPoP challenge" and auth-params like `Bearer resource_metadata="…"` stay readable), and
// `Basic <base64>`.
const SCHEME_CREDENTIALS = /\b(Bearer|DPoP)([ \t]+)(?=[A-Za-z\-._~+/]*[0-9])[A-Za-z0-9\-._~+/]{16,}=*(?![A-Za-z0-9\-._~+/="])|\b(Basic)([ \t]+)[A-Za-z0-9+/]{4,}=*/gi;
// Secret-bearing JSON members: "access_token": "…".
const SECRET_MEMBERS = /("(?:access_token|refresh_token|id_token|client_secret|code|code_verifier|registration_access_token|password|assertion|subject_token|actor_token|device_code|user_code)"\s*:\s*)"(?:[^"\\]|\\.)*"/gi;
// Secret-bearing form or query parameters: code=…, access_token=….
const SECRET_PARAMETERS = /((?:^|[?&#\s])(?:access_token|refresh_token|id_token|client_secret|code|code_verifier|password|assertion|subject_token|registration_access_token|token)=)[^&#\s"'<>]+/gi;
// Header lines whose value is a credential or a session handle (Authorization keeps its scheme,
// which is often the point of the evidence: "Bearer" where "DPoP" was due).
const AUTHORIZATION_LINES = /^((?:proxy-)?authorization:[ \t]*)(?:([A-Za-z][A-Za-z0-9-]*)[ \t]+)?\S.*$/gim;
const SECRET_HEADER_LINES = /^((?:dpop|cookie|set-cookie|mcp-session-id|x-api-key):[ \t]*).*$/gim;
// Credentials in URLs: scheme://user:password@.
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^/\s:@]*:[^/\s@]*@/gi;

/** Redacts credentials from text; knows the exact values it was given as well as credential shapes. */
export class Redactor {
  readonly #secrets = new Set<string>();
  #sorted: string[] | undefined;

  /**
   * Registers a value that must never appear in output. Values shorter than 6 characters are
   * ignored (they would blank out ordinary words); the patterns still catch them in context.
   */
  add(secret: string | undefined | null): void {
    if (typeof secret !== 'string' || secret.length < 6 || this.#secrets.has(secret)) return;
    this.#secrets.add(secret);
    this.#sorted = undefined;
  }

  /** True when `value` was registered. */
  has(value: string): boolean {
    return this.#secrets.has(value);
  }

  /** `text` with every registered value and every credential-shaped value replaced. */
  redact(text: string): string {
    let out = text;
    this.#sorted ??= [...this.#secrets].sort((a, b) => b.length - a.length);
    for (const secret of this.#sorted) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
    return redactPatterns(out);
  }
}

/** Replaces credential-shaped values (the second layer of {@link Redactor}); safe on any text. */
export function redactPatterns(text: string): string {
  return text
    .replace(AUTHORIZATION_LINES, (_m, name: string, scheme: string | undefined) => `${name}${scheme === undefined ? '' : `${scheme} `}${REDACTED}`)
    .replace(SECRET_HEADER_LINES, (_m, name: string) => `${name}${REDACTED}`)
    .replace(JWT_LIKE, REDACTED)
    .replace(SCHEME_CREDENTIALS, (_m, scheme: string | undefined, space: string | undefined, basic: string | undefined, basicSpace: string | undefined) =>
      `${scheme ?? basic ?? ''}${space ?? basicSpace ?? ' '}${REDACTED}`,
    )
    .replace(SECRET_MEMBERS, (_m, member: string) => `${member}"${REDACTED}"`)
    .replace(SECRET_PARAMETERS, (_m, name: string) => `${name}${REDACTED}`)
    .replace(URL_USERINFO, (_m, scheme: string) => `${scheme}${REDACTED}@`);
}

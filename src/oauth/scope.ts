/**
 * Scope strings (RFC 6749 §3.3): space-delimited, case-sensitive tokens of %x21 / %x23-5B / %x5D-7E.
 */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

/** True for a syntactically valid scope token. */
export function isScopeToken(value: string): boolean {
  return SCOPE_TOKEN.test(value);
}

/** Splits a scope string into unique tokens, preserving order. */
export function parseScope(value: string): string[] {
  return [...new Set(value.split(' ').filter((s) => s.length > 0))];
}

/** Scopes of `required` missing from `granted`. */
export function missingScopes(granted: readonly string[], required: Iterable<string>): string[] {
  const have = new Set(granted);
  const missing: string[] = [];
  for (const scope of required) if (!have.has(scope)) missing.push(scope);
  return missing;
}

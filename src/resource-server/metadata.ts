/**
 * RFC 9728 protected resource metadata.
 * @see https://www.rfc-editor.org/rfc/rfc9728#section-2
 */
export interface ProtectedResourceMetadata {
  resource: string;
  authorization_servers: string[];
  scopes_supported: string[];
  bearer_methods_supported: string[];
  dpop_signing_alg_values_supported?: string[];
  dpop_bound_access_tokens_required?: boolean;
  resource_name?: string;
  resource_documentation?: string;
}

/**
 * Well-known locations of the metadata for `resource` (RFC 9728 §3.1): the path-inserted URL
 * (`/.well-known/oauth-protected-resource/mcp` for `https://host/mcp`) and the root one, which
 * MCP clients fall back to.
 */
export function metadataLocations(resource: string): { url: string; paths: string[] } {
  const url = new URL(resource);
  const path = url.pathname === '/' ? '' : url.pathname;
  const inserted = `/.well-known/oauth-protected-resource${path}`;
  const paths = path === '' ? [inserted] : [inserted, '/.well-known/oauth-protected-resource'];
  return { url: `${url.origin}${inserted}`, paths };
}

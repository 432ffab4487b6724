import { assertionAlgorithms } from '../../assertions/assertion-rules.js';
import { jwtBearerEnabled } from '../../assertions/trusted-issuers.js';
import { parSettings } from '../par/pushed-requests.js';
import type { AsContext } from '../../context.js';
import type { Endpoint } from '../../endpoint.js';
import { deviceGrantSettings } from '../../device-grant/settings.js';
import { DEVICE_CODE_GRANT_TYPE } from '../../grants/device-code.js';
import { sendJson } from '../../http.js';

/** Grant types Warden's token endpoint implements. */
export const GRANT_TYPES = ['authorization_code', 'refresh_token', 'client_credentials', 'urn:ietf:params:oauth:grant-type:token-exchange', 'urn:ietf:params:oauth:grant-type:jwt-bearer'] as const;

/**
 * RFC 8414 authorization server metadata, with the MCP- and DPoP-specific members.
 * @see https://www.rfc-editor.org/rfc/rfc8414#section-2
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-5.1
 * @see https://www.rfc-editor.org/rfc/rfc9207#section-3
 */
export function buildMetadata(ctx: AsContext): Record<string, unknown> {
  const e = ctx.endpoints;
  const doc: Record<string, unknown> = {
    issuer: ctx.issuer,
    authorization_endpoint: e.authorization,
    token_endpoint: e.token,
    jwks_uri: e.jwks,
    revocation_endpoint: e.revocation,
    introspection_endpoint: e.introspection,
    scopes_supported: ctx.resources.allScopes(),
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    grant_types_supported: GRANT_TYPES.filter((g) => g !== 'urn:ietf:params:oauth:grant-type:jwt-bearer' || jwtBearerEnabled(ctx)),
    token_endpoint_auth_methods_supported: ['none', 'client_secret_basic', 'client_secret_post', 'private_key_jwt'],
    revocation_endpoint_auth_methods_supported: ['none', 'client_secret_basic', 'client_secret_post', 'private_key_jwt'],
    introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt'],
    // RFC 8414 §2: the algorithms private_key_jwt assertions may use at each endpoint.
    token_endpoint_auth_signing_alg_values_supported: assertionAlgorithms(ctx),
    revocation_endpoint_auth_signing_alg_values_supported: assertionAlgorithms(ctx),
    introspection_endpoint_auth_signing_alg_values_supported: assertionAlgorithms(ctx),
    code_challenge_methods_supported: ['S256'],
    dpop_signing_alg_values_supported: [...ctx.dpopAlgorithmList],
    authorization_response_iss_parameter_supported: true,
    client_id_metadata_document_supported: ctx.clientMetadataDocuments.enabled,
    subject_types_supported: ['public'],
  };
  if (ctx.registration.enabled) doc.registration_endpoint = e.registration;
  // RFC 8628 §4: only when the grant is on (enabled, and the stores keep device codes).
  const device = deviceGrantSettings(ctx);
  if (device.store !== undefined) {
    doc.device_authorization_endpoint = device.authorizationEndpoint;
    doc.grant_types_supported = [...(doc.grant_types_supported as string[]), DEVICE_CODE_GRANT_TYPE];
  }
  // RFC 9126 §5: PAR, authenticated as at the token endpoint.
  doc.pushed_authorization_request_endpoint = `${new URL(e.token).origin}${ctx.basePath}/par`;
  doc.require_pushed_authorization_requests = parSettings(ctx).required;
  return doc;
}

/**
 * Well-known paths of the metadata: RFC 8414 §3.1 path insertion, plus the OpenID discovery
 * forms MCP clients fall back to (inserted and appended).
 */
export function metadataPaths(ctx: AsContext): string[] {
  const p = ctx.basePath;
  const paths = [`/.well-known/oauth-authorization-server${p}`, `/.well-known/openid-configuration${p}`];
  if (p !== '') paths.push(`${p}/.well-known/openid-configuration`);
  return paths;
}

/** GET metadata: public, cacheable, CORS-readable. */
export const metadataEndpoint: Endpoint = async (ctx, _req, res) => {
  sendJson(res, 200, buildMetadata(ctx), { 'Cache-Control': 'public, max-age=300', 'Access-Control-Allow-Origin': '*' });
};

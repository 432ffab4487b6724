/**
 * The client side of the jwt-bearer grant (RFC 7523 §2.1) for the v1 MCP SDK client:
 * enterprise-managed authorization (SEP-990: the IdP's ID token → an ID-JAG at the IdP by token
 * exchange → an access token at the MCP server's authorization server) and workload identity
 * (SEP-1933: the platform's token → an access token, no client secret).
 *
 * ```ts
 * const provider = createJwtBearerProvider({ clientId: 'ci', assertion: workloadToken('/var/run/secrets/tokens/mcp') });
 * new StreamableHTTPClientTransport(url, { authProvider: provider });
 * ```
 */
import { readFile } from 'node:fs/promises';
import type { OAuthClientProvider, OAuthDiscoveryState } from '@modelcontextprotocol/sdk/client/auth.js';
import type { OAuthClientInformationMixed, OAuthClientMetadata, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import type { FetchLike } from './dpop-fetch.js';
import { McpAuthError } from './errors.js';

/** RFC 7523 §2.1 grant type. */
export const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
/** RFC 8693 token exchange, as the IdP runs it for ID-JAGs. */
const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
/** draft-ietf-oauth-identity-assertion-authz-grant §6: the requested token type of an ID-JAG. */
export const ID_JAG_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:id-jag';
const ID_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:id_token';

/** Where a jwt-bearer assertion is going: what the kit learnt by discovery. */
export interface AssertionTarget {
  /** The authorization server's issuer identifier (its metadata `issuer`), the assertion's audience. */
  issuer: string;
  /** The MCP server's resource identifier (RFC 9728 `resource`), when known. */
  resource?: string;
}

/** Options of {@link createJwtBearerProvider}. */
export interface JwtBearerProviderOptions {
  /** The client's id at the MCP server's authorization server. */
  clientId: string;
  /** Its secret, when the server authenticates it (`client_secret_basic`); none for workloads. */
  clientSecret?: string;
  /** The authorization server the client is registered with (SEP-2352: credentials belong to one issuer). */
  expectedIssuer?: string;
  /** Called for every token request: a fresh assertion for `target` (an ID-JAG, a platform token). */
  assertion: (target: AssertionTarget) => Promise<string>;
  /** Scope to ask for. */
  scope?: string;
  clientName?: string;
}

/**
 * An `OAuthClientProvider` that obtains tokens with the jwt-bearer grant: no browser, no refresh
 * token (a new assertion is presented instead). The SDK does discovery and sends `resource`;
 * this provider supplies the grant, the assertion and the client's credentials.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7523#section-2.1
 */
export function createJwtBearerProvider(options: JwtBearerProviderOptions): OAuthClientProvider {
  if (typeof options.clientId !== 'string' || options.clientId === '') throw new TypeError('createJwtBearerProvider: clientId is required');
  if (typeof options.assertion !== 'function') throw new TypeError('createJwtBearerProvider: assertion must be a function returning a JWT');
  let tokens: OAuthTokens | undefined;
  let discovery: OAuthDiscoveryState | undefined;
  const clientInformation: OAuthClientInformationMixed = {
    client_id: options.clientId,
    ...(options.clientSecret !== undefined && { client_secret: options.clientSecret }),
    ...(options.expectedIssuer !== undefined && { issuer: options.expectedIssuer }),
  } as OAuthClientInformationMixed;
  const metadata: OAuthClientMetadata = {
    client_name: options.clientName ?? 'MCP jwt-bearer client',
    redirect_uris: [],
    grant_types: [JWT_BEARER_GRANT],
    token_endpoint_auth_method: options.clientSecret === undefined ? 'none' : 'client_secret_basic',
    ...(options.scope !== undefined && { scope: options.scope }),
  };
  return {
    get redirectUrl() {
      return undefined;
    },
    get clientMetadata() {
      return metadata;
    },
    clientInformation: () => clientInformation,
    tokens: () => tokens,
    saveTokens: (next: OAuthTokens) => {
      tokens = next;
    },
    redirectToAuthorization: () => {
      throw new McpAuthError('interaction_required', 'the jwt-bearer flow has no browser step: the server asked for an interactive authorization');
    },
    saveCodeVerifier: () => {},
    codeVerifier: () => {
      throw new McpAuthError('interaction_required', 'the jwt-bearer flow uses no authorization code');
    },
    saveDiscoveryState: (state: OAuthDiscoveryState) => {
      discovery = state;
    },
    discoveryState: () => discovery,
    async prepareTokenRequest(scope?: string): Promise<URLSearchParams> {
      const issuer = discovery?.authorizationServerMetadata?.issuer ?? discovery?.authorizationServerUrl;
      if (issuer === undefined) throw new McpAuthError('discovery_required', 'the authorization server is not known yet (no discovery state)');
      const resource = discovery?.resourceMetadata?.resource;
      const assertion = await options.assertion({ issuer, ...(resource !== undefined && { resource }) });
      const params = new URLSearchParams({ grant_type: JWT_BEARER_GRANT, assertion });
      const asked = scope ?? options.scope;
      if (asked !== undefined && asked !== '') params.set('scope', asked);
      return params;
    },
  };
}

/** Options of {@link requestIdJag}. */
export interface RequestIdJagOptions {
  /** The IdP's token endpoint. */
  tokenEndpoint: string | URL;
  /** The user's ID token from the IdP (the SSO sign-in). */
  idToken: string;
  /** The MCP authorization server's issuer identifier: the ID-JAG's audience. */
  audience: string;
  /** The MCP server's resource identifier. */
  resource?: string;
  scope?: string;
  /** The client's id at the IdP, and its secret when the IdP authenticates it (`client_secret_basic`). */
  clientId: string;
  clientSecret?: string;
  fetch?: FetchLike;
}

/**
 * Asks the enterprise IdP for an ID-JAG (SEP-990; draft-ietf-oauth-identity-assertion-authz-grant
 * §4.3): RFC 8693 token exchange of the user's ID token, `requested_token_type` id-jag, for the
 * MCP authorization server (`audience`) and resource. Returns the ID-JAG.
 *
 * @throws {McpAuthError} `id_jag_refused` with the IdP's error, or when the answer is not an ID-JAG.
 * @see https://www.rfc-editor.org/rfc/rfc8693#section-2.1
 */
export async function requestIdJag(options: RequestIdJagOptions): Promise<string> {
  const body = new URLSearchParams({
    grant_type: TOKEN_EXCHANGE_GRANT,
    requested_token_type: ID_JAG_TOKEN_TYPE,
    subject_token: options.idToken,
    subject_token_type: ID_TOKEN_TYPE,
    audience: options.audience,
  });
  if (options.resource !== undefined) body.set('resource', options.resource);
  if (options.scope !== undefined) body.set('scope', options.scope);
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
  if (options.clientSecret === undefined) body.set('client_id', options.clientId);
  else headers.authorization = `Basic ${Buffer.from(`${encodeURIComponent(options.clientId)}:${encodeURIComponent(options.clientSecret)}`).toString('base64')}`;
  const response = await (options.fetch ?? globalThis.fetch)(options.tokenEndpoint, { method: 'POST', headers, body });
  let answer: Record<string, unknown> = {};
  try {
    answer = (await response.json()) as Record<string, unknown>;
  } catch {
    // Reported below.
  }
  if (!response.ok) {
    throw new McpAuthError('id_jag_refused', `the identity provider refused the token exchange (${response.status}${typeof answer.error === 'string' ? ` ${answer.error}` : ''})`);
  }
  if (typeof answer.access_token !== 'string' || answer.issued_token_type !== ID_JAG_TOKEN_TYPE) {
    throw new McpAuthError('id_jag_refused', 'the identity provider answered without an ID-JAG (issued_token_type must be urn:ietf:params:oauth:token-type:id-jag)');
  }
  return answer.access_token;
}

/**
 * An assertion source for {@link createJwtBearerProvider} from a platform token file (SEP-1933):
 * a Kubernetes projected service-account token, a SPIFFE JWT-SVID written by a helper, a CI
 * OIDC token. Read afresh on every token request, as the platform rotates the file.
 */
export function workloadTokenFile(path: string): (target: AssertionTarget) => Promise<string> {
  return async () => {
    const token = (await readFile(path, 'utf8')).trim();
    if (!/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token)) throw new McpAuthError('workload_token_unusable', `the workload token at ${path} is not a JWT`);
    return token;
  };
}

/**
 * An `OAuthClientProvider` for the v1 MCP SDK client (`@modelcontextprotocol/sdk`) that makes its
 * built-in OAuth flow DPoP-bound and adds step-up authorization. Give the transport both the
 * provider and its `fetch`:
 *
 * ```ts
 * const provider = createOAuthProvider({ redirectUrl: callback.redirectUrl, dpop: await generateDpopKey(), authorize: ... });
 * new StreamableHTTPClientTransport(url, { authProvider: provider, fetch: provider.fetch });
 * ```
 *
 * The SDK keeps discovery, registration, PKCE and `resource`; the provider adds what it lacks:
 * proofs on token and resource requests (the SDK only knows Bearer), `dpop_jkt`, the `state` and
 * RFC 9207 `iss` checks on the authorization response, and re-authorization when a tool answers
 * 403 `insufficient_scope` or a request after connect answers 401.
 *
 * The same provider serves the v2 client (`@modelcontextprotocol/client`, the one that speaks the
 * stateless 2026-07-28 revision): pass the v2 SDK's `auth` as the `auth` option, so step-up runs
 * the v2 flow (`offline_access`, issuer-keyed credentials), and finish with
 * `connectWithAuthorization`, which hands the v2 transport the response's `iss` as well.
 */
import { timingSafeEqual } from 'node:crypto';
import { auth, type OAuthClientProvider, type OAuthDiscoveryState } from '@modelcontextprotocol/sdk/client/auth.js';
import type { OAuthClientInformationMixed, OAuthClientMetadata, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import { createDpopFetch, type DpopNonceStore, type FetchLike } from './dpop-fetch.js';
import type { DpopKey } from './dpop-key.js';
import { AuthorizationDeclinedError, AuthorizationResponseError } from './errors.js';
import { createStepUpFetch, type StepUpOptions } from './step-up.js';

/** Options of {@link createOAuthProvider}. */
export interface OAuthProviderOptions {
  /** The registered redirect URI (a loopback listener: `startLoopbackCallback()`). */
  redirectUrl: string | URL;
  /**
   * Sends the user to the authorization URL (opens a browser) and resolves with the URL the
   * authorization server redirected back to, query and all.
   */
  authorize: (authorizationUrl: URL) => Promise<URL | string>;
  /** Binds every token to this key (RFC 9449). Without it the flow stays Bearer. */
  dpop?: DpopKey;
  /** Shown on the consent page. Default `MCP client`. */
  clientName?: string;
  /** Extra registration metadata (RFC 7591 §2), merged over the defaults. */
  clientMetadata?: Partial<OAuthClientMetadata>;
  /** A client already registered (or configured by the operator): no dynamic registration then. */
  clientInformation?: OAuthClientInformationMixed;
  /** A Client ID Metadata Document URL, used when the server supports them. */
  clientMetadataUrl?: string;
  /** The `fetch` underneath. Default `globalThis.fetch`. */
  fetch?: FetchLike;
  /** Step-up on 403 `insufficient_scope` and on 401 after connect. Default on, one re-authorization per request. */
  stepUp?: StepUpOptions | false;
  /**
   * The SDK's `auth` function, which step-up runs for a new authorization. Default: the v1 SDK's
   * (`@modelcontextprotocol/sdk/client/auth.js`); with a v2 client pass `auth` from
   * `@modelcontextprotocol/client`, so the flow is the one its transport runs.
   */
  auth?: SdkAuth;
}

/** What {@link OAuthProviderOptions.auth} is called with: the options both SDKs' `auth` take. */
export interface SdkAuthOptions {
  serverUrl: string | URL;
  authorizationCode?: string;
  /** RFC 9207 `iss` of the authorization response (the v2 SDK checks it; v1 ignores it). */
  iss?: string;
  scope?: string;
  resourceMetadataUrl?: URL;
  fetchFn?: FetchLike;
  /** Skip refresh even when a refresh token is held (v2; v1 ignores it, the provider hides the refresh token instead). */
  forceReauthorization?: boolean;
}

/**
 * The SDK's `auth` (v1 or v2). Its provider parameter is typed `never` because the two SDKs name
 * their provider types apart; the provider passed is always this one.
 */
export type SdkAuth = (provider: never, options: SdkAuthOptions) => Promise<'AUTHORIZED' | 'REDIRECT'>;

/** The authorization response, once checked: the code, and the issuer it names (RFC 9207) if any. */
export interface AuthorizationResponse {
  code: string;
  iss: string | undefined;
}

/** The provider, with the `fetch` to hand to the transport next to it. */
export interface McpOAuthProvider extends OAuthClientProvider {
  /** DPoP proofs and step-up; pass as the transport's `fetch`. */
  readonly fetch: FetchLike;
  /** The DPoP key the tokens are bound to, if any. */
  readonly dpopKey: DpopKey | undefined;
  /**
   * The v2 SDK's DPoP hook (`OAuthClientProvider.dpop()`): answers `undefined`, so a v2 transport
   * leaves the proofs to this provider's `fetch` — one signer and one nonce store for token and
   * resource requests. (The key is {@link dpopKey}.)
   */
  dpop(): undefined;
  /**
   * Waits for the authorization started by the SDK (its `redirectToAuthorization`) to come back,
   * checks it, and returns the code for `transport.finishAuth(code)`. Throws
   * `AuthorizationDeclinedError` when the user said no.
   */
  waitForAuthorizationCode(): Promise<string>;
  /**
   * As {@link waitForAuthorizationCode}, with the response's `iss` (RFC 9207) too: the v2 SDK
   * checks it again when the code is exchanged (`transport.finishAuth(code, iss)`).
   */
  waitForAuthorization(): Promise<AuthorizationResponse>;
  /** The scopes of the current token (empty before the first one). */
  grantedScopes(): string[];
  /**
   * Runs a new interactive authorization for `scope` against the MCP server at `serverUrl`,
   * skipping refresh (which can never widen scope). Used by step-up; the old tokens stay when
   * the user declines. With `{ refresh: true }` (a 401 after connect: the token expired or was
   * revoked) a refresh is tried first, and the user is asked only when it fails.
   */
  reauthorize(serverUrl: string | URL, scope: string, resourceMetadataUrl?: URL, options?: { refresh?: boolean }): Promise<void>;
}

/**
 * Creates the provider.
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-10
 * @see https://modelcontextprotocol.io/specification/2026-07-28/basic/authorization#step-up-authorization-flow
 */
export function createOAuthProvider(options: OAuthProviderOptions): McpOAuthProvider {
  if (typeof options.authorize !== 'function') throw new TypeError('createOAuthProvider needs an authorize(url) function that sends the user there and returns the redirect URL');
  const redirectUrl = new URL(options.redirectUrl).href;
  const baseFetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const key = options.dpop;
  const nonces: DpopNonceStore = new Map<string, string>();
  const sdkAuth = (options.auth ?? auth) as (provider: McpOAuthProvider, options: SdkAuthOptions) => Promise<'AUTHORIZED' | 'REDIRECT'>;
  if (typeof sdkAuth !== 'function') throw new TypeError("createOAuthProvider's auth option must be the SDK's auth function");

  let client = options.clientInformation;
  let tokens: OAuthTokens | undefined;
  let verifier: string | undefined;
  let discovery: OAuthDiscoveryState | undefined;
  /** An authorization-code flow is between its redirect and its code exchange: discovery must not change under it. */
  let authorizing = false;
  let expectedState: string | undefined;
  let pending: Promise<URL> | undefined;
  /**
   * While step-up re-authorizes, the refresh token is hidden so the SDK cannot settle for a
   * refresh (which never widens scope); other requests keep using the access token meanwhile.
   */
  let hideRefreshToken = false;
  /** The re-authorization under way: one at a time, so concurrent 403s share one visit to the user. */
  let reauthorizing: Promise<void> | undefined;

  const isBound = (token: string) => tokens !== undefined && tokens.access_token === token && tokens.token_type.toLowerCase() === 'dpop';
  const signed = key === undefined ? baseFetch : createDpopFetch(baseFetch, key, { nonces, isBound });

  const metadata: OAuthClientMetadata = {
    client_name: options.clientName ?? 'MCP client',
    // SEP-837: say what kind of application registers; a loopback or custom-scheme redirect is a native app.
    application_type: applicationType(redirectUrl),
    redirect_uris: [redirectUrl],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
    ...(key !== undefined && { dpop_bound_access_tokens: true }),
    ...options.clientMetadata,
  } as OAuthClientMetadata;

  const provider: McpOAuthProvider = {
    get redirectUrl() {
      return redirectUrl;
    },
    get clientMetadata() {
      return metadata;
    },
    ...(options.clientMetadataUrl !== undefined && { clientMetadataUrl: options.clientMetadataUrl }),
    dpopKey: key,
    dpop: () => undefined,
    fetch: signed,
    state() {
      expectedState = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url');
      return expectedState;
    },
    clientInformation: () => client,
    saveClientInformation(information) {
      client = information;
    },
    tokens: () => (hideRefreshToken && tokens !== undefined ? { ...tokens, refresh_token: undefined } : tokens),
    saveTokens(value) {
      tokens = value;
      authorizing = false;
    },
    saveCodeVerifier(value) {
      verifier = value;
    },
    codeVerifier() {
      if (verifier === undefined) throw new AuthorizationResponseError('invalid_request', 'no authorization is in progress (no PKCE code verifier)');
      return verifier;
    },
    saveDiscoveryState(state) {
      // SEP-2468 (RFC 8414 §3.3): metadata whose issuer is not the URL discovery went to is
      // refused here — before the SDK registers, so no registration reaches an impostor.
      const claimed = state.authorizationServerMetadata?.issuer;
      if (claimed !== undefined && !sameDiscoveredIssuer(claimed, state.authorizationServerUrl)) {
        throw new AuthorizationResponseError('invalid_issuer', `the authorization server at ${JSON.stringify(state.authorizationServerUrl)} calls itself ${JSON.stringify(claimed)} (RFC 8414 §3.3): not used`);
      }
      discovery = state;
    },
    // SEP-2352: discovery is kept only through one authorization (redirect to code exchange); every
    // later flow discovers again, so a resource that moves to another authorization server is followed.
    discoveryState: () => (authorizing ? discovery : undefined),
    invalidateCredentials(scope) {
      if (scope === 'all' || scope === 'client') client = options.clientInformation;
      if (scope === 'all' || scope === 'tokens') tokens = undefined;
      if (scope === 'all' || scope === 'verifier') verifier = undefined;
      if (scope === 'all' || scope === 'discovery') discovery = undefined;
    },
    redirectToAuthorization(url) {
      authorizing = true;
      // RFC 9449 §10: bind the code to the key, so a stolen code is useless without it.
      if (key !== undefined) url.searchParams.set('dpop_jkt', key.thumbprint);
      pending = Promise.resolve()
        .then(() => options.authorize(new URL(url.href)))
        .then((back) => new URL(back));
      pending.catch(() => undefined); // surfaced by waitForAuthorizationCode
    },
    async waitForAuthorizationCode() {
      return (await provider.waitForAuthorization()).code;
    },
    async waitForAuthorization() {
      if (pending === undefined) throw new AuthorizationResponseError('invalid_request', 'no authorization is in progress');
      const back = await pending.finally(() => (pending = undefined));
      return { code: checkAuthorizationResponse(back, expectedState, discovery), iss: back.searchParams.get('iss') ?? undefined };
    },
    grantedScopes: () => (tokens?.scope ?? '').split(' ').filter(Boolean),
    async reauthorize(serverUrl, scope, resourceMetadataUrl, { refresh = false } = {}) {
      const wanted = scope.split(' ').filter(Boolean);
      const held = tokens?.access_token;
      const covered = () => wanted.every((s) => provider.grantedScopes().includes(s));
      // Step-up is done once the grant covers the scope; after a 401, once the refused token was replaced too.
      const done = () => covered() && (!refresh || (tokens !== undefined && tokens.access_token !== held));
      const run = (reauthorizing ?? Promise.resolve())
        .catch(() => undefined)
        .then(() => (done() ? undefined : interactive(serverUrl, scope, resourceMetadataUrl, refresh)));
      reauthorizing = run;
      try {
        await run;
      } finally {
        if (reauthorizing === run) reauthorizing = undefined;
      }
    },
  };

  /**
   * A new authorization for `scope`, through the user. Refresh is skipped (it cannot widen scope)
   * unless `refresh` says the token was refused as invalid, when a refresh may be all it takes.
   */
  async function interactive(serverUrl: string | URL, scope: string, resourceMetadataUrl: URL | undefined, refresh: boolean): Promise<void> {
    const where = { serverUrl, fetchFn: signed, ...(resourceMetadataUrl && { resourceMetadataUrl }) };
    hideRefreshToken = !refresh;
    let result;
    try {
      result = await sdkAuth(provider, { ...where, scope, forceReauthorization: !refresh });
    } finally {
      hideRefreshToken = false;
    }
    if (result === 'AUTHORIZED') return;
    const { code, iss } = await provider.waitForAuthorization();
    await sdkAuth(provider, { ...where, authorizationCode: code, ...(iss !== undefined && { iss }) });
  }
  if (options.stepUp !== false) {
    Object.defineProperty(provider, 'fetch', { value: createStepUpFetch(signed, provider, options.stepUp ?? {}), enumerable: true });
  }
  return provider;
}

/**
 * The checks on the redirect back: `state` (RFC 6749 §10.12), `iss` (RFC 9207 §2.4), `error`
 * (§4.1.2.1), `code`.
 *
 * The issuer expected is the one discovery went to (the protected resource's
 * `authorization_servers` entry), not the `issuer` its metadata claims: the SDK does not hold the
 * metadata to its URL (RFC 8414 §3.3), so a server claiming an honest issuer's name could relay
 * the user there and pass an `iss` check made against its own claim (RFC 9700 §4.4 mix-up).
 */
function checkAuthorizationResponse(back: URL, expectedState: string | undefined, discovery: OAuthDiscoveryState | undefined): string {
  const params = back.searchParams;
  const state = params.get('state');
  if (expectedState === undefined || state === null || !sameString(state, expectedState)) {
    throw new AuthorizationResponseError('invalid_state', 'the authorization response does not carry the state this client sent (RFC 6749 §10.12): ignored');
  }
  const iss = params.get('iss');
  if (discovery !== undefined) {
    const expected = discovery.authorizationServerUrl;
    const as = discovery.authorizationServerMetadata;
    if (as !== undefined && !sameDiscoveredIssuer(as.issuer, expected)) {
      throw new AuthorizationResponseError('invalid_issuer', `the authorization server at ${JSON.stringify(expected)} calls itself ${JSON.stringify(as.issuer)} (RFC 8414 §3.3): ignored`);
    }
    // The issuer identifier itself: the metadata's, once it matched the discovery URL above.
    const issuer = as?.issuer ?? expected;
    const promised = (as as Record<string, unknown> | undefined)?.authorization_response_iss_parameter_supported === true;
    if ((iss !== null || promised) && (iss === null || !sameIssuer(iss, issuer))) {
      throw new AuthorizationResponseError('invalid_issuer', `the authorization response came from issuer ${JSON.stringify(iss)}, not ${JSON.stringify(issuer)} (RFC 9207 §2.4, exact comparison): ignored`);
    }
  }
  const error = params.get('error');
  if (error === 'access_denied') throw new AuthorizationDeclinedError(params.get('error_description') ?? undefined);
  if (error !== null) throw new AuthorizationResponseError(error, `the authorization server answered ${error}${params.has('error_description') ? `: ${params.get('error_description')}` : ''}`);
  const code = params.get('code');
  if (code === null || code === '') throw new AuthorizationResponseError('invalid_request', 'the authorization response has no code');
  return code;
}

/** RFC 9207 §2.4: `iss` is compared with the issuer as a simple string — no normalisation at all. */
function sameIssuer(a: string, b: string): boolean {
  return a === b;
}

/**
 * The metadata's issuer against the URL discovery used (RFC 8414 §3.3): identical, except the "/"
 * a URL parser appends to a pathless origin when the SDK derives that URL itself.
 */
function sameDiscoveredIssuer(claimed: string, discoveredFrom: string): boolean {
  return claimed === discoveredFrom || (discoveredFrom === `${claimed}/` && new URL(claimed).pathname === '/' && !claimed.endsWith('/'));
}

/** SEP-837 `application_type`: `native` for loopback and custom-scheme redirects, `web` otherwise (OpenID Connect Registration §2). */
function applicationType(redirectUrl: string): 'native' | 'web' {
  const url = new URL(redirectUrl);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'native';
  return ['127.0.0.1', '[::1]', 'localhost'].includes(url.hostname) ? 'native' : 'web';
}

function sameString(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

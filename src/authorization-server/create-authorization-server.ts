import { DEFAULTS } from '../oauth/defaults.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RevocationList } from '../stores/contracts.js';
import { checkAssertionOptions } from './assertions/assertion-rules.js';
import { buildJwtBearerTrust } from './assertions/trusted-issuers.js';
import { parEndpoint } from './endpoints/par/index.js';
import { configurePar } from './endpoints/par/pushed-requests.js';
import { ClientAuthenticationError } from './clients/client-auth.js';
import { syncConfiguredClients } from './clients/configured-clients.js';
import { createContext, type AsContext } from './context.js';
import type { Endpoint } from './endpoint.js';
import { deviceGrantSettings } from './device-grant/settings.js';
import { authorizeEndpoint } from './endpoints/authorize/index.js';
import { federationCallbackEndpoint } from './endpoints/federation-callback/index.js';
import { identityProviders } from './federation/providers.js';
import { deviceAuthorizationEndpoint } from './endpoints/device-authorization/index.js';
import { deviceVerificationEndpoint } from './endpoints/device-verification/index.js';
import { interactionEndpoint } from './endpoints/interaction/index.js';
import { introspectEndpoint } from './endpoints/introspect/index.js';
import { jwksEndpoint } from './endpoints/jwks/index.js';
import { buildMetadata, metadataEndpoint, metadataPaths } from './endpoints/metadata/index.js';
import { registerEndpoint } from './endpoints/register/index.js';
import { revokeEndpoint } from './endpoints/revoke/index.js';
import { tokenEndpoint } from './endpoints/token/index.js';
import { sendJson, sendOAuthError } from './http.js';
import type { AuthorizationServerOptions } from './options.js';
import type { Jwks } from './signing-keys.js';

/** The authorization server: a node:http handler plus what the rest of the stack needs from it. */
export interface AuthorizationServer {
  readonly issuer: string;
  /** Handles the request if it is one of ours; resolves false otherwise (the caller routes on). */
  handle(req: IncomingMessage, res: ServerResponse): Promise<boolean>;
  /** RFC 8414 metadata document. */
  metadata(): Record<string, unknown>;
  jwks(): Promise<Jwks>;
  /** Deny-list of revoked access tokens, for resource servers (`createResourceServer({ revocation })`). */
  readonly revocationList: RevocationList;
  /**
   * Publishes a new next key and promotes the previous next (`warden keys rotate`). `admin`: the
   * operator who asked (named in the `keys.rotated` audit event).
   */
  rotateKeys(by?: { admin?: string }): Promise<void>;
  /**
   * Deletes expired codes, tokens, interactions, deny-list entries and throttles, and registered
   * clients never used within `registration.expireUnusedAfterSeconds`, now (also runs every
   * `purgeIntervalSeconds`).
   */
  purgeExpired(): Promise<void>;
  /** Endpoint context (tests and CLI tools). */
  readonly context: AsContext;
  close(): Promise<void>;
}

interface Route {
  methods: readonly string[];
  endpoint: Endpoint;
  /** Browser-callable from any origin (public clients in web apps). */
  cors: boolean;
}

/**
 * Creates the authorization server. Validates options (fails at start with a message that says
 * what to fix), ensures signing keys exist, and writes configured clients to the client store.
 */
export async function createAuthorizationServer(options: AuthorizationServerOptions): Promise<AuthorizationServer> {
  const ctx = createContext(options);
  checkAssertionOptions(options);
  buildJwtBearerTrust(ctx, options);
  configurePar(ctx, options);
  await ctx.keys.init();
  await syncConfiguredClients(ctx, options.clients ?? []);

  const routes = new Map<string, Route>();
  const add = (path: string, methods: readonly string[], endpoint: Endpoint, cors = false): void => {
    routes.set(path, { methods, endpoint, cors });
  };
  for (const path of metadataPaths(ctx)) add(path, ['GET', 'HEAD'], metadataEndpoint, true);
  const p = ctx.basePath;
  add(`${p}/jwks`, ['GET', 'HEAD'], jwksEndpoint, true);
  add(`${p}/authorize`, ['GET', 'POST'], authorizeEndpoint);
  add(`${p}/token`, ['POST'], tokenEndpoint, true);
  add(`${p}/revoke`, ['POST'], revokeEndpoint, true);
  add(`${p}/introspect`, ['POST'], introspectEndpoint);
  add(`${p}/par`, ['POST'], parEndpoint, true);
  if (ctx.registration.enabled) add(`${p}/register`, ['POST'], registerEndpoint, true);
  // Validates identityProviders and login.localUsers at start.
  if (identityProviders(ctx).size > 0) add(`${p}/federation/callback`, ['GET'], federationCallbackEndpoint);
  if (deviceGrantSettings(ctx).store !== undefined) {
    add(`${p}/device_authorization`, ['POST'], deviceAuthorizationEndpoint, true);
    add(`${p}/device`, ['GET', 'POST'], deviceVerificationEndpoint);
  }
  const interactionPrefix = `${p}/interaction/`;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    let route = routes.get(path);
    if (route === undefined && path.startsWith(interactionPrefix)) route = { methods: ['GET', 'POST'], endpoint: interactionEndpoint, cors: false };
    if (route === undefined) return false;
    const method = req.method ?? 'GET';
    if (route.cors) {
      res.setHeader('Access-Control-Allow-Origin', '*');
      if (method === 'OPTIONS') {
        res.writeHead(204, {
          'Access-Control-Allow-Methods': [...route.methods, 'OPTIONS'].join(', '),
          'Access-Control-Allow-Headers': 'Authorization, Content-Type, DPoP, MCP-Protocol-Version',
          'Access-Control-Expose-Headers': 'DPoP-Nonce, WWW-Authenticate, Retry-After',
          'Access-Control-Max-Age': '600',
        });
        res.end();
        return true;
      }
      // Retry-After is not CORS-safelisted: a browser client must be able to read how long to wait.
      res.setHeader('Access-Control-Expose-Headers', 'DPoP-Nonce, WWW-Authenticate, Retry-After');
    }
    if (!route.methods.includes(method)) {
      sendJson(res, 405, { error: 'invalid_request', error_description: `use ${route.methods.join(' or ')}` }, { Allow: route.methods.join(', ') });
      return true;
    }
    try {
      await route.endpoint(ctx, req, res);
    } catch (error) {
      if (res.headersSent) {
        res.destroy();
        return true;
      }
      // A store that is down answers 503 (fail closed); the unexpected a generic server_error.
      sendOAuthError(res, error, { basicChallenge: error instanceof ClientAuthenticationError && error.basic });
    }
    return true;
  };

  // Expired codes, refresh tokens, interactions, deny-list entries and throttles would otherwise
  // pile up, and so would clients registered and never used.
  const purgeSeconds = options.purgeIntervalSeconds ?? DEFAULTS.time.purgeIntervalSeconds;
  const purge = async (): Promise<void> => {
    try {
      const now = ctx.now();
      await ctx.stores.grants.purgeExpired(now);
      const expired = await ctx.stores.clients.deleteUnused(now - ctx.registration.expireUnusedAfterSeconds);
      if (expired > 0) ctx.audit({ type: 'client.expired', detail: `${expired} registered client(s) never used within registration.expireUnusedAfterSeconds deleted` });
    } catch {
      // A store outage: the next run tries again.
    }
  };
  const purgeTimer = purgeSeconds > 0 ? setInterval(() => void purge(), purgeSeconds * 1000) : undefined;
  purgeTimer?.unref();

  return {
    issuer: ctx.issuer,
    handle,
    metadata: () => buildMetadata(ctx),
    jwks: () => ctx.keys.jwks(),
    revocationList: { isRevoked: (jti) => ctx.stores.grants.isAccessTokenDenied(jti, ctx.now()) },
    rotateKeys: async (by = {}) => {
      await ctx.keys.rotate(Math.max(ctx.lifetimes.accessToken, ...ctx.resources.list().map((r) => r.accessTokenLifetimeSeconds)) + ctx.skew);
      ctx.audit({ type: 'keys.rotated', ...(by.admin === undefined ? {} : { admin: by.admin, detail: 'rotated from the operator console' }) });
    },
    context: ctx,
    purgeExpired: purge,
    close: async () => {
      if (purgeTimer !== undefined) clearInterval(purgeTimer);
      await ctx.stores.close();
    },
  };
}

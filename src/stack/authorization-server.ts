/**
 * The authorization server as part of the stack: its options from the configuration, its secret,
 * and its start with the configured and demo clients. Shared by the stack and by the
 * administration commands, so both see the same server.
 */
import type { ClientConfig, WardenConfig } from '../config/defaults.js';
import { createAuthorizationServer, type AuthorizationServer } from '../authorization-server/create-authorization-server.js';
import type { AuditEvent, AuthorizationServerOptions, ConfiguredClient } from '../authorization-server/options.js';
import type { Logger } from '../observability/logger.js';
import type { RateLimitStore, ReplayStore } from '../stores/index.js';
import type { AuthorizationServerStores } from '../stores/authorization-server-contracts.js';
import { DEMO_SERVICE_CLIENT_ID, demoClients, ensureDemoUser } from './demo/demo-clients.js';
import { StackStartError } from './errors.js';
import { openAuthorizationServerStores } from './open-stores.js';
import { CONSOLE_CLIENT_ID, CONSOLE_SCOPE, consoleEnabled, consoleResource, registeredResources } from './own-resources.js';
import type { StackInfo } from './stack-file.js';
import { generateDemoCredentials, loadOrCreateDemoCredentials, loadOrCreateSecret, randomToken, StateFileError, type DemoCredentials } from './state-files.js';

function configuredClient(client: ClientConfig): ConfiguredClient {
  const { redirectUris, grantTypes, jwks, ...rest } = client;
  return { ...rest, ...(redirectUris ? { redirectUris: [...redirectUris] } : {}), ...(grantTypes ? { grantTypes: [...grantTypes] } : {}), ...(jwks ? { jwks: { keys: [...jwks.keys] } } : {}) };
}

/** Grant types a configured client ends up with (the authorization server's own default rule). */
function grantTypesOf(client: ConfiguredClient): string[] {
  const keyed = client.jwks !== undefined || client.jwksUri !== undefined;
  return client.grantTypes ?? (client.clientSecret === undefined && !keyed ? ['authorization_code', 'refresh_token'] : ['client_credentials']);
}

/** Inputs of {@link authorizationServerOptions} that are not in the configuration. */
export interface AuthorizationServerParts {
  stores: AuthorizationServerStores;
  secret: string;
  /** The stack's shared replay store (token-endpoint DPoP proofs). */
  replayStore?: ReplayStore;
  /** Clients to write to the client store at start-up (configured and demo). */
  clients?: ConfiguredClient[];
  /** The stack's rate-limit buckets (`authorizationServer.rateLimit`). */
  rateLimits?: RateLimitStore;
  /** Where audit events go. */
  logger?: Logger;
  /** Also told every audit event (the stack's metrics count issuance and refresh reuse). */
  onAudit?: (event: AuditEvent) => void;
}

/** The `createAuthorizationServer` options the configuration describes. */
export function authorizationServerOptions(config: WardenConfig, parts: AuthorizationServerParts): AuthorizationServerOptions {
  const as = config.authorizationServer;
  const { logger, onAudit } = parts;
  const audit = (event: AuditEvent) => {
    logger?.info('audit', { ...event });
    onAudit?.(event);
  };
  return {
    issuer: config.issuer,
    stores: parts.stores,
    ...(parts.replayStore ? { replayStore: parts.replayStore } : {}),
    ...(as.rateLimit && parts.rateLimits ? { tokenEndpointRateLimit: { perClient: as.rateLimit.tokenEndpoint.perClient, store: parts.rateLimits } } : {}),
    secret: parts.secret,
    resources: registeredResources(config),
    lifetimes: { ...as.lifetimes },
    refreshGraceSeconds: as.refreshGraceSeconds,
    clockSkewSeconds: config.clockSkewSeconds,
    // Resources on this origin use nonce.secret: share it so one nonce per origin works at both.
    dpop: { requireNonce: as.dpop.requireNonce, ...(config.nonce ? { nonceSecret: config.nonce.secret } : {}) },
    registration: { ...as.registration, throttle: { ...as.registration.throttle } },
    deviceGrant: { ...as.deviceGrant, userCodeThrottle: { ...as.deviceGrant.userCodeThrottle } },
    clientMetadataDocuments: { ...as.clientMetadataDocuments },
    clients: parts.clients ?? [],
    ...(as.par === undefined ? {} : { par: { ...as.par } }),
    ...(as.jwtBearer === undefined ? {} : { jwtBearer: structuredClone(as.jwtBearer) as NonNullable<AuthorizationServerOptions['jwtBearer']> }),
    identityProviders: as.identityProviders.map(({ scopes, claims, ...p }) => ({ ...p, ...(scopes && { scopes: [...scopes] }), ...(claims && { claims: { ...claims } }) })),
    login: {
      title: as.login.title,
      localUsers: as.login.localUsers,
      maxConcurrentPasswordChecks: as.login.maxConcurrentPasswordChecks,
      throttle: {
        perSource: { ...as.login.throttle.perSource },
        perAccount: { ...as.login.throttle.perAccount },
        perSourceAllAccounts: { ...as.login.throttle.perSourceAllAccounts },
        perDevice: { ...as.login.throttle.perDevice },
      },
      deviceCookie: { ...as.login.deviceCookie },
    },
    trustedProxyHops: as.trustedProxyHops,
    ...(logger ? { warn: (message: string, fields: { code: string }) => logger.warn(message, { warning: fields.code }) } : {}),
    // One JSON line per event; audit events never carry tokens, codes or secrets (and the logger redacts anyway).
    ...(logger || onAudit ? { audit } : {}),
  };
}

/** The stack's authorization server and what `stack.json` says about it. */
export interface StackAuthorizationServer {
  server: AuthorizationServer;
  /** Demo credentials, when `authorizationServer.demo` is on. */
  demo?: DemoCredentials;
  clients: StackInfo['clients'];
  users: StackInfo['users'];
}

/** Options of {@link startStackAuthorizationServer}. */
export interface StartStackAuthorizationServerOptions {
  /** Where the secret and demo credentials are kept; without it both live only in this process. */
  stateDir?: string;
  /** Shared replay store (Redis); absent: the AS keeps its own in memory. */
  replayStore?: ReplayStore;
  /** The stack's rate-limit buckets, for `authorizationServer.rateLimit`. */
  rateLimits?: RateLimitStore;
  logger: Logger;
  /** Also told every audit event. */
  onAudit?: (event: AuditEvent) => void;
}

async function resolveSecret(config: WardenConfig, stateDir: string | undefined, logger: Logger): Promise<string> {
  if (config.authorizationServer.secret !== undefined) return config.authorizationServer.secret;
  if (stateDir !== undefined) return loadOrCreateSecret(stateDir);
  logger.warn('no authorizationServer.secret and no state directory: using a random secret for this process only; sessions, consents in progress and refresh tokens will not survive a restart', {});
  return randomToken(48);
}

/**
 * Starts the stack's authorization server: secret (config, `WARDEN_SECRET`, `<stateDir>/secret`,
 * else per process), stores, registered resources, configured and demo clients, demo user.
 *
 * @throws {StackStartError} with a message that says what to change.
 */
export async function startStackAuthorizationServer(config: WardenConfig, options: StartStackAuthorizationServerOptions): Promise<StackAuthorizationServer> {
  const { stateDir, logger } = options;
  let secret: string;
  let demo: DemoCredentials | undefined;
  // Without a state directory the credentials are new on every start.
  let freshDemo = true;
  try {
    secret = await resolveSecret(config, stateDir, logger);
    if (config.authorizationServer.demo) {
      if (stateDir === undefined) demo = generateDemoCredentials();
      else ({ credentials: demo, created: freshDemo } = await loadOrCreateDemoCredentials(stateDir));
    }
  } catch (error) {
    if (error instanceof StateFileError) throw new StackStartError(error.message, { cause: error });
    throw error;
  }
  const configured = config.authorizationServer.clients.map(configuredClient);
  const console: ConfiguredClient[] =
    !consoleEnabled(config)
      ? []
      : [{ clientId: CONSOLE_CLIENT_ID, clientName: 'Warden operator console', grantTypes: ['authorization_code'], tokenEndpointAuthMethod: 'none', redirectUris: [`${consoleResource(config)}/callback`], scope: CONSOLE_SCOPE }];
  const clients = [...(demo ? demoClients(demo) : []), ...configured, ...console];
  const stores = await openAuthorizationServerStores(config.storage);
  let server: AuthorizationServer;
  try {
    server = await createAuthorizationServer(
      authorizationServerOptions(config, { stores, secret, ...(options.replayStore ? { replayStore: options.replayStore } : {}), ...(options.rateLimits ? { rateLimits: options.rateLimits } : {}), clients, logger, ...(options.onAudit ? { onAudit: options.onAudit } : {}) }),
    );
  } catch (error) {
    await stores.close().catch(() => undefined);
    throw new StackStartError(`cannot start the authorization server: ${(error as Error).message}`, { cause: error });
  }
  try {
    if (demo) await ensureDemoUser(server, demo, freshDemo);
  } catch (error) {
    await server.close().catch(() => undefined);
    throw new StackStartError(`cannot create the demo user: ${(error as Error).message}`, { cause: error });
  }
  return {
    server,
    ...(demo ? { demo } : {}),
    // Demo credentials only: configured clients are listed without their secrets.
    clients: clients.map((client) => ({
      client_id: client.clientId,
      ...(demo && client.clientId === DEMO_SERVICE_CLIENT_ID ? { client_secret: demo.serviceClientSecret } : {}),
      grant_types: grantTypesOf(client),
    })),
    users: demo ? [{ username: demo.username, password: demo.password }] : [],
  };
}

/**
 * The authorization server as part of the stack: which resources it issues tokens for, where
 * its data lives, its secret, and the demo user and clients of `warden start`. Shared by the
 * stack and by the `warden users|keys|consents` commands, so both see the same server.
 */
import type { ClientConfig, ResourceConfig, StorageConfig, WardenConfig } from '../config/defaults.js';
import { createAuthorizationServer, type AuthorizationServer } from '../authorization-server/create-authorization-server.js';
import type { AuditEvent, AuthorizationServerOptions, ConfiguredClient } from '../authorization-server/options.js';
import { addUser, UserError } from '../authorization-server/users.js';
import { demoScopePolicy } from './demo/index.js';
import type { Logger } from '../observability/logger.js';
import type { ScopePolicy } from '../oauth/vocabulary.js';
import {
  createMemoryAuthorizationServerStores,
  openPostgresAuthorizationServerStores,
  openSqliteAuthorizationServerStores,
  type ReplayStore,
} from '../stores/index.js';
import type { AuthorizationServerStores } from '../stores/authorization-server-contracts.js';
import { StackStartError } from './errors.js';
import type { StackInfo } from './stack-file.js';
import { generateDemoCredentials, loadOrCreateDemoCredentials, loadOrCreateSecret, randomToken, StateFileError, type DemoCredentials } from './state-files.js';

/** The demo machine-to-machine client (client_credentials, client_secret_basic). */
export const DEMO_SERVICE_CLIENT_ID = 'demo-service';
/**
 * What `demo-service` may obtain: `mcp:tools` only, so calling `admin_reset` with its token
 * shows the `insufficient_scope` step-up challenge; `mcp:admin` takes the demo user's consent.
 */
export const DEMO_SERVICE_SCOPE = 'mcp:tools';
/** The demo public client for MCP clients and CLIs (authorization code + PKCE, refresh). */
export const DEMO_CLI_CLIENT_ID = 'demo-cli';
/** Loopback redirect URIs of `demo-cli`; any port matches (RFC 8252 §7.3). */
export const DEMO_CLI_REDIRECT_URIS: readonly string[] = Object.freeze(['http://127.0.0.1/callback', 'http://localhost/callback']);

/** True when tokens of this stack's own authorization server are the ones `resource` accepts. */
export function isOwnResource(config: WardenConfig, resource: ResourceConfig): boolean {
  return resource.trust === undefined || resource.trust.issuer === config.issuer;
}

/** The scope policy a resource enforces: configured, else the demo server's for `builtin:demo`. */
export function scopePolicyOf(resource: ResourceConfig): ScopePolicy | undefined {
  return resource.scopes ?? (resource.upstream === 'builtin:demo' ? demoScopePolicy : undefined);
}

/**
 * The resource registry entries (RFC 8707) of every resource that trusts this stack's issuer:
 * canonical URI, the scopes it accepts (its default scopes and every tool's), DPoP mode and
 * token lifetime. Resources that trust another issuer are not ours to issue tokens for.
 */
export function registeredResources(config: WardenConfig): AuthorizationServerOptions['resources'] {
  return config.resources
    .filter((resource) => isOwnResource(config, resource))
    .map((resource) => {
      const policy = scopePolicyOf(resource);
      const defaults = [...(policy?.default ?? [])];
      const scopes = [...new Set([...defaults, ...Object.values(policy?.tools ?? {}).flat()])];
      return {
        uri: resource.canonicalUri,
        name: resource.name,
        scopes,
        defaultScopes: defaults,
        dpop: resource.dpop,
        accessTokenLifetimeSeconds: resource.tokenLifetimeSeconds,
        ...(resource.introspectionClients.length > 0 ? { introspectionClients: [...resource.introspectionClients] } : {}),
      };
    });
}

/**
 * Opens the stores `storage` names: SQLite at its path (relative to the working directory, as
 * written), PostgreSQL at its URL (schema `warden`, created and migrated on first open), or memory.
 *
 * @throws {StackStartError} when the SQLite file cannot be opened, or PostgreSQL cannot be
 *   reached or migrated; the message never contains the PostgreSQL URL (it may hold a password).
 */
export async function openAuthorizationServerStores(storage: StorageConfig): Promise<AuthorizationServerStores> {
  switch (storage.kind) {
    case 'memory':
      return createMemoryAuthorizationServerStores();
    case 'sqlite':
      try {
        return openSqliteAuthorizationServerStores({ path: storage.path });
      } catch (error) {
        throw new StackStartError(`cannot open the SQLite store at ${storage.path}: ${(error as Error).message}`, { cause: error });
      }
    case 'postgres':
      try {
        return await openPostgresAuthorizationServerStores({ url: storage.url, ...(storage.schema === undefined ? {} : { schema: storage.schema }) });
      } catch (error) {
        // The store's messages never echo the URL; this one does not either.
        throw new StackStartError(`cannot open the PostgreSQL store (storage.url): ${(error as Error).message}`, { cause: error });
      }
  }
}

/** The demo clients: `demo-service` (confidential, client_credentials) and `demo-cli` (public). */
export function demoClients(credentials: DemoCredentials): ConfiguredClient[] {
  return [
    {
      clientId: DEMO_SERVICE_CLIENT_ID,
      clientSecret: credentials.serviceClientSecret,
      clientName: 'Warden demo service',
      grantTypes: ['client_credentials'],
      tokenEndpointAuthMethod: 'client_secret_basic',
      scope: DEMO_SERVICE_SCOPE,
    },
    {
      clientId: DEMO_CLI_CLIENT_ID,
      clientName: 'Warden demo CLI',
      grantTypes: ['authorization_code', 'refresh_token'],
      tokenEndpointAuthMethod: 'none',
      redirectUris: [...DEMO_CLI_REDIRECT_URIS],
    },
  ];
}

function configuredClient(client: ClientConfig): ConfiguredClient {
  const { redirectUris, grantTypes, ...rest } = client;
  return { ...rest, ...(redirectUris ? { redirectUris: [...redirectUris] } : {}), ...(grantTypes ? { grantTypes: [...grantTypes] } : {}) };
}

/** Grant types a configured client ends up with (the authorization server's own default rule). */
function grantTypesOf(client: ConfiguredClient): string[] {
  return client.grantTypes ?? (client.clientSecret === undefined ? ['authorization_code', 'refresh_token'] : ['client_credentials']);
}

/** Inputs of {@link authorizationServerOptions} that are not in the configuration. */
export interface AuthorizationServerParts {
  stores: AuthorizationServerStores;
  secret: string;
  /** The stack's shared replay store (token-endpoint DPoP proofs). */
  replayStore?: ReplayStore;
  /** Clients to write to the client store at start-up (configured and demo). */
  clients?: ConfiguredClient[];
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
    secret: parts.secret,
    resources: registeredResources(config),
    lifetimes: { ...as.lifetimes },
    refreshGraceSeconds: as.refreshGraceSeconds,
    clockSkewSeconds: config.clockSkewSeconds,
    // Resources on this origin use nonce.secret: share it so one nonce per origin works at both.
    dpop: { requireNonce: as.dpop.requireNonce, ...(config.nonce ? { nonceSecret: config.nonce.secret } : {}) },
    registration: { enabled: as.registration.enabled, throttle: { ...as.registration.throttle }, expireUnusedAfterSeconds: as.registration.expireUnusedAfterSeconds },
    clientMetadataDocuments: { ...as.clientMetadataDocuments },
    clients: parts.clients ?? [],
    login: {
      title: as.login.title,
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
 * Creates the demo user unless it exists. An existing user keeps its password (an operator may
 * have changed it), except when the credentials were just generated — a deleted credentials file
 * with a kept database — where the new password must be the one that works.
 */
async function ensureDemoUser(server: AuthorizationServer, credentials: DemoCredentials, fresh: boolean): Promise<void> {
  if (fresh) return addUser(server.context, credentials.username, credentials.password, { replace: true });
  if ((await server.context.stores.users.get(credentials.username)) !== undefined) return;
  try {
    await addUser(server.context, credentials.username, credentials.password);
  } catch (error) {
    // Another process created it in between: that is the state we wanted.
    if (!(error instanceof UserError && error.code === 'user_exists')) throw error;
  }
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
  const clients = [...(demo ? demoClients(demo) : []), ...configured];
  const stores = await openAuthorizationServerStores(config.storage);
  let server: AuthorizationServer;
  try {
    server = await createAuthorizationServer(
      authorizationServerOptions(config, { stores, secret, ...(options.replayStore ? { replayStore: options.replayStore } : {}), clients, logger, ...(options.onAudit ? { onAudit: options.onAudit } : {}) }),
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

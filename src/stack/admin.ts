/**
 * Administration of the stack's authorization-server store — users, signing keys, consents —
 * done directly on the database, so it works whether or not the stack is running (a running
 * stack sees users and consents at once, signing keys within 30 s). The CLI's
 * `warden users|keys|consents` commands are this plus argument parsing and printing.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createAuthorizationServer } from '../authorization-server/create-authorization-server.js';
import { revokeAuthorization } from '../authorization-server/endpoints/interaction/index.js';
import { ADMIN_ROLE, addUser, listAdminUsers, listUsers, removeUser, UserError } from '../authorization-server/users.js';
import { builtinConfig } from '../config/builtin.js';
import type { WardenConfig } from '../config/defaults.js';
import { loadConfigFile, resolveConfig } from '../config/load.js';
import type { AuthorizationServerStores } from '../stores/authorization-server-contracts.js';
import { authorizationServerOptions } from './authorization-server.js';
import { UsageError } from './errors.js';
import { openAuthorizationServerStores } from './open-stores.js';

/** Where the store is: a configuration file, or the state directory of `warden start`. */
export interface StoreLocation {
  /** Configuration file; its `storage` is used. */
  config?: string;
  /** Without `config`: the built-in configuration of `warden start` for this state directory. */
  stateDir: string;
}

async function adminConfig(location: StoreLocation): Promise<WardenConfig> {
  if (location.config !== undefined) return loadConfigFile(location.config);
  return resolveConfig(builtinConfig(location.stateDir), { source: 'built-in configuration' });
}

/**
 * Opens the store the configuration names, runs `work`, and closes it.
 *
 * @param create - Create the database when it does not exist yet (adding a user before the first
 *   start); otherwise a missing database is an error, as it most likely means a wrong path.
 * @throws {UsageError} when the store cannot be administered from here, or `work` refuses.
 */
async function withStores<T>(
  location: StoreLocation,
  work: (stores: AuthorizationServerStores, config: WardenConfig) => Promise<T>,
  { create = false }: { create?: boolean } = {},
): Promise<T> {
  const config = await adminConfig(location);
  const where = location.config === undefined ? `the state directory ${location.stateDir}` : location.config;
  if (!config.authorizationServer.enabled) throw new UsageError(`the authorization server is disabled in ${where} (authorizationServer.enabled: false)`);
  const { storage } = config;
  if (storage.kind === 'memory') {
    throw new UsageError(`${where} uses memory storage, which lives only inside the running process: there is nothing on disk to change (use storage kind sqlite)`);
  }
  if (storage.kind === 'sqlite' && !create && !existsSync(storage.path)) {
    throw new UsageError(`no database at ${storage.path}: start the stack once, or check --config / --state-dir (and the working directory, which a relative storage.path is resolved against)`);
  }
  const stores = await openAuthorizationServerStores(storage);
  try {
    return await work(stores, config);
  } catch (error) {
    if (error instanceof UserError) throw new UsageError(error.message);
    throw error;
  } finally {
    await stores.close();
  }
}

/** Adds a local user (scrypt-hashed password), creating the database if needed; `admin`: with the console's admin role. */
export function addStoreUser(location: StoreLocation, username: string, password: string, options: { admin?: boolean } = {}): Promise<void> {
  return withStores(location, (stores) => addUser(stores, username, password, options.admin === true ? { roles: [ADMIN_ROLE] } : {}), { create: true });
}

/** The local users' names. */
export function listStoreUsers(location: StoreLocation): Promise<string[]> {
  return withStores(location, (stores) => listUsers(stores));
}

/** The local users' names, and which of them hold the admin role. */
export function listStoreUserRoles(location: StoreLocation): Promise<Array<{ username: string; admin: boolean }>> {
  return withStores(location, async (stores) => {
    const admins = new Set(await listAdminUsers(stores));
    return (await listUsers(stores)).map((username) => ({ username, admin: admins.has(username) }));
  });
}

/** Removes a local user (tokens already issued stay valid until they expire). */
export function removeStoreUser(location: StoreLocation, username: string): Promise<void> {
  return withStores(location, (stores) => removeUser(stores, username));
}

/** The signing keys after a rotation. */
export interface RotatedKeys {
  /** The storage the keys live in (a SQLite path, or the storage kind). */
  where: string;
  current: string | undefined;
  next: string | undefined;
  /** Retired keys still published, and until when (seconds since epoch). */
  retired: Array<{ kid: string; until: number }>;
}

/**
 * Rotates the signing keys: the published next key starts signing, the current one retires
 * (still published until every token it signed has expired), and a new next key is published —
 * the authorization server's own rotation, its retirement window from the configured lifetimes.
 */
export function rotateStoreKeys(location: StoreLocation): Promise<RotatedKeys> {
  return withStores(location, async (stores, config) => {
    // The secret only keys HMACs of requests this short-lived instance never serves.
    const secret = randomBytes(48).toString('base64url');
    const as = await createAuthorizationServer(authorizationServerOptions(config, { stores, secret }));
    await as.rotateKeys();
    const keys = await stores.keys.list();
    const now = Date.now() / 1000;
    return {
      where: config.storage.kind === 'sqlite' ? config.storage.path : config.storage.kind,
      current: keys.find((k) => k.state === 'current')?.kid,
      next: keys.find((k) => k.state === 'next')?.kid,
      retired: keys.filter((k) => k.state === 'retired' && (k.retireAfter ?? 0) > now).map((k) => ({ kid: k.kid, until: k.retireAfter ?? 0 })),
    };
  });
}

/**
 * Withdraws what a user allowed a client: the remembered consents (the next authorization asks
 * again) and the grants issued under them (their refresh tokens stop working, their access tokens
 * are denied wherever revocation is checked).
 */
export function revokeStoreAuthorization(location: StoreLocation, user: string, client: string): Promise<{ consents: number; grants: number }> {
  return withStores(location, (stores) => revokeAuthorization({ stores }, user, client));
}

/**
 * `warden users|keys|consents`: administration of the authorization server's store, done
 * directly on the database (SQLite), so they work whether or not the stack is running. A
 * running stack sees the change at once (users, consents) or within 30 s (signing keys).
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { builtinConfig } from '../config/builtin.js';
import type { WardenConfig } from '../config/defaults.js';
import { loadConfigFile, resolveConfig } from '../config/load.js';
import { createAuthorizationServer } from '../authorization-server/create-authorization-server.js';
import { revokeAuthorization } from '../authorization-server/endpoints/interaction/index.js';
import { addUser, listUsers, removeUser, UserError } from '../authorization-server/users.js';
import { authorizationServerOptions, openAuthorizationServerStores } from '../stack/authorization-server.js';
import { randomToken } from '../stack/state-files.js';
import type { AuthorizationServerStores } from '../stores/authorization-server-contracts.js';
import { UsageError } from './errors.js';

/** Where the store is: a configuration file, or the state directory of `warden start`. */
export interface StoreLocationOptions {
  /** Configuration file; its `storage` is used. */
  config?: string;
  /** Without `config`: the built-in configuration of `warden start` for this state directory. */
  stateDir: string;
}

async function adminConfig(options: StoreLocationOptions): Promise<WardenConfig> {
  if (options.config !== undefined) return loadConfigFile(options.config);
  return resolveConfig(builtinConfig(options.stateDir), { source: 'built-in configuration' });
}

/**
 * Opens the store the configuration names, runs `work`, and closes it.
 *
 * @param create - Create the database when it does not exist yet (adding a user before the first
 *   start); otherwise a missing database is an error, as it most likely means a wrong path.
 */
async function withStores<T>(
  options: StoreLocationOptions,
  work: (stores: AuthorizationServerStores, config: WardenConfig) => Promise<T>,
  { create = false }: { create?: boolean } = {},
): Promise<T> {
  const config = await adminConfig(options);
  const where = options.config === undefined ? `the state directory ${options.stateDir}` : options.config;
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

/** Reads a password from stdin: everything up to EOF, without the final line break. */
async function readPasswordFromStdin(): Promise<string> {
  if (process.stdin.isTTY) throw new UsageError('--password-stdin reads the password from a pipe, e.g. `printf %s "$PASSWORD" | warden users add alice --password-stdin`');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

/** `warden users add`: returns what to print (the generated password, once, when none was given). */
export async function usersAddCommand(username: string, options: StoreLocationOptions & { passwordStdin?: boolean }): Promise<string> {
  const password = options.passwordStdin === true ? await readPasswordFromStdin() : randomToken(18);
  await withStores(options, (stores) => addUser(stores, username, password), { create: true });
  if (options.passwordStdin === true) return `added user ${username}\n`;
  // Printed this once and never stored in the clear: only its scrypt hash is kept.
  return `added user ${username}\npassword: ${password}\n(shown once; it is stored only as a hash)\n`;
}

/** `warden users list`: one username per line. */
export async function usersListCommand(options: StoreLocationOptions): Promise<string> {
  const users = await withStores(options, (stores) => listUsers(stores));
  return users.map((u) => `${u}\n`).join('');
}

/** `warden users remove`. */
export async function usersRemoveCommand(username: string, options: StoreLocationOptions): Promise<string> {
  await withStores(options, (stores) => removeUser(stores, username));
  return `removed user ${username} (tokens already issued stay valid until they expire)\n`;
}

/**
 * `warden keys rotate`: the published next key starts signing, the current one retires (still
 * published until every token it signed has expired), and a new next key is published — the
 * authorization server's own rotation, with its retirement window computed from the configured
 * token lifetimes.
 */
export async function keysRotateCommand(options: StoreLocationOptions): Promise<string> {
  return withStores(options, async (stores, config) => {
    // The secret only keys HMACs of requests this short-lived instance never serves.
    const secret = randomBytes(48).toString('base64url');
    const as = await createAuthorizationServer(authorizationServerOptions(config, { stores, secret }));
    await as.rotateKeys();
    const keys = await stores.keys.list();
    const current = keys.find((k) => k.state === 'current');
    const next = keys.find((k) => k.state === 'next');
    const retired = keys.filter((k) => k.state === 'retired' && (k.retireAfter ?? 0) * 1000 > Date.now());
    const lines = [`rotated the signing keys in ${config.storage.kind === 'sqlite' ? config.storage.path : config.storage.kind}`, `  signing with  ${current?.kid ?? '(none)'}`, `  next          ${next?.kid ?? '(none)'}`];
    for (const key of retired) lines.push(`  retired       ${key.kid} (published until ${new Date((key.retireAfter ?? 0) * 1000).toISOString()})`);
    lines.push('A running stack signs with the new key within 30 s; tokens signed before stay valid until they expire.');
    return `${lines.join('\n')}\n`;
  });
}

/**
 * `warden consents revoke`: withdraws what the user allowed the client — the remembered consents,
 * so the next authorization asks again, and the grants issued under them, so their refresh tokens
 * stop working and their access tokens are denied by the stack's resources (which check the
 * deny-list) and by introspection.
 */
export async function consentsRevokeCommand(options: StoreLocationOptions & { user: string; client: string }): Promise<string> {
  const { consents, grants } = await withStores(options, (stores) => revokeAuthorization({ stores }, options.user, options.client));
  if (consents === 0 && grants === 0) throw new UsageError(`no remembered consent of user ${options.user} for client ${options.client}, and no grant to revoke`);
  return (
    `revoked ${consents} remembered consent(s) and ${grants} grant(s) of user ${options.user} for client ${options.client}; ` +
    'the next authorization asks again, refresh tokens of those grants no longer work, and their access tokens are denied wherever revocation is checked\n'
  );
}

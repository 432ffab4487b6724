/**
 * `warden users|keys|consents`: administration of the authorization server's store (see
 * `stack/admin.ts`), with arguments read and results printed here.
 */
import { listStoreUserRoles } from '../stack/admin.js';
import { addStoreUser, randomToken, removeStoreUser, revokeStoreAuthorization, rotateStoreKeys, type StoreLocation } from '../stack/index.js';
import { UsageError } from './errors.js';

/** Where the store is: a configuration file, or the state directory of `warden start`. */
export type StoreLocationOptions = StoreLocation;

/** Runs an administration step (its refusals are already usage errors: exit 2). */
function admin<T>(work: () => Promise<T>): Promise<T> {
  return work();
}

/** Reads a password from stdin: everything up to EOF, without the final line break. */
async function readPasswordFromStdin(): Promise<string> {
  if (process.stdin.isTTY) throw new UsageError('--password-stdin reads the password from a pipe, e.g. `printf %s "$PASSWORD" | warden users add alice --password-stdin`');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

/** `warden users add`: returns what to print (the generated password, once, when none was given). */
export async function usersAddCommand(username: string, options: StoreLocationOptions & { passwordStdin?: boolean; admin?: boolean }): Promise<string> {
  const password = options.passwordStdin === true ? await readPasswordFromStdin() : randomToken(18);
  await admin(() => addStoreUser(options, username, password, { admin: options.admin === true }));
  const added = `added ${options.admin === true ? 'administrator' : 'user'} ${username}\n`;
  if (options.passwordStdin === true) return added;
  // Printed this once and never stored in the clear: only its scrypt hash is kept.
  return `${added}password: ${password}\n(shown once; it is stored only as a hash)\n`;
}

/** `warden users list`: one username per line, administrators marked `(admin)`. */
export async function usersListCommand(options: StoreLocationOptions): Promise<string> {
  const users = await admin(() => listStoreUserRoles(options));
  return users.map((u) => `${u.username}${u.admin ? ' (admin)' : ''}\n`).join('');
}

/** `warden users remove`. */
export async function usersRemoveCommand(username: string, options: StoreLocationOptions): Promise<string> {
  await admin(() => removeStoreUser(options, username));
  return `removed user ${username} (tokens already issued stay valid until they expire)\n`;
}

/**
 * `warden keys rotate`: the published next key starts signing, the current one retires (still
 * published until every token it signed has expired), and a new next key is published — the
 * authorization server's own rotation, with its retirement window computed from the configured
 * token lifetimes.
 */
export async function keysRotateCommand(options: StoreLocationOptions): Promise<string> {
  const keys = await admin(() => rotateStoreKeys(options));
  const lines = [`rotated the signing keys in ${keys.where}`, `  signing with  ${keys.current ?? '(none)'}`, `  next          ${keys.next ?? '(none)'}`];
  for (const key of keys.retired) lines.push(`  retired       ${key.kid} (published until ${new Date(key.until * 1000).toISOString()})`);
  lines.push('A running stack signs with the new key within 30 s; tokens signed before stay valid until they expire.');
  return `${lines.join('\n')}\n`;
}

/**
 * `warden consents revoke`: withdraws what the user allowed the client — the remembered consents,
 * so the next authorization asks again, and the grants issued under them, so their refresh tokens
 * stop working and their access tokens are denied by the stack's resources (which check the
 * deny-list) and by introspection.
 */
export async function consentsRevokeCommand(options: StoreLocationOptions & { user: string; client: string }): Promise<string> {
  const { consents, grants } = await admin(() => revokeStoreAuthorization(options, options.user, options.client));
  if (consents === 0 && grants === 0) throw new UsageError(`no remembered consent of user ${options.user} for client ${options.client}, and no grant to revoke`);
  return (
    `revoked ${consents} remembered consent(s) and ${grants} grant(s) of user ${options.user} for client ${options.client}; ` +
    'the next authorization asks again, refresh tokens of those grants no longer work, and their access tokens are denied wherever revocation is checked\n'
  );
}

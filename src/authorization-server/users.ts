/**
 * Local users of the embedded login (`warden users add|remove|list`): usernames checked,
 * passwords scrypt-hashed (see `password.ts`), never stored or logged in the clear.
 */
import type { AuthorizationServerStores, UserRecord, UserStore } from '../stores/authorization-server-contracts.js';
import { hashSecret } from './password.js';
import { WardenError } from '../oauth/errors.js';

/** 1–64 characters of letters, digits and `._@-`: safe in logs, cookies and HTML, and unambiguous. */
const USERNAME = /^[A-Za-z0-9._@-]{1,64}$/;
/** Shortest password accepted (NIST SP 800-63B §5.1.1.2 minimum for user-chosen secrets). */
export const MIN_PASSWORD_LENGTH = 8;
/** Longest password accepted; bounds the work one login request can ask of scrypt's input hashing. */
export const MAX_PASSWORD_LENGTH = 1024;

/** Where users live: an authorization-server context, its stores, or the user store itself. */
export type UsersTarget = { stores: Pick<AuthorizationServerStores, 'users'>; now?: () => number } | Pick<AuthorizationServerStores, 'users'> | UserStore;

/** A refused user operation; `code` says which rule failed. */
export class UserError extends WardenError {
  /** `invalid_username`, `invalid_password`, `user_exists` or `unknown_user`. */
  declare readonly code: 'invalid_username' | 'invalid_password' | 'user_exists' | 'unknown_user';
  constructor(code: UserError['code'], message: string) {
    super(code, message);
  }
}

/** The role that lets a user into the operator console (`warden users add --admin`). */
export const ADMIN_ROLE = 'admin';

/** True when the user holds the {@link ADMIN_ROLE}. */
export function isAdminUser(user: Pick<UserRecord, 'roles'> | undefined): boolean {
  return user?.roles?.includes(ADMIN_ROLE) === true;
}

/** True for a username Warden accepts (1–64 of `[A-Za-z0-9._@-]`). */
export function isValidUsername(username: string): boolean {
  return typeof username === 'string' && USERNAME.test(username);
}

function resolve(target: UsersTarget): { users: UserStore; now: () => number } {
  const clock = 'now' in target && typeof target.now === 'function' ? target.now : () => Math.floor(Date.now() / 1000);
  if ('stores' in target) return { users: target.stores.users, now: clock };
  if ('users' in target) return { users: target.users, now: clock };
  return { users: target, now: clock };
}

/**
 * Adds a local user with a scrypt-hashed password. Refuses an invalid username, a password shorter
 * than {@link MIN_PASSWORD_LENGTH} (in characters) or longer than {@link MAX_PASSWORD_LENGTH}, and
 * an existing username unless `replace` is set (which resets the password and keeps the roles
 * unless `roles` is given). `roles` (e.g. {@link ADMIN_ROLE}) are stored with the user.
 *
 * @throws {UserError}
 */
export async function addUser(target: UsersTarget, username: string, password: string, options: { replace?: boolean; roles?: readonly string[] } = {}): Promise<void> {
  const { users, now } = resolve(target);
  if (!isValidUsername(username)) throw new UserError('invalid_username', 'username must be 1–64 characters of letters, digits, ".", "_", "@" or "-"');
  const length = [...password].length;
  if (length < MIN_PASSWORD_LENGTH) throw new UserError('invalid_password', `password must be at least ${MIN_PASSWORD_LENGTH} characters`);
  if (length > MAX_PASSWORD_LENGTH) throw new UserError('invalid_password', `password must be at most ${MAX_PASSWORD_LENGTH} characters`);
  const existing = await users.get(username);
  if (existing !== undefined && options.replace !== true) throw new UserError('user_exists', `user "${username}" already exists`);
  const roles = [...new Set(options.roles ?? existing?.roles ?? [])];
  await users.put({ username, passwordHash: await hashSecret(password), createdAt: existing?.createdAt ?? now(), ...(roles.length > 0 ? { roles } : {}) });
}

/**
 * Removes a local user. Their browser sessions stop working at once (the login pages check that
 * the user still exists); tokens already issued are not revoked here.
 *
 * @throws {UserError} `unknown_user` when there is no such user.
 */
export async function removeUser(target: UsersTarget, username: string): Promise<void> {
  const { users } = resolve(target);
  if (!(await users.delete(username))) throw new UserError('unknown_user', `no user "${username}"`);
}

/** Usernames of the users holding {@link ADMIN_ROLE}, sorted. */
export async function listAdminUsers(target: UsersTarget): Promise<string[]> {
  const { users } = resolve(target);
  const names = await listUsers(users);
  const records = await Promise.all(names.map((name) => users.get(name)));
  return names.filter((_, i) => isAdminUser(records[i]));
}

/** Usernames of all local users, sorted. */
export async function listUsers(target: UsersTarget): Promise<string[]> {
  const { users } = resolve(target);
  return [...(await users.list())].sort();
}

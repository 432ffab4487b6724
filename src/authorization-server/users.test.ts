import { describe, expect, it } from 'vitest';
import { createMemoryAuthorizationServerStores } from '../stores/index.js';
import { verifySecret } from './password.js';
import { addUser, isValidUsername, listUsers, removeUser, UserError } from './users.js';

describe('local users (warden users add|remove|list)', () => {
  it('adds a user with an scrypt hash, never the password', async () => {
    const stores = createMemoryAuthorizationServerStores();
    await addUser(stores, 'alice@example.com', 'eight chars');
    const user = await stores.users.get('alice@example.com');
    expect(user?.passwordHash).toMatch(/^scrypt\$16384\$8\$1\$/);
    expect(JSON.stringify(user)).not.toContain('eight chars');
    expect(await verifySecret('eight chars', user?.passwordHash)).toBe(true);
  });

  it('accepts a context ({ stores, now }) and uses its clock', async () => {
    const stores = createMemoryAuthorizationServerStores();
    await addUser({ stores, now: () => 1234 }, 'bob', 'password1');
    expect((await stores.users.get('bob'))?.createdAt).toBe(1234);
  });

  it.each([
    ['empty', ''],
    ['65 characters', 'a'.repeat(65)],
    ['a space', 'al ice'],
    ['a colon', 'al:ice'],
    ['HTML', '<b>'],
    ['non-ASCII', 'ålice'],
    ['a newline', 'alice\n'],
  ])('refuses a username with %s (invalid_username)', async (_name, username) => {
    const stores = createMemoryAuthorizationServerStores();
    await expect(addUser(stores, username, 'password1')).rejects.toMatchObject({ code: 'invalid_username' });
    expect(await stores.users.list()).toEqual([]);
  });

  it('accepts 64 characters of [A-Za-z0-9._@-]', () => {
    expect(isValidUsername(`${'a'.repeat(60)}.-_@`)).toBe(true);
  });

  it('refuses a password shorter than 8 characters (counted in characters, not bytes)', async () => {
    const stores = createMemoryAuthorizationServerStores();
    await expect(addUser(stores, 'alice', 'seven77')).rejects.toMatchObject({ code: 'invalid_password' });
    await expect(addUser(stores, 'alice', 'ééééééé')).rejects.toMatchObject({ code: 'invalid_password' });
  });

  it('refuses to overwrite an existing user unless replace is set', async () => {
    const stores = createMemoryAuthorizationServerStores();
    await addUser({ stores, now: () => 10 }, 'alice', 'password1');
    await expect(addUser(stores, 'alice', 'password2')).rejects.toBeInstanceOf(UserError);
    await addUser({ stores, now: () => 20 }, 'alice', 'password2', { replace: true });
    const user = await stores.users.get('alice');
    expect(await verifySecret('password2', user?.passwordHash)).toBe(true);
    expect(user?.createdAt).toBe(10);
  });

  it('removes and lists users', async () => {
    const stores = createMemoryAuthorizationServerStores();
    await addUser(stores, 'bob', 'password1');
    await addUser(stores, 'alice', 'password1');
    expect(await listUsers(stores)).toEqual(['alice', 'bob']);
    await removeUser(stores, 'bob');
    expect(await listUsers(stores.users)).toEqual(['alice']);
    await expect(removeUser(stores, 'bob')).rejects.toMatchObject({ code: 'unknown_user' });
  });
});

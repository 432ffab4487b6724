/**
 * The administration commands in process, against the same SQLite file a running stack uses:
 * users, consents, and a key rotation the running stack picks up without a failed request.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfigFile } from '../config/load.js';
import { createLogger } from '../observability/logger.js';
import { startStack, type RunningStack } from '../stack/stack.js';
import { openSqliteAuthorizationServerStores } from '../stores/index.js';
import { consentsRevokeCommand, keysRotateCommand, usersAddCommand, usersListCommand, usersRemoveCommand } from './admin.js';
import { sealCookie } from '../admin/signed-cookie.js';
import { UsageError } from './errors.js';
import { createProgram } from './program.js';

const demo = { name: 'demo', path: '/mcp', upstream: 'builtin:demo' };
const running: RunningStack[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
});

/** A config file with SQLite storage in a fresh directory. */
async function configFile(extra: object = {}): Promise<{ dir: string; config: string; db: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'warden-admin-'));
  const db = join(dir, 'warden.db');
  const config = join(dir, 'warden.json');
  await writeFile(config, JSON.stringify({ storage: { kind: 'sqlite', path: db }, authorizationServer: { demo: true }, resources: [demo], ...extra }));
  return { dir, config, db };
}

function kidOf(token: string): string {
  return (JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()) as { kid: string }).kid;
}

async function clientCredentials(stack: RunningStack): Promise<string> {
  const service = stack.info.clients.find((c) => c.client_id === 'demo-service')!;
  const res = await fetch(`${stack.url}/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`demo-service:${service.client_secret!}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', resource: stack.info.resources[0]!.url }).toString(),
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { access_token: string }).access_token;
}

async function callTool(stack: RunningStack, token: string): Promise<number> {
  const res = await fetch(stack.info.resources[0]!.url, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { text: 'x' } } }),
  });
  return res.status;
}

describe('warden keys rotate', () => {
  it('rotates in the store; once the stack reloads, new tokens use the published next key and old tokens still pass', async () => {
    const { dir, config } = await configFile();
    const stack = await startStack(await loadConfigFile(config, { env: {} }), { port: 0, stateDir: join(dir, 'state'), logger: createLogger({ write: () => {} }) });
    running.push(stack);
    const before = await clientCredentials(stack);
    const jwksUrl = stack.authorizationServer!.context.endpoints.jwks;
    const publishedBefore = ((await (await fetch(jwksUrl)).json()) as { keys: Array<{ kid: string }> }).keys.map((k) => k.kid);

    const output = await keysRotateCommand({ config, stateDir: '.warden' });
    expect(output).toMatch(/^rotated the signing keys in .*warden\.db\n {2}signing with {2}\S+\n {2}next {10}\S+\n {2}retired {7}\S+ \(published until /);
    // Not reloaded yet: the stack still signs with the old key, which is still published.
    expect(await callTool(stack, before)).toBe(200);

    await stack.reloadKeys();
    const after = await clientCredentials(stack);
    expect(kidOf(after)).not.toBe(kidOf(before));
    // The key that now signs was published before it signed a single token.
    expect(publishedBefore).toContain(kidOf(after));
    expect(await callTool(stack, after)).toBe(200);
    expect(await callTool(stack, before)).toBe(200);
    const publishedAfter = ((await (await fetch(jwksUrl)).json()) as { keys: Array<{ kid: string }> }).keys.map((k) => k.kid);
    expect(publishedAfter).toEqual(expect.arrayContaining([kidOf(before), kidOf(after)]));
    expect(publishedAfter).toHaveLength(3);
  });
});

describe('warden users', () => {
  it('adds (with a generated password shown once), lists and removes users', async () => {
    const { config, db } = await configFile();
    const added = await usersAddCommand('alice', { config, stateDir: '.warden' });
    const password = /password: (\S+)/.exec(added)?.[1];
    expect(password).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(await usersListCommand({ config, stateDir: '.warden' })).toBe('alice\n');
    // Stored hashed, never in the clear.
    const stores = openSqliteAuthorizationServerStores({ path: db });
    const record = await stores.users.get('alice');
    await stores.close();
    expect(record?.passwordHash).not.toContain(password);
    await expect(usersAddCommand('alice', { config, stateDir: '.warden' })).rejects.toThrow(new UsageError('user "alice" already exists'));
    await expect(usersAddCommand('bad name', { config, stateDir: '.warden' })).rejects.toBeInstanceOf(UsageError);
    expect(await usersRemoveCommand('alice', { config, stateDir: '.warden' })).toMatch(/^removed user alice/);
    await expect(usersRemoveCommand('alice', { config, stateDir: '.warden' })).rejects.toThrow(/no user "alice"/);
  });

  it('`users add --admin` stores the admin role with the user; the console lets that user in, and refuses a user without it', async () => {
    const { dir, config, db } = await configFile({ admin: { console: true } });
    // Through the command line as a user types it (commander parses --admin).
    const out: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string) => (out.push(String(chunk)), true)) as typeof process.stdout.write;
    try {
      await createProgram().parseAsync(['node', 'warden', 'users', 'add', 'root', '--admin', '--config', config]);
    } finally {
      process.stdout.write = write;
    }
    expect(out.join('')).toMatch(/^added administrator root\npassword: \S+\n/);
    await usersAddCommand('bob', { config, stateDir: '.warden' });
    expect(await usersListCommand({ config, stateDir: '.warden' })).toBe('bob\nroot (admin)\n');
    const stores = openSqliteAuthorizationServerStores({ path: db });
    expect((await stores.users.get('root'))?.roles).toEqual(['admin']);
    expect((await stores.users.get('bob'))?.roles).toBeUndefined();
    await stores.close();

    const stack = await startStack(await loadConfigFile(config, { env: {} }), { port: 0, stateDir: join(dir, 'state'), logger: createLogger({ write: () => {} }) });
    running.push(stack);
    const ctx = stack.authorizationServer!.context;
    const session = (sub: string) => `warden_admin=${sealCookie(ctx.hmac, 'warden_admin', { sub, csrf: 'c'.repeat(32), exp: Math.floor(Date.now() / 1000) + 600 })}`;
    const root = await fetch(`${stack.url}/admin/`, { redirect: 'manual', headers: { cookie: session('root') } });
    expect(root.status).toBe(200);
    expect(await root.text()).toContain('Signed in as <strong>root</strong>');
    // bob's session (sealed by the server itself) is no admin session: back to the sign-in, which refuses him.
    const bob = await fetch(`${stack.url}/admin/`, { redirect: 'manual', headers: { cookie: session('bob') } });
    expect(bob.status).toBe(303);
    expect(new URL(bob.headers.get('location')!).pathname).toBe('/authorize');
    // Removing the user ends their console session at once.
    await usersRemoveCommand('root', { config, stateDir: '.warden' });
    expect((await fetch(`${stack.url}/admin/`, { redirect: 'manual', headers: { cookie: session('root') } })).status).toBe(303);
  });

  it('RFC 6749 §5.2: a configured client disabled from the console stays disabled across a restart (the configuration re-syncs it without enabling it)', async () => {
    const { dir, config } = await configFile();
    const stateDir = join(dir, 'state');
    const options = { port: 0, stateDir, logger: createLogger({ write: () => {} }) };
    const first = await startStack(await loadConfigFile(config, { env: {} }), options);
    const clients = first.authorizationServer!.context.stores.clients;
    await clients.put({ ...(await clients.get('demo-service'))!, disabledAt: 1_700_000_000 });
    await first.close();
    const second = await startStack(await loadConfigFile(config, { env: {} }), options);
    running.push(second);
    expect((await second.authorizationServer!.context.stores.clients.get('demo-service'))?.disabledAt).toBe(1_700_000_000);
    const service = second.info.clients.find((c) => c.client_id === 'demo-service')!;
    const res = await fetch(`${second.url}/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`demo-service:${service.client_secret!}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', resource: second.info.resources[0]!.url }).toString(),
    });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: string }).error).toBe('invalid_client');
  });

  it('refuses memory storage and a missing database with advice', async () => {
    const memory = await configFile({ storage: { kind: 'memory' } });
    await expect(usersListCommand({ config: memory.config, stateDir: '.warden' })).rejects.toThrow(/memory storage, which lives only inside the running process/);
    const fresh = await configFile();
    await expect(usersListCommand({ config: fresh.config, stateDir: '.warden' })).rejects.toThrow(/^no database at .*warden\.db: start the stack once/);
    const disabled = await configFile({ authorizationServer: { enabled: false } });
    await expect(usersListCommand({ config: disabled.config, stateDir: '.warden' })).rejects.toThrow(/the authorization server is disabled/);
  });
});

describe('warden consents revoke', () => {
  it('forgets a remembered consent; none to forget is an error', async () => {
    const { config, db } = await configFile();
    const stores = openSqliteAuthorizationServerStores({ path: db });
    await stores.consents.put({ subject: 'alice', clientId: 'app', resource: 'http://localhost:4000/mcp', scopes: ['mcp:tools'], grantedAt: 1 });
    await stores.close();
    expect(await consentsRevokeCommand({ config, stateDir: '.warden', user: 'alice', client: 'app' })).toMatch(/^revoked 1 remembered consent\(s\) and 0 grant\(s\) of user alice for client app/);
    await expect(consentsRevokeCommand({ config, stateDir: '.warden', user: 'alice', client: 'app' })).rejects.toThrow('no remembered consent of user alice for client app');
  });

  it('RFC 7009 §2.1: also revokes the grants issued under the consent — refresh family, access tokens, tokens exchanged from them — and no one else\'s', async () => {
    const { config, db } = await configFile();
    const now = Math.floor(Date.now() / 1000);
    const resource = 'http://localhost:4000/mcp';
    const setup = openSqliteAuthorizationServerStores({ path: db });
    await setup.consents.put({ subject: 'alice', clientId: 'app', resource, scopes: ['mcp:tools'], grantedAt: now });
    for (const [grantId, subject] of [['g-alice', 'alice'], ['g-bob', 'bob']] as const) {
      await setup.grants.createGrant({ grantId, clientId: 'app', subject, scopes: ['mcp:tools'], resources: [resource], createdAt: now });
      await setup.grants.saveRefreshToken({ tokenHash: `rt-${grantId}`, grantId, generation: 0, scopes: ['mcp:tools'], resources: [resource], issuedAt: now, expiresAt: now + 3600 });
      await setup.grants.recordAccessToken(grantId, `at-${grantId}`, now + 600);
    }
    await setup.grants.recordExchangedAccessToken('exchanged', ['at-g-alice'], now + 300);
    await setup.close();

    expect(await consentsRevokeCommand({ config, stateDir: '.warden', user: 'alice', client: 'app' })).toMatch(/^revoked 1 remembered consent\(s\) and 1 grant\(s\) of user alice for client app; .*refresh tokens of those grants no longer work/);

    const after = openSqliteAuthorizationServerStores({ path: db });
    try {
      expect(await after.grants.isAccessTokenDenied('at-g-alice', now + 1)).toBe(true);
      expect(await after.grants.isAccessTokenDenied('exchanged', now + 1)).toBe(true);
      const successor = { tokenHash: 'rt-next', grantId: 'g-alice', generation: 1, scopes: ['mcp:tools'], resources: [resource], issuedAt: now, expiresAt: now + 3600 };
      expect(await after.grants.rotateRefreshToken({ tokenHash: 'rt-g-alice', successor, fingerprint: 'fp', graceSeconds: 10, now: now + 1 })).toEqual({ state: 'revoked' });
      expect(await after.grants.isAccessTokenDenied('at-g-bob', now + 1)).toBe(false);
      expect((await after.grants.getGrant('g-bob'))?.revokedAt).toBeUndefined();
    } finally {
      await after.close();
    }
  });
});

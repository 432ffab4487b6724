/**
 * The fleet registry through the admin API of an in-process stack (memory storage): servers added,
 * replaced and removed at run time route at once; a bad change is refused whole with key paths and
 * the running registry stays; the admin API is a protected resource of the stack's own AS
 * (RFC 6750 §3 challenges, RFC 8707 audience, RFC 9728 metadata) open only to admin clients.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../config/load.js';
import { createLogger } from '../../observability/logger.js';
import { startMcpUpstream, type McpUpstream } from '../../../test/helpers/mcp-upstream.js';
import { startStack, type RunningStack } from '../stack.js';
import { STORED_SECRET } from './server-entry.js';

const ADMIN_SECRET = 'admin-secret-0123456789-0123456789-abcd';
const OTHER_SECRET = 'other-secret-0123456789-0123456789-abcd';
const SVC_SECRET = 'svc-secret-0123456789-0123456789-abcdef';
const mcpHeaders = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

function baseConfig(extra: object = {}) {
  return {
    storage: { kind: 'memory' },
    authorizationServer: {
      clients: [
        { clientId: 'fleet-admin', clientSecret: ADMIN_SECRET, grantTypes: ['client_credentials'], scope: 'warden:admin' },
        // Registered for the scope, but not an admin client: the scope alone does not open the API.
        { clientId: 'not-admin', clientSecret: OTHER_SECRET, grantTypes: ['client_credentials'], scope: 'warden:admin' },
        { clientId: 'svc', clientSecret: SVC_SECRET, grantTypes: ['client_credentials'], scope: 'mcp:tools' },
      ],
    },
    admin: { clients: ['fleet-admin'] },
    resources: [{ name: 'demo', path: '/mcp', upstream: 'builtin:demo', scopes: { default: ['mcp:tools'] } }],
    ...extra,
  };
}

async function start(raw: object = baseConfig()): Promise<RunningStack & { logs: string[] }> {
  const logs: string[] = [];
  const stack = await startStack(resolveConfig(raw, { env: {} }), { port: 0, logger: createLogger({ write: (l) => logs.push(l) }), registryPollMs: 0 });
  cleanup.push(() => stack.close());
  return Object.assign(stack, { logs });
}

async function token(stack: RunningStack, clientId: string, secret: string, resource: string, scope?: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${stack.url}/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', resource, ...(scope ? { scope } : {}) }).toString(),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function adminToken(stack: RunningStack): Promise<string> {
  const t = await token(stack, 'fleet-admin', ADMIN_SECRET, `${stack.url}/admin/api`, 'warden:admin');
  expect(t.status).toBe(200);
  return t.body['access_token'] as string;
}

function admin(stack: RunningStack, bearer: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  return fetch(`${stack.url}/admin/api${path}`, {
    method,
    headers: { authorization: `Bearer ${bearer}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
}

async function callEcho(stack: RunningStack, path: string, bearer: string): Promise<Response> {
  return fetch(`${stack.url}${path}`, {
    method: 'POST',
    headers: { ...mcpHeaders, authorization: `Bearer ${bearer}` },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { text: 'hi' } } }),
  });
}

async function upstream(): Promise<McpUpstream> {
  const u = await startMcpUpstream();
  cleanup.push(() => u.close());
  return u;
}

describe('admin API: who may call it (RFC 6750 §3, RFC 8707, RFC 9728)', () => {
  it('RFC 6750 §3.1: no token → 401 with a Bearer challenge naming the admin API metadata, which RFC 9728 serves', async () => {
    const stack = await start();
    const res = await fetch(`${stack.url}/admin/api/servers`);
    expect(res.status).toBe(401);
    const challenge = res.headers.get('www-authenticate') ?? '';
    expect(challenge).toMatch(/^Bearer /);
    expect(challenge).not.toMatch(/error=/);
    expect(challenge).toContain(`resource_metadata="${stack.url}/.well-known/oauth-protected-resource/admin/api"`);
    const prm = (await (await fetch(`${stack.url}/.well-known/oauth-protected-resource/admin/api`)).json()) as Record<string, unknown>;
    expect(prm['resource']).toBe(`${stack.url}/admin/api`);
    expect(prm['scopes_supported']).toEqual(['warden:admin']);
  });

  it('RFC 8707: a token for an MCP server (another audience) is 401 invalid_token at the admin API', async () => {
    const stack = await start();
    const mcp = await token(stack, 'svc', SVC_SECRET, `${stack.url}/mcp`);
    expect(mcp.status).toBe(200);
    const res = await admin(stack, mcp.body['access_token'] as string, 'GET', '/servers');
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
  });

  it('RFC 6750 §3.1: a client outside admin.clients holding warden:admin is 403 insufficient_scope', async () => {
    const stack = await start();
    const other = await token(stack, 'not-admin', OTHER_SECRET, `${stack.url}/admin/api`, 'warden:admin');
    expect(other.status).toBe(200);
    const res = await admin(stack, other.body['access_token'] as string, 'GET', '/servers');
    expect(res.status).toBe(403);
    expect(res.headers.get('www-authenticate')).toMatch(/error="insufficient_scope".*scope="warden:admin"/);
  });

  it('RFC 6749 §3.3: warden:admin is never a default scope — a client not registered for it gets invalid_scope', async () => {
    const stack = await start();
    const res = await token(stack, 'svc', SVC_SECRET, `${stack.url}/admin/api`, 'warden:admin');
    expect(res.status).toBe(400);
    expect(res.body['error']).toBe('invalid_scope');
    const none = await token(stack, 'svc', SVC_SECRET, `${stack.url}/admin/api`);
    expect(none.status).toBe(400);
  });
});

describe('admin API: servers change without a restart', () => {
  it('PUT adds a gateway server that routes at once (token issued for its new audience, RFC 8707); DELETE makes it 404', async () => {
    const stack = await start();
    const up = await upstream();
    const bearer = await adminToken(stack);
    // Before: the AS does not know the audience, the router not the path.
    expect((await token(stack, 'svc', SVC_SECRET, `${stack.url}/files`)).body['error']).toBe('invalid_target');
    expect((await callEcho(stack, '/files', 'x')).status).toBe(404);

    const put = await admin(stack, bearer, 'PUT', '/servers/files', { path: '/files', upstream: up.url, scopes: { default: ['mcp:tools'] } });
    expect(put.status).toBe(201);
    const added = (await put.json()) as Record<string, unknown>;
    expect(added).toMatchObject({ name: 'files', source: 'registry', url: `${stack.url}/files`, upstream: up.url, revision: 1 });

    const t = await token(stack, 'svc', SVC_SECRET, `${stack.url}/files`);
    expect(t.status).toBe(200);
    const init = await fetch(`${stack.url}/files`, {
      method: 'POST',
      headers: { ...mcpHeaders, authorization: `Bearer ${t.body['access_token'] as string}` },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } }),
    });
    expect(init.status).toBe(200);
    expect(up.requests.length).toBeGreaterThan(0);
    const metadata = await fetch(`${stack.url}/.well-known/oauth-protected-resource/files`);
    expect(((await metadata.json()) as Record<string, unknown>)['resource']).toBe(`${stack.url}/files`);

    const list = (await (await admin(stack, bearer, 'GET', '/servers')).json()) as { revision: number; servers: Array<Record<string, unknown>> };
    expect(list.revision).toBe(1);
    expect(list.servers.map((s) => [s['name'], s['source']])).toEqual([['demo', 'config'], ['files', 'registry']]);
    const shown = (await (await admin(stack, bearer, 'GET', '/servers/files')).json()) as Record<string, unknown>;
    expect(shown['entry']).toEqual({ name: 'files', path: '/files', upstream: up.url, scopes: { default: ['mcp:tools'] } });

    // Replacing answers 200 and applies the new entry.
    const replaced = await admin(stack, bearer, 'PUT', '/servers/files', { name: 'files', path: '/files', upstream: up.url, dpop: 'required', scopes: { default: ['mcp:tools'] } });
    expect(replaced.status).toBe(200);
    const bearerAfter = await callEcho(stack, '/files', t.body['access_token'] as string);
    expect(bearerAfter.status).toBe(401);
    expect(bearerAfter.headers.get('www-authenticate')).toMatch(/^DPoP /);

    expect((await admin(stack, bearer, 'DELETE', '/servers/files')).status).toBe(204);
    expect((await callEcho(stack, '/files', t.body['access_token'] as string)).status).toBe(404);
    expect((await token(stack, 'svc', SVC_SECRET, `${stack.url}/files`)).body['error']).toBe('invalid_target');
    expect((await admin(stack, bearer, 'GET', '/servers/files')).status).toBe(404);
    expect((await admin(stack, bearer, 'DELETE', '/servers/files')).status).toBe(404);
  });

  it('an entry is shown without its introspection client secret (a placeholder); sent back unchanged the placeholder keeps the stored secret, and never becomes one', async () => {
    const stack = await start();
    const up = await upstream();
    const bearer = await adminToken(stack);
    const secret = 'introspection-secret-0123456789-abcdef';
    const trust = { issuer: 'https://idp.example', introspection: { endpoint: 'https://idp.example/introspect', clientId: 'gw', clientSecret: secret } };
    expect((await admin(stack, bearer, 'PUT', '/servers/vendor', { path: '/vendor', upstream: up.url, trust })).status).toBe(201);

    const text = await (await admin(stack, bearer, 'GET', '/servers/vendor')).text();
    expect(text).not.toContain(secret);
    const shown = JSON.parse(text) as { entry: { trust: { introspection: { clientSecret: string } } } };
    expect(shown.entry.trust.introspection.clientSecret).toBe(STORED_SECRET);

    // Read, change, write back: the stored secret stays.
    expect((await admin(stack, bearer, 'PUT', '/servers/vendor', { ...shown.entry, dpop: 'required' })).status).toBe(200);
    expect(stack.registry.record('vendor')?.spec).toMatchObject({ dpop: 'required', trust: { introspection: { clientSecret: secret } } });

    // The placeholder for a server with no stored secret is refused with its key path, not stored.
    const refused = await admin(stack, bearer, 'PUT', '/servers/other', { path: '/other', upstream: up.url, trust: { ...trust, introspection: { ...trust.introspection, clientSecret: STORED_SECRET } } });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { errors: Array<{ path: string }> }).errors.map((e) => e.path)).toEqual(['trust.introspection.clientSecret']);
    expect(stack.registry.record('other')).toBeUndefined();
  });

  it('RFC 6585 §4: a server added with a rateLimit on a stack whose configuration limits no rate routes and is limited (the stack always opens its rate-limit store); the API describes its identity mode, rule names and buckets', async () => {
    const stack = await start();
    const up = await upstream();
    const bearer = await adminToken(stack);
    const put = await admin(stack, bearer, 'PUT', '/servers/limited', {
      path: '/limited',
      upstream: up.url,
      scopes: { default: ['mcp:tools'] },
      upstreamAuth: { kind: 'none' },
      policy: { rules: [{ name: 'no-reset', tools: ['reset'], deny: 'true' }] },
      rateLimit: { perClient: { rate: 0.01, burst: 1 } },
    });
    expect(put.status).toBe(201);
    // The answer (as GET /servers) says how the server is protected: identity mode, rule names (not expressions), buckets.
    const described = (await put.json()) as Record<string, unknown>;
    expect(described).toMatchObject({ upstreamAuth: { kind: 'none' }, policyRules: ['no-reset'], rateLimit: { perClient: { rate: 0.01, burst: 1 } } });
    expect(JSON.stringify(described)).not.toContain('deny');
    const t = await token(stack, 'svc', SVC_SECRET, `${stack.url}/limited`);
    expect(t.status).toBe(200);
    const init = () =>
      fetch(`${stack.url}/limited`, {
        method: 'POST',
        headers: { ...mcpHeaders, authorization: `Bearer ${t.body['access_token'] as string}` },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } }),
      });
    expect((await init()).status).toBe(200);
    const limited = await init();
    expect(limited.status).toBe(429);
    expect(limited.headers.get('ratelimit-policy')).toBe('"per-client";q=1;w=100');
    expect(stack.logs.join('\n')).not.toContain('cannot be mounted');
  });

  it('every change through the admin API is a registry.changed audit event naming the admin (issue 12); a refused change is none', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'warden-admin-audit-')), 'audit.log');
    const stack = await start(baseConfig({ audit: { sink: 'file', path } }));
    const up = await upstream();
    const bearer = await adminToken(stack);
    expect((await admin(stack, bearer, 'PUT', '/servers/files', { path: '/files', upstream: up.url, scopes: { default: ['mcp:tools'] } })).status).toBe(201);
    expect((await admin(stack, bearer, 'PUT', '/servers/files', { path: '/files', upstream: up.url, dpop: 'sometimes' })).status).toBe(400);
    expect((await admin(stack, bearer, 'DELETE', '/servers/files')).status).toBe(204);
    await stack.close();
    const records = readFileSync(path, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    const changes = records.filter((r) => r['type'] === 'registry.changed');
    expect(changes.map((r) => [r['clientId'], r['admin'], r['detail']])).toEqual([
      ['fleet-admin', 'fleet-admin', 'server "files" added (revision 1)'],
      ['fleet-admin', 'fleet-admin', 'server "files" removed (revision 2)'],
    ]);
    expect(readFileSync(path, 'utf8')).not.toContain(bearer);
  });

  it('with the operator console on too (admin.subjects), /admin/api stays the admin API and /admin the console', async () => {
    const stack = await start(baseConfig({ admin: { clients: ['fleet-admin'], subjects: ['alice'] } }));
    const bearer = await adminToken(stack);
    const list = await admin(stack, bearer, 'GET', '/servers');
    expect(list.status).toBe(200);
    expect(((await list.json()) as { servers: unknown[] }).servers).toHaveLength(1);
    const unauthenticated = await fetch(`${stack.url}/admin/api/servers`);
    expect(unauthenticated.status).toBe(401);
    expect(unauthenticated.headers.get('www-authenticate')).toMatch(/resource_metadata="[^"]*\/\.well-known\/oauth-protected-resource\/admin\/api"/);
    const console = await fetch(`${stack.url}/admin`, { redirect: 'manual' });
    expect([200, 302, 303]).toContain(console.status);
    expect(console.headers.get('www-authenticate')).toBeNull();
  });

  it('a bad entry is refused whole with 400 and each key path; the running registry stays', async () => {
    const stack = await start();
    const bearer = await adminToken(stack);
    const res = await admin(stack, bearer, 'PUT', '/servers/files', { path: 'files', upstream: 'ftp://x', dpop: 'sometimes', colour: 'red' });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    const body = (await res.json()) as { status: number; errors: Array<{ path: string; message: string }> };
    expect(body.status).toBe(400);
    expect(body.errors.map((e) => e.path).sort()).toEqual(['colour', 'dpop', 'path', 'upstream']);
    expect(body.errors.find((e) => e.path === 'dpop')?.message).toBe('expected one of disabled|allowed|required, got "sometimes"');

    const overlap = await admin(stack, bearer, 'PUT', '/servers/files', { path: '/mcp/files', upstream: 'builtin:demo' });
    expect(overlap.status).toBe(400);
    expect(((await overlap.json()) as { errors: Array<{ path: string; message: string }> }).errors).toEqual([
      { path: 'path', message: '"/mcp/files" overlaps server "demo" at "/mcp": one would shadow the other' },
    ]);
    const reserved = await admin(stack, bearer, 'PUT', '/servers/files', { path: '/token', upstream: 'builtin:demo' });
    expect(((await reserved.json()) as { errors: Array<{ path: string }> }).errors[0]?.path).toBe('path');

    const list = (await (await admin(stack, bearer, 'GET', '/servers')).json()) as { revision: number; servers: unknown[] };
    expect(list).toMatchObject({ revision: 0 });
    expect(list.servers).toHaveLength(1);
  });

  it('hostile or misdirected requests get precise answers: 409 config-declared, 400 name mismatch and duplicate members, 415, 405, 404', async () => {
    const stack = await start();
    const bearer = await adminToken(stack);
    const declared = await admin(stack, bearer, 'PUT', '/servers/demo', { path: '/other', upstream: 'builtin:demo' });
    expect(declared.status).toBe(409);
    expect((await admin(stack, bearer, 'DELETE', '/servers/demo')).status).toBe(409);
    const mismatch = await admin(stack, bearer, 'PUT', '/servers/files', { name: 'other', path: '/files', upstream: 'builtin:demo' });
    expect(mismatch.status).toBe(400);
    expect(((await mismatch.json()) as { errors: Array<{ path: string }> }).errors[0]?.path).toBe('name');
    const duplicate = await admin(stack, bearer, 'PUT', '/servers/files', '{"path":"/files","path":"/x","upstream":"builtin:demo"}');
    expect(duplicate.status).toBe(400);
    expect((await admin(stack, bearer, 'PUT', '/servers/files', 'path=/files', { 'content-type': 'application/x-www-form-urlencoded' })).status).toBe(415);
    const wrong = await admin(stack, bearer, 'POST', '/servers');
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('GET');
    expect((await admin(stack, bearer, 'GET', '/nothing')).status).toBe(404);
    expect((await admin(stack, bearer, 'GET', '/servers/a%2Fb')).status).toBe(404);
    const big = await admin(stack, bearer, 'PUT', '/servers/files', JSON.stringify({ path: '/files', upstream: 'builtin:demo', x: 'a'.repeat(70_000) }));
    expect(big.status).toBe(413);
    expect(stack.logs.join('\n')).not.toContain(bearer);
  });
});

describe('reloadServers (config file watch, SIGHUP)', () => {
  it('applies the re-read resources at once; a bad set is refused with key paths and the running servers stay', async () => {
    const stack = await start();
    const bearer = (await token(stack, 'svc', SVC_SECRET, `${stack.url}/mcp`)).body['access_token'] as string;
    const next = resolveConfig(baseConfig({ resources: [{ name: 'demo', path: '/mcp', upstream: 'builtin:demo', scopes: { default: ['mcp:tools'] } }, { name: 'more', path: '/more', upstream: 'builtin:demo' }] }), { env: {} });
    expect(stack.reloadServers(next)).toEqual({ ok: true, ignored: [] });
    expect((await token(stack, 'svc', SVC_SECRET, `${stack.url}/more`)).status).toBe(200);
    expect((await callEcho(stack, '/mcp', bearer)).status).toBe(200);

    // A store server now collides with what the file would declare: refused, nothing changes.
    const adminBearer = await adminToken(stack);
    expect((await admin(stack, adminBearer, 'PUT', '/servers/files', { path: '/files', upstream: 'builtin:demo' })).status).toBe(201);
    const clash = resolveConfig(baseConfig({ resources: [{ name: 'demo', path: '/mcp', upstream: 'builtin:demo' }, { name: 'x', path: '/files/x', upstream: 'builtin:demo' }] }), { env: {} });
    const refused = stack.reloadServers(clash);
    expect(refused).toMatchObject({ ok: false, name: 'files', problems: [{ path: 'path' }] });
    expect(stack.registry.current().servers.map((s) => s.name)).toEqual(['demo', 'more', 'files']);
  });
});

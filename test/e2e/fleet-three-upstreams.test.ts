/**
 * Issue #10's "done means": one fleet, three upstreams, two gateway instances.
 *
 * Two `warden serve` processes behind one public URL share PostgreSQL (this run's own schema)
 * and Redis (replay, sessions, rate-limit buckets; keys scoped by this run's canonical URIs). In
 * front of them:
 * - `v1`: the official MCP SDK v1 (`@modelcontextprotocol/sdk`), stateful, answering with SSE,
 *   verifying every request with `createResourceServer` (`rs.node`), `upstreamAuth: token`, CEL
 *   policy (an allow rule on `admin_delete`, a deny rule on `echo`'s arguments);
 * - `v2`: the official MCP SDK v2 (`@modelcontextprotocol/server`), stateless JSON, verifying
 *   with `createResourceServer` (`rs.web()`), `upstreamAuth: token`, `admin_delete` needing a scope;
 * - `py`: the Python standard-library upstream, added at run time through instance A
 *   (`warden servers add --entry`) with a CEL rule and a per-client rate limit, then seen — and
 *   rate-limited — on instance B, and removed through B's admin API.
 *
 * Clients are the official SDK clients (v1 `Client`, v2 `@modelcontextprotocol/client`) and plain
 * fetch for tokens (client_credentials) and raw wire checks.
 *
 * Runs when WARDEN_TEST_POSTGRES_URL, WARDEN_TEST_REDIS_URL and python3 are there; skipped with a
 * note otherwise, failing instead under CI.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as TransportV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Client as ClientV2, StreamableHTTPClientTransport as TransportV2 } from '@modelcontextprotocol/client';
import { freePort } from '../helpers/free-port.js';
import { requireService, testService } from '../helpers/services.js';
import { spawnWarden, type SpawnedWarden } from '../helpers/spawn-warden.js';
import { runWardenCli, waitFor } from '../helpers/run-cli.js';
import { startPythonUpstream } from '../upstreams/python/start-python-upstream.js';
import { findToolchain, requireToolchain } from '../upstreams/toolchain.js';
import type { DiffUpstream } from '../upstreams/upstream.js';
import { startVerifyingV1Upstream, startVerifyingV2Upstream, type VerifiedWhoami, type VerifyingUpstream } from '../upstreams/node/verifying-sdk-upstreams.js';

const postgres = await testService('postgres');
const redis = await testService('redis');
const python = findToolchain('python3', ['--version']);
const skip = postgres.skip || redis.skip || python.skip;
const note = `${postgres.note}${redis.note}${python.note}`;

const secret = (label: string) => `${label}-${randomBytes(24).toString('hex')}`;
const SECRETS = { 'fleet-admin': secret('admin'), agent: secret('agent'), ops: secret('ops'), limited: secret('limited') } as const;
type ClientId = keyof typeof SECRETS;
const mcpHeaders = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

const cli = runWardenCli;

const payloadOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
const bearerOf = (authorization: string) => authorization.replace(/^Bearer /, '');
const rpc = (id: number, method: string, params: Record<string, unknown> = {}) => JSON.stringify({ jsonrpc: '2.0', id, method, params });

describe.skipIf(skip)(`fleet: three upstreams (SDK v1, SDK v2, Python) under two warden serve instances on PostgreSQL + Redis${note}`, () => {
  const schema = `warden_test_${randomBytes(6).toString('hex')}`;
  let pgUrl = '';
  let a: SpawnedWarden;
  let b: SpawnedWarden;
  let v1: VerifyingUpstream;
  let v2: VerifyingUpstream;
  let py: DiffUpstream;
  /** Instance A's address: also the public URL and issuer both instances share. */
  let publicUrl = '';
  let bUrl = '';
  let dir = '';

  beforeAll(async () => {
    pgUrl = await requireService(postgres);
    const redisUrl = await requireService(redis);
    requireToolchain(python);
    const [portA, portB] = [await freePort(), await freePort()];
    publicUrl = `http://127.0.0.1:${portA}`;
    bUrl = `http://127.0.0.1:${portB}`;
    [v1, v2, py] = await Promise.all([startVerifyingV1Upstream(publicUrl), startVerifyingV2Upstream(publicUrl), startPythonUpstream(python.command)]);
    const client = (clientId: ClientId, scope: string) => ({ clientId, clientSecret: SECRETS[clientId], grantTypes: ['client_credentials'], scope });
    const config = {
      publicUrl,
      storage: { kind: 'postgres', url: pgUrl, schema },
      replay: { kind: 'redis', url: redisUrl },
      authorizationServer: {
        secret: randomBytes(32).toString('hex'),
        clients: [client('fleet-admin', 'warden:admin'), client('agent', 'mcp:tools'), client('ops', 'mcp:tools mcp:admin'), client('limited', 'mcp:tools')],
      },
      admin: { clients: ['fleet-admin'] },
      resources: [
        {
          name: 'v1',
          path: '/v1',
          upstream: v1.url,
          upstreamAuth: { kind: 'token' },
          scopes: { default: ['mcp:tools'] },
          policy: {
            rules: [
              { name: 'admin-delete-ops-only', tools: ['admin_delete'], allow: 'client_id == "ops"' },
              { name: 'no-secret-echo', tools: ['echo'], deny: 'has(arguments.text) && arguments.text == "secret"' },
            ],
          },
        },
        { name: 'v2', path: '/v2', upstream: v2.url, upstreamAuth: { kind: 'token' }, scopes: { default: ['mcp:tools'], tools: { admin_delete: ['mcp:admin'] } } },
      ],
    };
    // One after the other: the first creates the schema's tables.
    a = await spawnWarden({ config, port: portA, startTimeoutMs: 30_000 });
    b = await spawnWarden({ config, port: portB, startTimeoutMs: 30_000 });
    dir = await mkdtemp(join(tmpdir(), 'warden-fleet3-'));
  }, 90_000);

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await Promise.all([v1?.close(), v2?.close(), py?.close()]);
    if (dir) await rm(dir, { recursive: true, force: true });
    if (pgUrl) {
      const admin = new pg.Client({ connectionString: pgUrl });
      await admin.connect();
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await admin.end();
    }
  });

  /** RFC 6749 §4.4 client credentials with an RFC 8707 resource, from the shared issuer. */
  async function token(clientId: ClientId, resource: string): Promise<string> {
    // Without `scope`, the resource's default scopes; "ops" asks for mcp:admin too where a tool needs it.
    const scope: Record<string, string> = clientId === 'ops' && resource.endsWith('/v2') ? { scope: 'mcp:tools mcp:admin' } : {};
    const res = await fetch(`${publicUrl}/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${clientId}:${SECRETS[clientId]}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', resource, ...scope }).toString(),
    });
    const body = (await res.json()) as Record<string, unknown>;
    if (res.status !== 200) throw new Error(`token for ${clientId}: ${res.status} ${JSON.stringify(body)}`);
    return body['access_token'] as string;
  }

  async function v1Client(base: string, clientId: ClientId): Promise<ClientV1> {
    const bearer = await token(clientId, `${publicUrl}/v1`);
    const client = new ClientV1({ name: 'fleet-e2e-v1', version: '1.0.0' });
    await client.connect(new TransportV1(new URL(`${base}/v1`), { requestInit: { headers: { authorization: `Bearer ${bearer}` } } }));
    return client;
  }

  async function v2Client(base: string, clientId: ClientId): Promise<ClientV2> {
    const bearer = await token(clientId, `${publicUrl}/v2`);
    const client = new ClientV2({ name: 'fleet-e2e-v2', version: '1.0.0' });
    await client.connect(new TransportV2(new URL(`${base}/v2`), { requestInit: { headers: { authorization: `Bearer ${bearer}` } } }));
    return client;
  }

  const post = (url: string, bearer: string, body: string) => fetch(url, { method: 'POST', headers: { ...mcpHeaders, authorization: `Bearer ${bearer}` }, body });
  const textOf = (result: unknown) => ((result as { content: Array<{ text: string }> }).content[0]?.text ?? '');

  it('RFC 8693 §4.1 / RFC 8707: each SDK upstream verifies the token the gateway minted for it (aud = itself, act = the gateway), on both instances', async () => {
    const viaB = await v2Client(bUrl, 'agent');
    const seen = JSON.parse(textOf(await viaB.callTool({ name: 'whoami', arguments: {} }))) as VerifiedWhoami;
    expect(seen).toMatchObject({ clientId: 'agent', scopes: ['mcp:tools'], aud: v2.url, act: { sub: `${publicUrl}/v2` } });
    expect(seen.lifetime).toBeGreaterThan(0);
    expect(seen.lifetime).toBeLessThanOrEqual(60);
    await viaB.close();

    const viaA = await v1Client(publicUrl, 'agent');
    const seenV1 = JSON.parse(textOf(await viaA.callTool({ name: 'whoami', arguments: {} }))) as VerifiedWhoami;
    expect(seenV1).toMatchObject({ clientId: 'agent', aud: v1.url, act: { sub: `${publicUrl}/v1` } });
    await viaA.close();
    // Neither upstream ever saw a caller's own token (its aud is the gateway, not the upstream).
    for (const authorization of [...v1.authorizations, ...v2.authorizations]) {
      expect(payloadOf(bearerOf(authorization))['aud']).not.toMatch(/\/v[12]$/);
    }
  });

  it("RFC 8707 §2: the caller's own token sent straight to an upstream is refused there (audience), and so is the gateway's token for the other upstream", async () => {
    const own = await token('agent', `${publicUrl}/v2`);
    const direct = await post(v2.url, own, rpc(1, 'tools/list'));
    expect(direct.status).toBe(401);
    expect(direct.headers.get('www-authenticate')).toMatch(/error="invalid_token".*audience/);

    const forV1 = bearerOf(v1.authorizations.at(-1)!);
    expect(payloadOf(forV1)['aud']).toBe(v1.url);
    const crossed = await post(v2.url, forV1, rpc(2, 'tools/list'));
    expect(crossed.status).toBe(401);
    expect(crossed.headers.get('www-authenticate')).toMatch(/error="invalid_token".*audience/);
    // v1 itself accepts it (a fresh session): only the audience made v2 refuse it.
    const atV1 = await post(v1.url, forV1, rpc(3, 'initialize', { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } }));
    expect(atV1.status).toBe(200);
    await atV1.text();
  });

  it('CEL policy: an allow rule lets "ops" run admin_delete; others get 403 with a JSON-RPC error naming the rule, never its expression; a deny rule on arguments refuses', async () => {
    const ops = await v1Client(publicUrl, 'ops');
    expect(textOf(await ops.callTool({ name: 'admin_delete', arguments: {} }))).toBe('ran admin_delete');
    expect(textOf(await ops.callTool({ name: 'echo', arguments: { text: 'hello' } }))).toBe('hello');
    await expect(ops.callTool({ name: 'echo', arguments: { text: 'secret' } })).rejects.toThrow('refused by policy rule \\"no-secret-echo\\"');
    await ops.close();

    const runs = v1.runs.length;
    const bearer = await token('agent', `${publicUrl}/v1`);
    for (const base of [publicUrl, bUrl]) {
      const denied = await post(`${base}/v1`, bearer, rpc(7, 'tools/call', { name: 'admin_delete', arguments: {} }));
      expect(denied.status).toBe(403);
      const text = await denied.text();
      expect(JSON.parse(text)).toEqual({ jsonrpc: '2.0', id: 7, error: { code: -32003, message: 'refused by policy rule "admin-delete-ops-only"' } });
      expect(text).not.toContain('client_id ==');
    }
    expect(v1.runs.length).toBe(runs);
  });

  it('tools/list shows only callable tools: SSE from SDK v1 (policy), JSON from SDK v2 (scope)', async () => {
    const agentV1 = await v1Client(bUrl, 'agent');
    expect((await agentV1.listTools()).tools.map((t) => t.name).sort()).toEqual(['echo', 'whoami']);
    await agentV1.close();
    const opsV1 = await v1Client(bUrl, 'ops');
    expect((await opsV1.listTools()).tools.map((t) => t.name).sort()).toEqual(['admin_delete', 'echo', 'whoami']);
    await opsV1.close();

    const agentV2 = await v2Client(publicUrl, 'agent');
    expect((await agentV2.listTools()).tools.map((t) => t.name).sort()).toEqual(['echo', 'whoami']);
    await agentV2.close();
    const opsV2 = await v2Client(publicUrl, 'ops');
    expect((await opsV2.listTools()).tools.map((t) => t.name).sort()).toEqual(['admin_delete', 'echo', 'whoami']);
    await opsV2.close();

    // On the wire: the stateful v1 upstream answers tools/list as an SSE stream, rewritten in place.
    const bearer = await token('agent', `${publicUrl}/v1`);
    const init = await post(`${publicUrl}/v1`, bearer, rpc(1, 'initialize', { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } }));
    const session = init.headers.get('mcp-session-id')!;
    await init.text();
    const list = await fetch(`${bUrl}/v1`, { method: 'POST', headers: { ...mcpHeaders, authorization: `Bearer ${bearer}`, 'mcp-session-id': session, 'mcp-protocol-version': '2025-06-18' }, body: rpc(2, 'tools/list') });
    expect(list.status).toBe(200);
    expect(list.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const data = (await list.text()).split('\n').filter((l) => l.startsWith('data: ')).map((l) => JSON.parse(l.slice(6)) as { result: { tools: Array<{ name: string }> } });
    expect(data.map((d) => d.result.tools.map((t) => t.name).sort())).toEqual([['echo', 'whoami']]);
  });

  it('a server added through instance A (warden servers add --entry) routes on instance B, with its policy (JSON tools/list) and its rate limit', async () => {
    expect((await fetch(`${bUrl}/py`, { method: 'POST', headers: mcpHeaders, body: rpc(1, 'tools/list') })).status).toBe(404);
    const entry = {
      path: '/py',
      upstream: py.url,
      scopes: { default: ['mcp:tools'] },
      policy: { rules: [{ name: 'py-admin-ops-only', tools: ['admin_delete'], allow: 'client_id == "ops"' }] },
      rateLimit: { perClient: { rate: 0.01, burst: 3 } },
    };
    const entryFile = join(dir, 'py.json');
    await writeFile(entryFile, JSON.stringify(entry));
    const added = await cli(['servers', 'add', 'py', '--url', publicUrl, '--client-id', 'fleet-admin', '--entry', `@${entryFile}`], { WARDEN_ADMIN_CLIENT_SECRET: SECRETS['fleet-admin'] });
    expect(added, added.stderr).toMatchObject({ code: 0 });
    expect(added.stdout).toMatch(/^added server py \(registry revision \d+\)/);

    // B follows by polling the revision: unauthenticated, it answers 401 (known) instead of 404.
    await waitFor('instance B to route /py', async () => (await fetch(`${bUrl}/py`, { method: 'POST', headers: mcpHeaders, body: rpc(1, 'tools/list') })).status === 401);
    expect((await fetch(`${bUrl}/.well-known/oauth-protected-resource/py`)).status).toBe(200);
    const adminToken = await token('fleet-admin', `${publicUrl}/admin/api`);
    const listed = (await (await fetch(`${bUrl}/admin/api/servers`, { headers: { authorization: `Bearer ${adminToken}` } })).json()) as { servers: Array<{ name: string; source: string }> };
    expect(listed.servers.map((s) => [s.name, s.source])).toEqual([['v1', 'config'], ['v2', 'config'], ['py', 'registry']]);
    expect(listed.servers[0]).toMatchObject({ upstreamAuth: { kind: 'token', audience: v1.url }, policyRules: ['admin-delete-ops-only', 'no-secret-echo'] });
    expect(listed.servers[2]).toMatchObject({ url: `${publicUrl}/py`, policyRules: ['py-admin-ops-only'], rateLimit: { perClient: { rate: 0.01, burst: 3 } } });

    const agent = await token('agent', `${publicUrl}/py`);
    const shown = await post(`${bUrl}/py`, agent, rpc(3, 'tools/list'));
    expect(shown.status).toBe(200);
    expect(shown.headers.get('content-type')).toMatch(/^application\/json/);
    expect(((await shown.json()) as { result: { tools: Array<{ name: string }> } }).result.tools.map((t) => t.name)).toEqual(['echo', 'héllo']);
    const denied = await post(`${bUrl}/py`, agent, rpc(4, 'tools/call', { name: 'admin_delete', arguments: {} }));
    expect(denied.status).toBe(403);
    expect(await denied.json()).toMatchObject({ error: { code: -32003, message: 'refused by policy rule "py-admin-ops-only"' } });
    const ops = await token('ops', `${publicUrl}/py`);
    const allowed = await post(`${publicUrl}/py`, ops, rpc(5, 'tools/call', { name: 'admin_delete', arguments: {} }));
    expect(allowed.status).toBe(200);
    expect(((await allowed.json()) as { result: unknown }).result).toMatchObject({ content: [{ text: 'ran admin_delete' }] });
  });

  it('RFC 6585 §4 + draft-ietf-httpapi-ratelimit-headers: a client\'s bucket (burst 3) is shared by both instances through Redis — the 4th request, on either instance, is 429', async () => {
    const limited = await token('limited', `${publicUrl}/py`);
    const call = (base: string, id: number) => post(`${base}/py`, limited, rpc(id, 'tools/call', { name: 'echo', arguments: {} }));
    expect((await call(publicUrl, 1)).status).toBe(200);
    expect((await call(bUrl, 2)).status).toBe(200);
    expect((await call(publicUrl, 3)).status).toBe(200);
    for (const [base, id] of [[bUrl, 4], [publicUrl, 5]] as const) {
      const res = await call(base, id);
      expect(res.status).toBe(429);
      const retryAfter = Number(res.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(100);
      expect(res.headers.get('ratelimit-policy')).toBe('"per-client";q=3;w=300');
      expect(res.headers.get('ratelimit')).toMatch(/^"per-client";r=0;t=\d+$/);
      expect(await res.json()).toMatchObject({ jsonrpc: '2.0', id, error: { code: -32000 } });
    }
    // Another client's bucket is its own.
    const other = await token('agent', `${publicUrl}/py`);
    expect((await post(`${publicUrl}/py`, other, rpc(6, 'tools/call', { name: 'echo', arguments: {} }))).status).toBe(200);
  });

  it('a server removed through instance B\'s admin API stops routing on instance A', async () => {
    const adminToken = await token('fleet-admin', `${publicUrl}/admin/api`);
    const removed = await fetch(`${bUrl}/admin/api/servers/py`, { method: 'DELETE', headers: { authorization: `Bearer ${adminToken}` } });
    expect(removed.status).toBe(204);
    await waitFor('instance A to stop routing /py', async () => (await fetch(`${publicUrl}/py`, { method: 'POST', headers: mcpHeaders, body: rpc(1, 'tools/list') })).status === 404);
    // The admin token is still good on A; its list no longer has py.
    const listed = (await (await fetch(`${publicUrl}/admin/api/servers`, { headers: { authorization: `Bearer ${adminToken}` } })).json()) as { servers: Array<{ name: string }> };
    expect(listed.servers.map((s) => s.name)).toEqual(['v1', 'v2']);
  });
});

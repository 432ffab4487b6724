/**
 * The fleet registry across instances: two `warden serve` processes on one PostgreSQL (each in
 * this run's own schema). A server added through instance A's admin API (with `warden servers
 * add --url`, an admin client's credentials) routes on instance B once B's poll sees the new
 * revision; removed on the store (`warden servers remove --config`), B answers 404. Also the CLI's
 * exit codes: 0 done, 1 refused (unknown server), 2 an entry that does not pass (key path printed).
 *
 * Runs when WARDEN_TEST_POSTGRES_URL is set (skipped with a note otherwise; fails under CI).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/free-port.js';
import { startMcpUpstream, type McpUpstream } from '../helpers/mcp-upstream.js';
import { requireService, testService } from '../helpers/services.js';
import { spawnWarden, type SpawnedWarden } from '../helpers/spawn-warden.js';
import { runWardenCli, waitFor } from '../helpers/run-cli.js';

const postgres = await testService('postgres');
const ADMIN_SECRET = `admin-${randomBytes(24).toString('hex')}`;
const SVC_SECRET = `svc-${randomBytes(24).toString('hex')}`;
const mcpHeaders = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

const cli = runWardenCli;

describe.skipIf(postgres.skip)(`fleet registry across two warden serve instances on PostgreSQL${postgres.note}`, () => {
  const schema = `warden_test_${randomBytes(6).toString('hex')}`;
  let url = '';
  let a: SpawnedWarden;
  let b: SpawnedWarden;
  let upstream: McpUpstream;
  let publicUrl = '';
  let bUrl = '';
  let dir = '';
  let configFile = '';

  beforeAll(async () => {
    url = await requireService(postgres);
    upstream = await startMcpUpstream();
    const [portA, portB] = [await freePort(), await freePort()];
    // Behind a load balancer both instances have one public URL: tokens and canonical URIs match.
    publicUrl = `http://127.0.0.1:${portA}`;
    bUrl = `http://127.0.0.1:${portB}`;
    const config = {
      publicUrl,
      storage: { kind: 'postgres', url, schema },
      authorizationServer: {
        secret: randomBytes(32).toString('hex'),
        clients: [
          { clientId: 'fleet-admin', clientSecret: ADMIN_SECRET, grantTypes: ['client_credentials'], scope: 'warden:admin' },
          { clientId: 'svc', clientSecret: SVC_SECRET, grantTypes: ['client_credentials'], scope: 'mcp:tools' },
        ],
      },
      admin: { clients: ['fleet-admin'] },
      resources: [{ name: 'demo', path: '/mcp', upstream: 'builtin:demo' }],
    };
    a = await spawnWarden({ config, port: portA, startTimeoutMs: 30_000 });
    b = await spawnWarden({ config, port: portB, startTimeoutMs: 30_000 });
    dir = await mkdtemp(join(tmpdir(), 'warden-fleet-'));
    configFile = join(dir, 'warden.json');
    await writeFile(configFile, JSON.stringify(config));
  }, 90_000);

  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    await upstream?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
    if (url) {
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await admin.end();
    }
  });

  async function token(resource: string): Promise<string> {
    const res = await fetch(`${publicUrl}/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`svc:${SVC_SECRET}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', resource }).toString(),
    });
    const body = (await res.json()) as Record<string, unknown>;
    if (res.status !== 200) throw new Error(`token: ${res.status} ${JSON.stringify(body)}`);
    return body['access_token'] as string;
  }

  const initialize = (base: string, bearer: string) =>
    fetch(`${base}/files`, {
      method: 'POST',
      headers: { ...mcpHeaders, authorization: `Bearer ${bearer}` },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'fleet-test', version: '1' } } }),
    });

  it('a server added through instance A (warden servers add --url) routes on instance B; removed on the store, B answers 404', async () => {
    expect((await initialize(bUrl, 'x')).status).toBe(404);
    const added = await cli(['servers', 'add', 'files', '--url', publicUrl, '--client-id', 'fleet-admin', '--client-secret', ADMIN_SECRET, '--path', '/files', '--upstream', upstream.url, '--scope', 'mcp:tools']);
    expect(added, added.stderr).toMatchObject({ code: 0 });
    expect(added.stdout).toMatch(/^added server files \(registry revision 1\)/);
    expect(added.stdout + added.stderr).not.toContain(ADMIN_SECRET);

    // A's AS knows the new audience at once; B follows by polling the revision.
    const bearer = await token(`${publicUrl}/files`);
    const before = upstream.requests.length;
    await waitFor('instance B to route /files', async () => (await initialize(bUrl, bearer)).status === 200);
    expect(upstream.requests.length).toBeGreaterThan(before);
    expect((await fetch(`${bUrl}/.well-known/oauth-protected-resource/files`)).status).toBe(200);

    const listed = await cli(['servers', 'list', '--config', configFile, '--json']);
    expect(listed.code).toBe(0);
    const list = JSON.parse(listed.stdout) as { revision: number; servers: Array<{ name: string; source: string; upstream: string }> };
    expect(list.servers.map((s) => [s.name, s.source])).toEqual([['demo', 'config'], ['files', 'registry']]);

    const removed = await cli(['servers', 'remove', 'files', '--config', configFile]);
    expect(removed, removed.stderr).toMatchObject({ code: 0 });
    await waitFor('instance B to stop routing /files', async () => (await initialize(bUrl, bearer)).status === 404);
    await waitFor('instance A to stop routing /files', async () => (await initialize(publicUrl, bearer)).status === 404);
  }, 60_000);

  it('the CLI exits 2 for an entry that does not pass (each key path printed), 1 for an unknown server, and the registry is unchanged', async () => {
    const bad = await cli(['servers', 'add', 'bad', '--config', configFile, '--path', 'nope', '--upstream', 'builtin:demo', '--dpop', 'sometimes']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('path: must start with "/"');
    expect(bad.stderr).toContain('dpop: expected one of disabled|allowed|required');
    const viaApi = await cli(['servers', 'add', 'bad', '--url', publicUrl, '--client-id', 'fleet-admin', '--client-secret', ADMIN_SECRET, '--path', '/mcp/x', '--upstream', 'builtin:demo']);
    expect(viaApi.code).toBe(2);
    expect(viaApi.stderr).toContain('path: "/mcp/x" overlaps server "demo"');
    const unknown = await cli(['servers', 'remove', 'nothing', '--config', configFile]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no server named "nothing"');
    const wrongSecret = await cli(['servers', 'list', '--url', publicUrl, '--client-id', 'fleet-admin', '--client-secret', 'wrong-secret-0123456789']);
    expect(wrongSecret.code).toBe(1);
    const usage = await cli(['servers', 'list']);
    expect(usage.code).toBe(1);
    const list = JSON.parse((await cli(['servers', 'list', '--config', configFile, '--json'])).stdout) as { servers: Array<{ name: string }> };
    expect(list.servers.map((s) => s.name)).toEqual(['demo']);
  }, 60_000);
});

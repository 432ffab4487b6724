/**
 * Every MCP protocol revision passes through the gateway: the MCP conformance suite's server
 * scenarios (`@modelcontextprotocol/conformance server --requirements <revision>`, the 2025-11-25
 * stateful and the 2026-07-28 stateless requirement sets, their not-scored scenarios included) give
 * the same result for every check through Warden's gateway as directly against the upstream — except
 * the SEP-2243 header checks the gateway enforces itself, which pass through it and fail directly.
 *
 * The upstream is the suite's own reference fixture (`test/conformance/everything-server.mts`,
 * vendored from the conformance repository: the npm package does not ship it), run twice — one
 * process per path — on the suite's Node 22. The suite cannot add a token, so a small forwarding
 * proxy in this file does: it adds `Authorization: Bearer` with a token from the stack's own
 * authorization server (client_credentials) and forwards everything else as it came, `Host`
 * included unless it names the proxy itself. Nothing in Warden knows about the test.
 *
 * Runtime (2 cores shared): each suite run takes ~7 s (2025-11-25) and ~12 s (2026-07-28) against
 * the fixture alone; the direct and gateway chains run side by side, so the file takes ~30 s.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/observability/logger.js';
import { startStack, type RunningStack } from '../../src/stack/index.js';
import { freePort } from '../helpers/free-port.js';
import { isCi } from '../helpers/services.js';

const RUNNER = fileURLToPath(new URL('../conformance/', import.meta.url));
const NODE22 = join(RUNNER, 'node_modules/node/bin/node');
const SUITE = join(RUNNER, 'node_modules/@modelcontextprotocol/conformance/dist/index.js');
const FIXTURE = join(RUNNER, 'everything-server.mts');
const REVISIONS = ['2025-11-25', '2026-07-28'] as const;
const CLIENT_ID = 'conformance-proxy';
const CLIENT_SECRET = 'conformance-proxy-secret-0123456789-abcdef';

const missing = !existsSync(NODE22) || !existsSync(SUITE);
if (missing && !isCi()) console.info('[warden tests] conformance server scenarios skipped: test/conformance is not installed (npm install --prefix test/conformance).');

/** One entry of a scenario's `checks.json`. */
interface Check {
  id: string;
  status: 'SUCCESS' | 'FAILURE' | 'WARNING' | 'SKIPPED' | 'INFO';
}
/** Scenario name → its checks as sorted `id: STATUS` lines (an id may occur more than once). */
type Results = Record<string, string[]>;

interface Fixture {
  url: string;
  child: ChildProcess;
  output: () => string;
}

/** Starts the reference fixture on a free loopback port and waits for the URL it prints. */
async function startFixture(): Promise<Fixture> {
  const child = spawn(NODE22, [FIXTURE], { cwd: RUNNER, env: { ...process.env, PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const found = /MCP endpoint: (http:\/\/127\.0\.0\.1:\d+\/mcp)/.exec(output);
      if (found) resolve(found[1]!);
    });
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the fixture exited (code ${code})\n${output}`)));
  });
  // Keep only the tail: the fixture logs every request.
  return { url, child, output: () => output.slice(-4000) };
}

async function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

/**
 * A forwarding proxy that adds `Authorization: Bearer <token>` and otherwise passes the request
 * and the (streamed) response through as they are. `Host` naming the proxy becomes the gateway's;
 * any other `Host` (a DNS-rebinding probe) is forwarded verbatim for the gateway to judge.
 */
async function startTokenProxy(target: URL, token: () => string): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const own = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    const headers: IncomingHttpHeaders = {};
    for (const [name, value] of Object.entries(req.headers)) if (!HOP_BY_HOP.has(name)) headers[name] = value;
    headers.host = req.headers.host === own ? target.host : req.headers.host;
    headers.authorization = `Bearer ${token()}`;
    const upstream = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers }, (answer) => {
      const out: Record<string, string | string[]> = {};
      for (const [name, value] of Object.entries(answer.headers)) if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
      res.writeHead(answer.statusCode ?? 502, out);
      res.flushHeaders();
      answer.pipe(res);
    });
    upstream.once('error', () => (res.headersSent ? res.destroy() : res.writeHead(502).end()));
    res.once('close', () => upstream.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}${target.pathname}`, server };
}

/** Runs one requirement set against `url` and reads every scenario's `checks.json`. */
async function runSuite(url: string, revision: string, outDir: string): Promise<{ results: Results; output: string }> {
  const args = [SUITE, 'server', '--url', url, '--requirements', revision, '-o', outDir];
  const output = await new Promise<string>((resolve, reject) => {
    const child = spawn(NODE22, args, { cwd: outDir, stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(child);
    let text = '';
    child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    child.once('error', reject);
    // The exit code says whether scored scenarios passed, not whether the run completed: the
    // checks below are the result.
    child.once('exit', () => {
      running.delete(child);
      resolve(text);
    });
  });
  const results: Results = {};
  for (const dir of await readdir(outDir)) {
    const scenario = dir.replace(/^server-/, '').replace(/-\d{4}-\d\d-\d\dT[\d-]+Z$/, '');
    const checks = JSON.parse(await readFile(join(outDir, dir, 'checks.json'), 'utf8')) as Check[];
    results[scenario] = checks.map((c) => `${c.id}: ${c.status}`).sort();
  }
  return { results, output };
}

/**
 * Checks the gateway passes where the fixture fails, because the gateway checks them itself: DESIGN's
 * "`Mcp-Method`/`Mcp-Name` must match the body" (SEP-2243, 2026-07-28), answered 400 with
 * JSON-RPC -32020 before the request reaches the upstream. Only these may differ, and only towards
 * SUCCESS.
 */
const CHECKED_BY_THE_GATEWAY = new Set(['sep-2243-server-reject-invalid-headers', 'sep-2243-server-reject-error-code', 'tasks-headers-reject-mismatched-method']);

/** Check id → its statuses in one scenario run, sorted (an id may occur more than once). */
function byId(lines: readonly string[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of lines) {
    const at = line.lastIndexOf(': ');
    const id = line.slice(0, at);
    out.set(id, [...(out.get(id) ?? []), line.slice(at + 2)].sort());
  }
  return out;
}

const count = (statuses: readonly string[], status: string) => statuses.filter((s) => s === status).length;

/**
 * Where the gateway's results differ from the direct ones, one line each — except a check the
 * gateway enforces itself that ran as often and only turned FAILURE/WARNING into SUCCESS.
 */
function differences(direct: Results, gateway: Results): string[] {
  const lines: string[] = [];
  for (const scenario of new Set([...Object.keys(direct), ...Object.keys(gateway)])) {
    const a = byId(direct[scenario] ?? []);
    const b = byId(gateway[scenario] ?? []);
    if (!(scenario in direct) || !(scenario in gateway)) lines.push(`${scenario}: run ${scenario in direct ? 'directly' : 'through the gateway'} only`);
    for (const id of new Set([...a.keys(), ...b.keys()])) {
      const x = a.get(id) ?? [];
      const y = b.get(id) ?? [];
      if (x.join() === y.join()) continue;
      const stricter =
        CHECKED_BY_THE_GATEWAY.has(id) &&
        x.length === y.length &&
        count(y, 'SUCCESS') > count(x, 'SUCCESS') &&
        ['FAILURE', 'WARNING', 'SKIPPED', 'INFO'].every((status) => count(y, status) <= count(x, status));
      if (!stricter) lines.push(`${scenario} ${id}: direct [${x.join(', ')}] gateway [${y.join(', ')}]`);
    }
  }
  return lines;
}

/** Checks that pass through the gateway and not directly, as `scenario id` (for the assertion that they exist). */
function gainedThroughGateway(direct: Results, gateway: Results): string[] {
  const gained: string[] = [];
  for (const [scenario, lines] of Object.entries(gateway)) {
    const a = byId(direct[scenario] ?? []);
    for (const [id, statuses] of byId(lines)) if (count(statuses, 'SUCCESS') > count(a.get(id) ?? [], 'SUCCESS')) gained.push(`${scenario} ${id}`);
  }
  return gained.sort();
}

const running = new Set<ChildProcess>();
let stack: RunningStack;
let direct: Fixture;
let behind: Fixture;
let proxy: Server;
let proxyUrl = '';
let outRoot = '';

describe.skipIf(missing && !isCi())('MCP conformance suite, server scenarios: the same results through the gateway as directly', () => {
  beforeAll(async () => {
    if (missing) throw new Error(`${NODE22} or ${SUITE} is missing (npm install --prefix test/conformance); CI is set, so this fails rather than skips`);
    [direct, behind, outRoot] = await Promise.all([startFixture(), startFixture(), mkdtemp(join(tmpdir(), 'warden-conformance-server-'))]);
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const config = resolveConfig(
      {
        publicUrl: base,
        storage: { kind: 'memory' },
        authorizationServer: { clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, grantTypes: ['client_credentials'], scope: 'mcp:tools' }] },
        resources: [{ name: 'everything', path: '/mcp', upstream: behind.url, dpop: 'allowed', scopes: { default: ['mcp:tools'] } }],
      },
      { env: {}, port },
    );
    stack = await startStack(config, { logger: createLogger({ write: () => {} }), registryPollMs: 0 });

    // OAuth 2.1 §4.2 (client credentials), RFC 8707 resource: a token for the gateway's resource.
    const response = await fetch(`${base}/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', resource: `${base}/mcp`, scope: 'mcp:tools' }).toString(),
    });
    expect(response.status).toBe(200);
    const { access_token: token } = (await response.json()) as { access_token: string };
    ({ url: proxyUrl, server: proxy } = await startTokenProxy(new URL(`${base}/mcp`), () => token));
  }, 60_000);

  afterAll(async () => {
    await Promise.all([...running].map(stopChild));
    if (proxy?.listening) {
      proxy.closeAllConnections();
      await new Promise((resolve) => proxy.close(resolve));
    }
    await stack?.close();
    await Promise.all([stopChild(direct?.child), stopChild(behind?.child)]);
    if (outRoot) await rm(outRoot, { recursive: true, force: true });
  });

  it(
    'MCP 2025-11-25 (stateful) and 2026-07-28 (stateless, per-request _meta): every check of every server scenario has the same status through the gateway as directly, but for the SEP-2243 header checks the gateway itself passes',
    { timeout: 240_000 },
    async () => {
      // Direct and gateway side by side, each on its own fixture process; the revisions one after
      // the other on each, so no two runs share a fixture's global state.
      const chain = async (url: string, label: string) => {
        const runs: Record<string, { results: Results; output: string }> = {};
        for (const revision of REVISIONS) {
          const outDir = join(outRoot, `${label}-${revision}`);
          await mkdir(outDir);
          runs[revision] = await runSuite(url, revision, outDir);
        }
        return runs;
      };
      const [straight, through] = await Promise.all([chain(direct.url, 'direct'), chain(proxyUrl, 'gateway')]);

      for (const revision of REVISIONS) {
        const a = straight[revision]!;
        const b = through[revision]!;
        // The direct run did run the set: the scenarios every revision scores are there and pass.
        const lifecycle = revision === '2025-11-25' ? 'server-initialize' : 'server-stateless';
        for (const scenario of [lifecycle, 'tools-list', 'resources-read-text', 'prompts-get-simple', 'dns-rebinding-protection']) {
          expect(a.results[scenario], `${revision} ${scenario} directly\n${a.output}`).toBeDefined();
          expect(a.results[scenario]!.every((line) => line.endsWith(': SUCCESS')), `${revision} ${scenario} directly: ${a.results[scenario]!.join(', ')}`).toBe(true);
        }
        expect(differences(a.results, b.results), `${revision}: checks that differ through the gateway\n${b.output.slice(-6000)}\n--- fixture behind the gateway ---\n${behind.output()}`).toEqual([]);
        // The stateful revision carries no Mcp-Method/Mcp-Name: there everything is identical.
        if (revision === '2025-11-25') expect(b.results).toEqual(a.results);
        else
          expect(gainedThroughGateway(a.results, b.results)).toEqual([
            'http-header-validation sep-2243-server-reject-error-code',
            'http-header-validation sep-2243-server-reject-invalid-headers',
            'tasks-request-headers tasks-headers-reject-mismatched-method',
          ]);
      }
    },
  );
});

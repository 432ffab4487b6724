/**
 * The `warden` executable as users and outside tests drive it: spawned from dist/ (the `npm test`
 * script builds first), talking HTTP to the real server.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../test/helpers/free-port.js';
import { cookiePair, csrfOf, pkcePair } from '../../test/helpers/login-flow.js';
import type { WardenStack } from '../../test/helpers/spawn-warden.js';

const BIN = resolve(dirname(fileURLToPath(import.meta.url)), '../../dist/cli/main.js');

/** The environment without WARDEN_* overrides from the developer's shell. */
const ENV = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('WARDEN_')));

interface Run {
  child: ChildProcessWithoutNullStreams;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

const children: ChildProcessWithoutNullStreams[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

function warden(args: string[], cwd?: string, stdin?: string): Run {
  const child = spawn(process.execPath, [BIN, ...args], { env: ENV, cwd: cwd ?? process.cwd() });
  if (stdin !== undefined) child.stdin.end(stdin);
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

/** Polls for stack.json; fails early (with stderr) if the process exits first. */
async function waitForStack(run: Run, stateDir: string, timeoutMs = 15_000): Promise<WardenStack> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (run.child.exitCode !== null) throw new Error(`warden exited with ${run.child.exitCode}: ${run.stderr()}`);
    try {
      return JSON.parse(await readFile(join(stateDir, 'stack.json'), 'utf8')) as never;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`no stack.json after ${timeoutMs} ms: ${run.stderr()}`);
}

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'warden-cli-'));
}

const CONFIG = `# warden serve test configuration
listen: { port: 4999 }
replay: { kind: memory }
storage: { kind: memory }
authorizationServer: { demo: true }
resources:
  - name: demo
    path: /mcp
    upstream: builtin:demo
    dpop: allowed
`;

beforeAll(() => {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run "npm run build" first (npm test does)`);
});

describe('warden serve', () => {
  it('serves the configured resources, writes stack.json, and exits 0 on SIGTERM', async () => {
    const dir = await tempDir();
    const stateDir = join(dir, 'state');
    await writeFile(join(dir, 'warden.yaml'), CONFIG);
    const run = warden(['serve', '--config', join(dir, 'warden.yaml'), '--port', '0', '--state-dir', stateDir]);
    const stack = await waitForStack(run, stateDir);

    const resource = stack.resources[0]!;
    expect(resource.name).toBe('demo');
    expect(resource.url).toMatch(/^http:\/\/localhost:\d+\/mcp$/);
    expect(resource.url).not.toContain(':0/');
    expect(resource.url).not.toContain(':4999/');
    expect(stack.issuer).toBe(new URL(resource.url).origin);
    expect(resource.metadataUrl).toBe(`${stack.issuer}/.well-known/oauth-protected-resource/mcp`);

    const metadata = await fetch(resource.metadataUrl);
    expect(metadata.status).toBe(200);
    expect(await metadata.json()).toMatchObject({ resource: resource.url, authorization_servers: [stack.issuer] });
    const service = stack.clients.find((c) => c.client_id === 'demo-service')!;
    expect(service.client_secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect((await fetch(`${stack.issuer}/.well-known/oauth-protected-resource`)).status).toBe(200);

    const call = (headers: Record<string, string>) =>
      fetch(resource.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
        body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'echo', arguments: { text: 'through warden' } } }),
      });
    const challenged = await call({});
    expect(challenged.status).toBe(401);
    expect(challenged.headers.get('www-authenticate')).toContain(`resource_metadata="${resource.metadataUrl}"`);

    const tokenRun = warden(['token', '--state-dir', stateDir]);
    expect(await tokenRun.exited).toBe(0);
    const token = tokenRun.stdout().trim();
    expect(token.split('.')).toHaveLength(3);
    expect(tokenRun.stdout()).toBe(`${token}\n`);

    const ok = await call({ authorization: `Bearer ${token}` });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ id: 7, result: { content: [{ type: 'text', text: 'through warden' }] } });

    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    const lines = run.stdout().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    // PRM, root PRM, the challenge; `warden token`: AS metadata, /token; then the call.
    expect(lines.filter((l) => l['msg'] === 'request').map((l) => [l['path'], l['status']])).toEqual([
      ['/.well-known/oauth-protected-resource/mcp', 200],
      ['/.well-known/oauth-protected-resource', 200],
      ['/mcp', 401],
      ['/.well-known/oauth-authorization-server', 200],
      ['/token', 200],
      ['/mcp', 200],
    ]);
    expect(lines.find((l) => l['msg'] === 'audit')).toMatchObject({ type: 'token.issued', clientId: 'demo-service' });
    expect(run.stdout()).not.toContain(token);
    expect(run.stdout()).not.toContain(token.split('.')[2]);
    expect(run.stdout()).not.toContain(service.client_secret);
  });

  it('exits 2 with the validation message on stderr for a bad config, without a stack trace', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'bad.yaml'), CONFIG.replace('dpop: allowed', 'dpop: yes'));
    const run = warden(['serve', '--config', join(dir, 'bad.yaml'), '--port', '0', '--state-dir', join(dir, 'state')]);
    expect(await run.exited).toBe(2);
    expect(run.stderr()).toContain('resources[0].dpop: expected one of disabled|allowed|required, got "yes"');
    expect(run.stderr()).not.toMatch(/\n\s+at /);
    expect(existsSync(join(dir, 'state', 'stack.json'))).toBe(false);
  });

  it('exits 2 for a JSON config with an unknown key, and for a missing file', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'warden.json'), JSON.stringify({ resources: [], listn: {} }));
    const unknown = warden(['serve', '--config', join(dir, 'warden.json'), '--port', '0', '--state-dir', dir]);
    expect(await unknown.exited).toBe(2);
    expect(unknown.stderr()).toContain('listn: unknown key (did you mean "listen"?');
    const missing = warden(['serve', '--config', join(dir, 'nope.yaml'), '--state-dir', dir]);
    expect(await missing.exited).toBe(2);
    expect(missing.stderr()).toContain('file not found');
  });

  it('exits 1 with a clear message when the port is in use', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    try {
      const dir = await tempDir();
      await writeFile(join(dir, 'warden.yaml'), CONFIG);
      const run = warden(['serve', '--config', join(dir, 'warden.yaml'), '--port', String(port), '--state-dir', dir]);
      expect(await run.exited).toBe(1);
      expect(run.stderr()).toContain(`port ${port} on 127.0.0.1 is already in use`);
      expect(run.stderr()).not.toMatch(/\n\s+at /);
    } finally {
      blocker.close();
    }
  });
});

/** Everything `warden start` prints after it is ready (the banner follows stack.json). */
async function banner(run: Run): Promise<string> {
  await expect.poll(() => run.stdout(), { timeout: 5_000 }).toContain('Press Ctrl+C to stop.');
  return run.stdout();
}

function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
}

function callTool(url: string, token: string, name = 'echo'): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: { text: 'hi' } } }),
  });
}

async function postForm(url: string, fields: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(fields).toString() });
}

describe('warden start', () => {
  it('runs the built-in stack with the AS, prints the demo credentials and a working client_credentials curl, and exits 0 on SIGINT', async () => {
    const stateDir = join(await tempDir(), 'state');
    const run = warden(['start', '--port', '0', '--state-dir', stateDir]);
    const stack = await waitForStack(run, stateDir);
    expect(stack.resources.map((r) => r.name)).toEqual(['demo']);
    const url = stack.resources[0]!.url;
    const user = stack.users[0]!;
    const service = stack.clients.find((c) => c.client_id === 'demo-service')!;
    expect(stack.users).toEqual([{ username: 'demo', password: expect.any(String) }]);
    expect(stack.clients.map((c) => [c.client_id, c.grant_types])).toEqual([
      ['demo-service', ['client_credentials']],
      ['demo-cli', ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code']],
    ]);

    const out = await banner(run);
    expect(out).toContain(`MCP server     ${url}`);
    expect(out).toContain(stack.resources[0]!.metadataUrl);
    expect(out).toContain(`Issuer         ${stack.issuer}`);
    expect(out).toContain(`AS metadata    ${stack.issuer}/.well-known/oauth-authorization-server`);
    expect(out).toContain(`${user.username} / ${user.password}`);
    expect(out).toContain(`client_id demo-service, client_secret ${service.client_secret}`);
    expect(out).toContain(`curl -s -u demo-service:${service.client_secret}`);
    expect(out).toContain(`--data-urlencode resource=${url} -d scope=mcp:tools`);
    expect(out).toContain(`${stack.issuer}/token`);
    expect(out).toContain(`token --state-dir ${stateDir}`);
    expect(out).toContain('demo-cli');
    expect(out).toContain('dynamic registration');
    // First run: the next command, and a client configuration that parses as printed.
    expect(out).toContain(`demo-client --state-dir ${stateDir}`);
    const pasted = /the "mcpServers" shape most clients read\):\n((?:  .*\n)+?)It finds/.exec(out)?.[1] ?? '';
    expect(JSON.parse(pasted)).toEqual({ mcpServers: { 'warden-demo': { type: 'http', url } } });

    // What the printed curl sends, then the printed tools/call.
    const issued = await postForm(
      `${stack.issuer}/token`,
      { grant_type: 'client_credentials', resource: url, scope: 'mcp:tools' },
      { authorization: `Basic ${Buffer.from(`demo-service:${service.client_secret!}`).toString('base64')}` },
    );
    expect(issued.status).toBe(200);
    const printed = ((await issued.json()) as { access_token: string }).access_token;
    expect((await callTool(url, printed)).status).toBe(200);

    const tokenRun = warden(['token', '--state-dir', stateDir]);
    expect(await tokenRun.exited).toBe(0);
    const token = tokenRun.stdout().trim();
    expect(claimsOf(token)).toMatchObject({ iss: stack.issuer, aud: url, scope: 'mcp:tools', sub: 'demo-service', client_id: 'demo-service' });
    expect((await callTool(url, token)).status).toBe(200);
    expect((await callTool(url, token, 'admin_reset')).status).toBe(403);

    const admin = warden(['token', '--state-dir', stateDir, '--scope', 'mcp:tools mcp:admin']);
    expect(await admin.exited).toBe(1);
    expect(admin.stderr()).toMatch(/^warden: the authorization server refused the token request \(invalid_scope: /);
    expect(admin.stdout()).toBe('');

    // Rotation while running: the stack keeps serving both the old token and new ones.
    const rotate = warden(['keys', 'rotate', '--state-dir', stateDir]);
    expect(await rotate.exited).toBe(0);
    expect(rotate.stdout()).toMatch(/^rotated the signing keys in /);
    const afterRotation = warden(['token', '--state-dir', stateDir]);
    expect(await afterRotation.exited).toBe(0);
    expect((await callTool(url, afterRotation.stdout().trim())).status).toBe(200);
    expect((await callTool(url, token)).status).toBe(200);

    run.child.kill('SIGINT');
    expect(await run.exited).toBe(0);
    expect(existsSync(join(stateDir, 'stack.json'))).toBe(false);
  });

  it('survives a restart: registered client, refresh token, remembered consent and demo credentials', async () => {
    const stateDir = join(await tempDir(), 'state');
    const port = await freePort();
    const first = warden(['start', '--port', String(port), '--state-dir', stateDir]);
    const stack = await waitForStack(first, stateDir);
    const issuer = stack.issuer;
    const resource = stack.resources[0]!.url;
    const user = stack.users[0]!;
    const redirectUri = 'http://127.0.0.1:9/callback';

    // RFC 7591 dynamic registration of a public client.
    const registered = await fetch(`${issuer}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ redirect_uris: [redirectUri], token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], client_name: 'Restart test' }),
    });
    expect(registered.status).toBe(201);
    const clientId = ((await registered.json()) as { client_id: string }).client_id;

    /** /authorize → sign in (→ consent, first time) → code → tokens. Returns the token response and whether consent was asked. */
    const authorize = async (): Promise<{ tokens: Record<string, unknown>; consentAsked: boolean }> => {
      const { verifier, challenge } = pkcePair();
      const query = new URLSearchParams({ response_type: 'code', client_id: clientId, redirect_uri: redirectUri, code_challenge: challenge, code_challenge_method: 'S256', resource, scope: 'mcp:tools', state: 'st' });
      const start = await fetch(`${issuer}/authorize?${query}`, { redirect: 'manual' });
      expect(start.status).toBe(303);
      const interaction = new URL(start.headers.get('location')!, issuer).href;
      const loginPage = await fetch(interaction);
      expect(loginPage.status).toBe(200);
      let res = await postForm(interaction, { csrf: csrfOf(await loginPage.text()), action: 'login', username: user.username, password: user.password });
      const consentAsked = res.status === 200;
      if (consentAsked) {
        const cookie = cookiePair(res.headers.get('set-cookie') ?? '');
        res = await postForm(interaction, { csrf: csrfOf(await res.text()), action: 'allow' }, { cookie });
      }
      expect(res.status).toBe(303);
      const back = new URL(res.headers.get('location')!);
      expect(`${back.origin}${back.pathname}`).toBe(redirectUri);
      expect(back.searchParams.get('iss')).toBe(issuer);
      const code = back.searchParams.get('code')!;
      const tokenRes = await postForm(`${issuer}/token`, { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: redirectUri, client_id: clientId, resource });
      expect(tokenRes.status).toBe(200);
      return { tokens: (await tokenRes.json()) as Record<string, unknown>, consentAsked };
    };

    const firstFlow = await authorize();
    expect(firstFlow.consentAsked).toBe(true);
    const refreshToken = firstFlow.tokens['refresh_token'] as string;
    expect(typeof refreshToken).toBe('string');
    expect((await callTool(resource, firstFlow.tokens['access_token'] as string)).status).toBe(200);

    first.child.kill('SIGINT');
    expect(await first.exited).toBe(0);

    const second = warden(['start', '--port', String(port), '--state-dir', stateDir]);
    const again = await waitForStack(second, stateDir);
    expect(again.users).toEqual(stack.users);
    expect(again.clients).toEqual(stack.clients);

    // The refresh token (rotated, HMAC'd successor) still refreshes after the restart.
    const refreshed = await postForm(`${issuer}/token`, { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: clientId });
    expect(refreshed.status).toBe(200);
    const refreshedBody = (await refreshed.json()) as Record<string, unknown>;
    expect(refreshedBody['refresh_token']).not.toBe(refreshToken);
    expect((await callTool(resource, refreshedBody['access_token'] as string)).status).toBe(200);

    // The registered client still exists, and the consent is remembered: no consent page this time.
    const secondFlow = await authorize();
    expect(secondFlow.consentAsked).toBe(false);

    second.child.kill('SIGINT');
    expect(await second.exited).toBe(0);
  });
});

describe('warden token', () => {
  it('exits 1 with advice when no stack has run in the state directory', async () => {
    const dir = await tempDir();
    const run = warden(['token', '--state-dir', dir]);
    expect(await run.exited).toBe(1);
    expect(run.stderr()).toContain('no running stack found');
    expect(run.stdout()).toBe('');
  });

  it('exits 1 saying the stack is not answering when stack.json is left over', async () => {
    const dir = await tempDir();
    const port = await freePort();
    const issuer = `http://127.0.0.1:${port}`;
    await writeFile(
      join(dir, 'stack.json'),
      JSON.stringify({ issuer, resources: [{ name: 'demo', url: `${issuer}/mcp`, metadataUrl: '' }], clients: [{ client_id: 'demo-service', client_secret: 'x'.repeat(43), grant_types: ['client_credentials'] }], users: [] }),
    );
    const run = warden(['token', '--state-dir', dir]);
    expect(await run.exited).toBe(1);
    expect(run.stderr()).toContain(`is not answering at ${issuer}`);
    expect(run.stderr()).toContain('is it still running?');
    expect(run.stderr()).not.toContain('x'.repeat(43));
  });

  it('describes itself as a client of the running stack in --help', async () => {
    const run = warden(['token', '--help']);
    expect(await run.exited).toBe(0);
    expect(run.stdout()).toContain('client_credentials');
    expect(run.stdout()).toContain('stack.json');
  });
});

describe('warden users, keys, consents', () => {
  it('manage the store of a configuration file; exit 1 for a refused operation, 2 for a bad configuration', async () => {
    const dir = await tempDir();
    const config = join(dir, 'warden.json');
    await writeFile(config, JSON.stringify({ storage: { kind: 'sqlite', path: join(dir, 'warden.db') }, resources: [{ name: 'demo', path: '/mcp', upstream: 'builtin:demo' }] }));
    const add = warden(['users', 'add', 'alice', '--password-stdin', '--config', config], undefined, 'correct horse battery staple\n');
    expect(await add.exited).toBe(0);
    expect(add.stdout()).toBe('added user alice\n');
    const generated = warden(['users', 'add', 'bob', '--config', config]);
    expect(await generated.exited).toBe(0);
    expect(generated.stdout()).toMatch(/^added user bob\npassword: [A-Za-z0-9_-]{24}\n/);
    const list = warden(['users', 'list', '--config', config]);
    expect(await list.exited).toBe(0);
    expect(list.stdout()).toBe('alice\nbob\n');
    const remove = warden(['users', 'remove', 'bob', '--config', config]);
    expect(await remove.exited).toBe(0);
    const again = warden(['users', 'remove', 'bob', '--config', config]);
    expect(await again.exited).toBe(1);
    expect(again.stderr()).toBe('warden: no user "bob"\n');

    const rotate = warden(['keys', 'rotate', '--config', config]);
    expect(await rotate.exited).toBe(0);
    const consent = warden(['consents', 'revoke', '--user', 'alice', '--client', 'app', '--config', config]);
    expect(await consent.exited).toBe(1);
    expect(consent.stderr()).toContain('no remembered consent of user alice for client app');

    await writeFile(join(dir, 'bad.json'), JSON.stringify({ authorizationServer: { secret: 'short' } }));
    const bad = warden(['users', 'list', '--config', join(dir, 'bad.json')]);
    expect(await bad.exited).toBe(2);
    expect(bad.stderr()).toContain('authorizationServer.secret: must be at least 32 characters');
  });
});

describe('usage errors (DESIGN: exit 2)', () => {
  it('an unknown command, an unknown flag and a missing argument exit 2; --help exits 0', async () => {
    for (const args of [['bogus'], ['serve', '--no-such-flag'], ['users', 'add']]) {
      const run = warden(args);
      expect(await run.exited, args.join(' ')).toBe(2);
      expect(run.stderr()).toContain('(run with --help for usage)');
    }
    expect(await warden(['--help']).exited).toBe(0);
  });
});

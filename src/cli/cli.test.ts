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

function warden(args: string[], cwd?: string): Run {
  const child = spawn(process.execPath, [BIN, ...args], { env: ENV, cwd: cwd ?? process.cwd() });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

/** Polls for stack.json; fails early (with stderr) if the process exits first. */
async function waitForStack(run: Run, stateDir: string, timeoutMs = 15_000): Promise<{ issuer: string; resources: Array<{ name: string; url: string; metadataUrl: string }> }> {
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
    expect(lines.filter((l) => l['msg'] === 'request').map((l) => l['status'])).toEqual([200, 200, 401, 200]);
    expect(run.stdout()).not.toContain(token);
    expect(run.stdout()).not.toContain(token.split('.')[2]);
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

describe('warden start', () => {
  it('runs the built-in stack, prints how to connect, and exits 0 on SIGINT', async () => {
    const stateDir = join(await tempDir(), 'state');
    const run = warden(['start', '--port', '0', '--state-dir', stateDir]);
    const stack = await waitForStack(run, stateDir);
    expect(stack.resources.map((r) => r.name)).toEqual(['demo']);
    const url = stack.resources[0]!.url;
    await expect.poll(() => run.stdout()).toContain(`MCP server   ${url}`);
    expect(run.stdout()).toContain(stack.resources[0]!.metadataUrl);
    expect(run.stdout()).toContain(`token --state-dir ${stateDir}`);
    expect(run.stdout()).toContain('curl');

    const admin = warden(['token', '--state-dir', stateDir, '--scope', 'mcp:tools mcp:admin', '--sub', 'alice', '--client-id', 'cli-2', '--lifetime', '60']);
    expect(await admin.exited).toBe(0);
    const claims = JSON.parse(Buffer.from(admin.stdout().trim().split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
    expect(claims).toMatchObject({ iss: stack.issuer, aud: url, scope: 'mcp:tools mcp:admin', sub: 'alice', client_id: 'cli-2' });
    expect((claims['exp'] as number) - (claims['iat'] as number)).toBe(60);

    run.child.kill('SIGINT');
    expect(await run.exited).toBe(0);
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

  it('says it is a development tool in --help', async () => {
    const run = warden(['token', '--help']);
    expect(await run.exited).toBe(0);
    expect(run.stdout()).toContain('DEVELOPMENT TOOL');
  });

  it('rejects a malformed --jkt and --lifetime', async () => {
    const bad = warden(['token', '--lifetime', '0']);
    expect(await bad.exited).toBe(1);
    expect(bad.stderr()).toContain('positive whole number of seconds');
    const dir = await tempDir();
    const jkt = warden(['token', '--state-dir', dir, '--issuer', 'http://localhost:1', '--resource', 'http://localhost:1/mcp', '--jkt', 'not-a-thumbprint']);
    expect(await jkt.exited).toBe(1);
    expect(jkt.stderr()).toContain('jkt: expected the base64url SHA-256 JWK thumbprint');
  });
});

/**
 * `warden health` and `/readyz`: liveness and readiness of a running stack, as a container health
 * check and an orchestrator's probes use them. The stack is real (in-process, memory stores, or a
 * real redis-server that the test stops); the command is the built executable.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../config/load.js';
import { createLogger } from '../observability/logger.js';
import { startStack, type RunningStack } from '../stack/stack.js';
import { freePort } from '../../test/helpers/free-port.js';
import { hasRedisServerBinary, RedisServerProcess } from '../../test/helpers/redis-server.js';
import { healthCommand, HealthUsageError } from './health.js';

const BIN = resolve(dirname(fileURLToPath(import.meta.url)), '../../dist/cli/main.js');
const ENV = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('WARDEN_')));
const quiet = createLogger({ write: () => undefined });

function warden(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...ENV, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

async function memoryStack(): Promise<RunningStack> {
  const config = resolveConfig({ storage: { kind: 'memory' }, resources: [{ name: 'demo', path: '/mcp', upstream: 'builtin:demo' }] }, { env: {} });
  return startStack(config, { port: 0, logger: quiet });
}

describe('/healthz and /readyz', () => {
  let stack: RunningStack;
  beforeAll(async () => {
    stack = await memoryStack();
  });
  afterAll(() => stack.close());

  it('/healthz stays what it was: 200 {"status":"ok"}, no store asked', async () => {
    const res = await fetch(`${stack.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('/readyz: 200 with every store the stack uses checked', async () => {
    const res = await fetch(`${stack.url}/readyz`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.json()).toEqual({ status: 'ready', checks: { replay: 'ok', sessions: 'ok', storage: 'ok' } });
  });

  it('config: a resource cannot take /readyz', () => {
    expect(() => resolveConfig({ resources: [{ name: 'r', path: '/readyz', upstream: 'builtin:demo' }] }, { env: {} })).toThrow(/\/readyz is reserved/);
  });
});

describe.skipIf(!hasRedisServerBinary())('/readyz with Redis stopped (own redis-server)', () => {
  let redis: RedisServerProcess;
  let stack: RunningStack | undefined;
  beforeAll(async () => {
    redis = await RedisServerProcess.start();
  });
  afterAll(async () => {
    await stack?.close();
    await redis?.kill();
  });

  it('503 with Retry-After naming the replay and session stores, while /healthz stays 200; ready again when Redis is back', async () => {
    const config = resolveConfig({ storage: { kind: 'memory' }, replay: { kind: 'redis', url: redis.url }, resources: [{ name: 'demo', path: '/mcp', upstream: 'builtin:demo' }] }, { env: {} });
    stack = await startStack(config, { port: 0, logger: quiet });
    expect((await fetch(`${stack.url}/readyz`)).status).toBe(200);
    await redis.kill();
    const down = await fetch(`${stack.url}/readyz`);
    expect(down.status).toBe(503);
    expect(down.headers.get('retry-after')).toBe('1');
    expect(await down.json()).toEqual({ status: 'unavailable', checks: { replay: 'unavailable', sessions: 'unavailable', storage: 'ok' } });
    expect((await fetch(`${stack.url}/healthz`)).status).toBe(200);
    expect((await healthCommand({ url: stack.url, ready: true }, {})).healthy).toBe(false);
    expect((await healthCommand({ url: stack.url }, {})).healthy).toBe(true);
    await redis.start();
    let ready = false;
    for (let i = 0; i < 100 && !ready; i += 1) {
      ready = (await fetch(`${stack.url}/readyz`)).status === 200;
      if (!ready) await new Promise((r) => setTimeout(r, 100));
    }
    expect(ready).toBe(true);
  }, 30_000);
});

describe('healthCommand', () => {
  let stack: RunningStack;
  let dir: string;
  beforeAll(async () => {
    stack = await memoryStack();
    dir = await mkdtemp(join(tmpdir(), 'warden-health-'));
  });
  afterAll(async () => {
    await stack.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('healthy via --url (only the origin is used), WARDEN_PUBLIC_URL, WARDEN_PORT and --config (its listen address)', async () => {
    const port = stack.config.listen.port;
    expect(await healthCommand({ url: `${stack.url}/some/path?x=1` }, {})).toMatchObject({ healthy: true, message: expect.stringMatching(/^healthy: http:\/\/localhost:\d+\/healthz answered ok/) });
    expect((await healthCommand({}, { WARDEN_PUBLIC_URL: stack.url })).healthy).toBe(true);
    expect((await healthCommand({}, { WARDEN_PORT: String(port) })).healthy).toBe(true);
    const file = join(dir, 'warden.yaml');
    await writeFile(file, `listen: { host: 0.0.0.0, port: ${port} }\nstorage: { kind: memory }\n`);
    expect((await healthCommand({ config: file }, {})).healthy).toBe(true);
    expect((await healthCommand({ config: file, ready: true }, {})).message).toMatch(/\/readyz answered ready/);
  });

  it('unhealthy when nothing listens, without throwing', async () => {
    const port = await freePort();
    expect(await healthCommand({ url: `http://127.0.0.1:${port}` }, {})).toEqual({ healthy: false, message: `unhealthy: http://127.0.0.1:${port}/healthz unreachable` });
  });

  it('usage errors when it cannot tell where the stack is, or the URL is not http(s) — never echoing credentials', async () => {
    await expect(healthCommand({}, {})).rejects.toBeInstanceOf(HealthUsageError);
    await expect(healthCommand({ url: 'redis://u:hunter2@x' }, {})).rejects.toThrow(/^--url: expected an http\(s\) URL/);
    await expect(healthCommand({ url: 'redis://u:hunter2@x' }, {})).rejects.not.toThrow(/hunter2/);
  });
});

describe.skipIf(!existsSync(BIN))('warden health (the executable): exit codes for a container health check', () => {
  let stack: RunningStack;
  beforeAll(async () => {
    stack = await memoryStack();
  });
  afterAll(() => stack.close());

  it('0 healthy, 1 unreachable, 2 usage (no target, bad option value, unknown option)', async () => {
    const ok = await warden(['health', '--url', stack.url]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^healthy: /);
    expect((await warden(['health', '--ready'], { WARDEN_PORT: String(stack.config.listen.port) })).code).toBe(0);
    const down = await warden(['health', '--url', `http://127.0.0.1:${await freePort()}`, '--timeout', '500']);
    expect(down.code).toBe(1);
    expect(down.stdout).toMatch(/^unhealthy: .* unreachable/);
    const none = await warden(['health']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/say which stack to check/);
    expect((await warden(['health', '--url', stack.url, '--timeout', 'soon'])).code).toBe(2);
    expect((await warden(['health', '--bogus'])).code).toBe(2);
  }, 30_000);
});

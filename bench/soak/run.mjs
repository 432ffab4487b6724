// A soak run: three `warden serve` instances behind HAProxy, sharing a PostgreSQL and a Redis that
// this run starts (and restarts), under mixed traffic for a while, with one fault of each kind:
// a signing-key rotation, an instance SIGKILLed and restarted, Redis restarted, PostgreSQL
// restarted. Returns the analysis (see report.mjs) and writes report.md, report.json and soak.svg.
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { soakSvg } from './plot.mjs';
import { analyse, markdown } from './report.mjs';
import { createProcessGroup, freePort, missingComponents, startHaproxy, startPostgres, startRedis, wardenCommand, wardenInstance } from './services.mjs';
import { createTrafficContext, finalCheck, replayLoop, userLoop } from './traffic.mjs';

const ROOT = resolve(fileURLToPath(new URL('../../', import.meta.url)));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** When each fault happens, as a fraction of the run. */
export const FAULT_SCHEDULE = Object.freeze([
  { name: 'key rotation', at: 0.15 },
  { name: 'instance SIGKILL + restart', at: 0.35 },
  { name: 'Redis restart', at: 0.55 },
  { name: 'PostgreSQL restart', at: 0.75 },
]);

export { missingComponents };

/**
 * What a soak run starts, as data: `deploy/compose.yaml` must describe the same topology (checked
 * by test/e2e/deploy-files.test.ts), so the deployment is the one the soak proves.
 */
export const SOAK_TOPOLOGY = Object.freeze({
  loadBalancer: 'haproxy',
  /** Relative to the repository root; the compose file mounts the same directory. */
  haproxyDir: 'deploy/haproxy',
  instances: 3,
  command: Object.freeze(['serve', '--config']),
  storage: 'postgres',
  replay: 'redis',
});

/**
 * Runs the soak.
 *
 * @param {object} options
 * @param {number} [options.durationSeconds=300]
 * @param {number} [options.users=6] legitimate users (each its own client, DPoP key and account)
 * @param {number} [options.instances=3]
 * @param {number} [options.downSeconds=3] how long Redis and PostgreSQL stay down
 * @param {string} [options.outDir] where report.md, report.json, soak.svg and the logs go (default: a temp dir)
 * @param {(line: string) => void} [options.log] progress lines
 */
export async function runSoak(options = {}) {
  const durationSeconds = options.durationSeconds ?? 300;
  const users = options.users ?? 6;
  const instanceCount = options.instances ?? SOAK_TOPOLOGY.instances;
  const downMs = (options.downSeconds ?? 3) * 1000;
  const log = options.log ?? (() => undefined);
  const cli = options.cli ?? join(ROOT, 'dist/cli/main.js');
  const missing = missingComponents();
  if (missing.length > 0) throw new Error(`soak needs: ${missing.join(', ')}`);

  const work = await mkdtemp(join(tmpdir(), 'warden-soak-'));
  // PostgreSQL runs as its own user (when this is root) and must reach its directory inside.
  await chmod(work, 0o711);
  const outDir = options.outDir ?? join(work, 'report');
  await mkdir(outDir, { recursive: true });
  const group = createProcessGroup();
  const started = new Date();
  let traffic;
  const services = [];
  try {
    log('starting PostgreSQL (initdb), Redis, Warden instances and HAProxy');
    const pg = await startPostgres(group, join(work, 'pg'));
    services.push(pg);
    const redis = await startRedis(group, work);
    services.push(redis);
    const lbPort = await freePort();
    const publicUrl = `http://127.0.0.1:${lbPort}`;
    const configFile = join(work, 'warden.json');
    await writeFile(
      configFile,
      JSON.stringify(
        {
          publicUrl,
          listen: { host: '127.0.0.1', port: 0 },
          storage: { kind: SOAK_TOPOLOGY.storage, url: pg.url, schema: 'warden_soak' },
          replay: { kind: SOAK_TOPOLOGY.replay, url: redis.url },
          authorizationServer: {
            secret: randomBytes(48).toString('base64url'),
            clients: [{ clientId: 'soak-cli', clientName: 'Soak client', redirectUris: ['http://127.0.0.1/callback'] }],
          },
          resources: [{ name: 'demo', path: '/mcp', upstream: 'builtin:demo', dpop: 'required' }],
        },
        null,
        2,
      ),
    );
    // One account per user: every sign-in is one of an account's limited password attempts.
    const accounts = Array.from({ length: users }, (_, i) => ({ user: `soak-user-${i + 1}`, password: randomBytes(18).toString('base64url') }));
    const addUser = (a) => wardenCommand(cli, ['users', 'add', a.user, '--password-stdin', '--config', configFile], { input: `${a.password}\n` });
    await addUser(accounts[0]); // creates the schema
    await Promise.all(accounts.slice(1).map(addUser));

    const instances = [];
    for (let i = 0; i < instanceCount; i += 1) {
      const instance = wardenInstance(group, { cli, command: SOAK_TOPOLOGY.command, configFile, port: await freePort(), dir: outDir, name: `warden${i + 1}` });
      await instance.start();
      instances.push(instance);
    }
    services.push(...instances);
    const lb = await startHaproxy(group, outDir, { haproxyDir: join(ROOT, SOAK_TOPOLOGY.haproxyDir), port: lbPort, servers: instances.map((i) => i.address) });
    services.push(lb);

    const metadata = await (await fetch(`${publicUrl}/.well-known/oauth-authorization-server`)).json();
    traffic = createTrafficContext({ base: publicUrl, resource: `${publicUrl}/mcp`, tokenEndpoint: metadata.token_endpoint, authorizationEndpoint: metadata.authorization_endpoint });
    const ctx = traffic;
    log(`traffic for ${durationSeconds} s: ${users} users + 1 attacker through ${publicUrl}`);
    const flowEverySeconds = Math.max(45, durationSeconds / 6);
    const loops = accounts.map((a) => userLoop(ctx, { ...a, clientId: 'soak-cli', redirectUri: 'http://127.0.0.1/callback' }, { flowEverySeconds }));
    const attacker = replayLoop(ctx);

    const faults = [];
    const inject = {
      'key rotation': async (f) => {
        await wardenCommand(cli, ['keys', 'rotate', '--config', configFile]);
        f.restored = ctx.now();
      },
      'instance SIGKILL + restart': async (f) => {
        const victim = instances[1 % instances.length];
        await victim.kill();
        await victim.start();
        f.restored = ctx.now();
        f.outage = true;
      },
      'Redis restart': async (f) => {
        f.outage = true;
        await redis.crash();
        await sleep(downMs);
        await redis.start();
        f.restored = ctx.now();
      },
      'PostgreSQL restart': async (f) => {
        f.outage = true;
        await pg.crash();
        await sleep(downMs);
        await pg.start();
        f.restored = ctx.now();
      },
    };
    for (const { name, at } of FAULT_SCHEDULE) {
      const due = at * durationSeconds * 1000;
      if (ctx.now() < due) await sleep(due - ctx.now());
      const fault = { name, start: ctx.now(), outage: false };
      faults.push(fault);
      log(`fault at ${(fault.start / 1000).toFixed(1)} s: ${name}`);
      await inject[name](fault);
      log(`  restored after ${((fault.restored - fault.start) / 1000).toFixed(1)} s`);
    }
    const end = durationSeconds * 1000;
    if (ctx.now() < end) await sleep(end - ctx.now());
    ctx.running = false;
    const clients = await Promise.all(loops);
    await attacker;
    const durationMs = ctx.now();
    log('final check: every grant still refreshes and calls a tool');
    const finalChecks = await Promise.all(clients.map((c) => finalCheck(ctx, c)));

    const result = analyse({ ctx, faults: faults.map((f) => ({ ...f })), durationMs, finalChecks });
    const meta = {
      durationSeconds,
      users,
      instances: instanceCount,
      when: started.toISOString(),
      machine: `${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, Node ${process.version}, load average at end ${loadavg().map((l) => l.toFixed(2)).join(' ')}`,
    };
    const faultMarks = faults.map((f) => ({ name: f.name, start: f.start / 1000, restored: (f.restored ?? f.start) / 1000 }));
    await writeFile(join(outDir, 'soak.svg'), soakSvg({ title: `Warden soak: ${instanceCount} instances, ${users} users, ${durationSeconds} s (${result.passed ? 'passed' : 'FAILED'})`, buckets: result.buckets, faults: faultMarks }));
    await writeFile(join(outDir, 'report.md'), markdown(result, meta));
    await writeFile(join(outDir, 'report.json'), JSON.stringify({ meta, faults, ...result }, null, 2));
    return { ...result, meta, outDir };
  } finally {
    if (traffic) traffic.running = false;
    for (const service of services.reverse()) await service.stop().catch(() => undefined);
    group.dispose();
    if (!options.keepWorkDir) await rm(work, { recursive: true, force: true }).catch(() => undefined);
  }
}

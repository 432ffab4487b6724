// The real components of the soak, each a child process this run owns: PostgreSQL (a throw-away
// cluster made with initdb), Redis, HAProxy and the Warden instances. Every child is registered,
// and killed by its own pid whenever the run ends — normally, on error, or on a signal.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { accessSync, chownSync, constants, createWriteStream, existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import { join } from 'node:path';

export const HAPROXY_BIN = process.env.WARDEN_SOAK_HAPROXY ?? '/usr/sbin/haproxy';
export const REDIS_SERVER_BIN = process.env.WARDEN_REDIS_SERVER_BIN ?? '/usr/bin/redis-server';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The directory of PostgreSQL's server binaries (initdb, postgres), newest version first. */
export function postgresBinDir() {
  if (process.env.WARDEN_SOAK_PG_BIN) return process.env.WARDEN_SOAK_PG_BIN;
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
  return versions.map((v) => join(root, v, 'bin')).find((dir) => existsSync(join(dir, 'initdb')));
}

function executable(path) {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** What is missing for a soak run on this machine (empty when everything is there). */
export function missingComponents() {
  const missing = [];
  if (!executable(HAPROXY_BIN)) missing.push(`haproxy (${HAPROXY_BIN}; apt-get install haproxy)`);
  if (!executable(REDIS_SERVER_BIN)) missing.push(`redis-server (${REDIS_SERVER_BIN}; apt-get install redis-server)`);
  if (postgresBinDir() === undefined) missing.push('PostgreSQL server binaries (initdb, postgres; apt-get install postgresql)');
  return missing;
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** True once something accepts TCP connections on `port`. */
function accepts(port) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

async function waitFor(what, check, timeoutMs, child) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child && (child.exitCode !== null || child.signalCode !== null)) throw new Error(`${what} exited while starting (see its log)`);
    if (await check()) return;
    await sleep(50);
  }
  throw new Error(`${what} not ready after ${timeoutMs} ms`);
}

/** The run's children, killed together. */
export function createProcessGroup() {
  const live = new Set();
  const killAll = () => {
    for (const child of live) {
      try {
        child.kill('SIGKILL');
      } catch {
        // Already gone.
      }
    }
  };
  process.on('exit', killAll);
  return {
    /** Spawns `command` with stdout and stderr appended to `logFile`; resolves the child. */
    spawn(command, args, { logFile, env, cwd } = {}) {
      const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env }, cwd });
      live.add(child);
      if (logFile) {
        const log = createWriteStream(logFile, { flags: 'a' });
        child.stdout.pipe(log, { end: false });
        child.stderr.pipe(log, { end: false });
        child.once('close', () => log.end());
      } else {
        child.stdout.resume();
        child.stderr.resume();
      }
      child.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
      child.once('exit', () => live.delete(child));
      return child;
    },
    /** Sends `signal` and waits for the exit (SIGKILL after `graceMs`). */
    async stop(child, signal = 'SIGTERM', graceMs = 5000) {
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await child.exited;
      clearTimeout(timer);
    },
    killAll,
    dispose() {
      killAll();
      process.off('exit', killAll);
    },
  };
}

/**
 * A throw-away PostgreSQL cluster on a free port: initdb (trust auth, loopback only), then the
 * `postgres` server as a child — run as the `postgres` user when this process is root, since
 * PostgreSQL refuses to run as root. Restartable (`crash()` = SIGQUIT, an immediate shutdown).
 */
export async function startPostgres(group, dir) {
  const bin = postgresBinDir();
  if (!bin) throw new Error('PostgreSQL server binaries not found (apt-get install postgresql)');
  const port = await freePort();
  const dataDir = join(dir, 'pgdata');
  const socketDir = join(dir, 'pgsocket');
  await mkdir(socketDir, { recursive: true });
  const root = process.getuid?.() === 0;
  let asUser = [];
  if (root) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    chownSync(dir, uid, gid);
    chownSync(socketDir, uid, gid);
    asUser = ['/usr/bin/setpriv', `--reuid=${uid}`, `--regid=${gid}`, '--clear-groups', '--'];
  }
  const run = (command, args) => (root ? [asUser[0], [...asUser.slice(1), command, ...args]] : [command, args]);
  const [initCmd, initArgs] = run(join(bin, 'initdb'), ['-D', dataDir, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8', '--locale', 'C']);
  const init = spawnSync(initCmd, initArgs, { encoding: 'utf8' });
  if (init.status !== 0) throw new Error(`initdb failed: ${(init.stderr || init.stdout).trim().split('\n').slice(-3).join(' | ')}`);
  let child;
  const logFile = join(dir, 'postgres.log');
  const pg = {
    port,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async start() {
      // fsync off: a killed server loses nothing the OS already has; this is a test cluster.
      const [cmd, args] = run(join(bin, 'postgres'), ['-D', dataDir, '-p', String(port), '-k', socketDir, '-h', '127.0.0.1', '-c', 'fsync=off', '-c', 'max_connections=200']);
      child = group.spawn(cmd, args, { logFile });
      await waitFor('PostgreSQL', async () => (await accepts(port)) && isReady(bin, port), 30_000, child);
    },
    /** Immediate shutdown (SIGQUIT): every backend exits at once, recovery on the next start. */
    async crash() {
      await group.stop(child, 'SIGQUIT', 5000);
    },
    /** The postmaster's pid (its backends are its children). */
    get pid() {
      return child?.pid;
    },
    async stop() {
      await group.stop(child, 'SIGINT', 10_000);
    },
  };
  await pg.start();
  return pg;
}

function isReady(bin, port) {
  const ready = spawnSync(join(bin, 'pg_isready'), ['-h', '127.0.0.1', '-p', String(port), '-q']);
  return ready.status === 0;
}

/**
 * redis-server on a free port with an append-only file, so a restart keeps every claim already
 * acknowledged (a Redis that forgets its claims on restart would let a replayed proof through).
 */
export async function startRedis(group, dir) {
  const port = await freePort();
  const dataDir = join(dir, 'redis');
  await mkdir(dataDir, { recursive: true });
  let child;
  const redis = {
    port,
    url: `redis://127.0.0.1:${port}`,
    async start() {
      child = group.spawn(
        REDIS_SERVER_BIN,
        ['--port', String(port), '--bind', '127.0.0.1', '--dir', dataDir, '--save', '', '--appendonly', 'yes', '--appendfsync', 'everysec'],
        { logFile: join(dir, 'redis.log') },
      );
      await waitFor('redis-server', () => accepts(port), 15_000, child);
    },
    get pid() {
      return child?.pid;
    },
    /** SIGKILL: a crash. The append-only file has every write Redis acknowledged. */
    async crash() {
      await group.stop(child, 'SIGKILL');
    },
    async stop() {
      await group.stop(child, 'SIGTERM');
    },
  };
  await redis.start();
  return redis;
}

/** HAProxy with `deploy/haproxy/haproxy.cfg`, the file the compose deployment uses. */
export async function startHaproxy(group, dir, { haproxyDir, port, servers }) {
  const env = {
    HAPROXY_BIND: `127.0.0.1:${port}`,
    HAPROXY_CONFIG_DIR: haproxyDir,
    ...Object.fromEntries(servers.map((server, i) => [`HAPROXY_SERVER_${i + 1}`, server])),
  };
  const child = group.spawn(HAPROXY_BIN, ['-db', '-f', join(haproxyDir, 'haproxy.cfg')], { logFile: join(dir, 'haproxy.log'), env });
  await waitFor('haproxy', () => accepts(port), 10_000, child);
  return {
    url: `http://127.0.0.1:${port}`,
    async stop() {
      await group.stop(child, 'SIGTERM');
    },
  };
}

/** One `warden serve` instance; `kill()` is SIGKILL (no drain), `start()` brings it back. */
export function wardenInstance(group, { cli, command = ['serve', '--config'], configFile, port, dir, name }) {
  const stateDir = join(dir, `${name}-state`);
  let child;
  return {
    name,
    port,
    address: `127.0.0.1:${port}`,
    async start() {
      await rm(join(stateDir, 'stack.json'), { force: true });
      child = group.spawn(process.execPath, [cli, ...command, configFile, '--port', String(port), '--state-dir', stateDir], {
        logFile: join(dir, `${name}.log`),
        env: withoutWardenEnv(),
      });
      await waitFor(`warden ${name}`, async () => existsSync(join(stateDir, 'stack.json')) && JSON.parse(await readFile(join(stateDir, 'stack.json'), 'utf8')).issuer !== undefined, 30_000, child);
    },
    async kill() {
      await group.stop(child, 'SIGKILL');
    },
    async stop() {
      await group.stop(child, 'SIGTERM', 10_000);
    },
    get pid() {
      return child?.pid;
    },
  };
}

/**
 * CPU seconds (user + system) used so far by process `pid` and, with `children`, by every process
 * whose parent it is (PostgreSQL's backends). Linux /proc only; 0 elsewhere.
 */
export function cpuSeconds(pid, { children = false } = {}) {
  const ticks = 100; // USER_HZ on Linux
  const read = (p) => {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return { ppid: Number(fields[1]), cpu: (Number(fields[11]) + Number(fields[12])) / ticks };
    } catch {
      return undefined;
    }
  };
  let total = read(pid)?.cpu ?? 0;
  if (children) {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      const info = read(entry);
      if (info?.ppid === pid) total += info.cpu;
    }
  }
  return total;
}

/** The environment without WARDEN_* variables: the config file alone says what runs. */
export function withoutWardenEnv() {
  return Object.fromEntries(Object.entries(process.env).map(([k, v]) => [k, k.startsWith('WARDEN_') ? '' : v]));
}

/** Runs a `warden` command to completion (users add, keys rotate); rejects with its stderr on failure. */
export function wardenCommand(cli, args, { input } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], { env: withoutWardenEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.stdin.end(input ?? '');
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`warden ${args[0]} ${args[1] ?? ''} exited ${code}: ${err.trim()}`))));
  });
}

/**
 * A six-node Redis Cluster (three masters, one replica each) on free ports, as the tests start it
 * (test/helpers/redis-cluster.ts): `redis-server --cluster-enabled yes` × 6, then `redis-cli
 * --cluster create --cluster-replicas 1`. Resolves once every node says `cluster_state:ok` and
 * every replica's link is up.
 */
export async function startRedisCluster(group, dir, { cli = '/usr/bin/redis-cli' } = {}) {
  await mkdir(dir, { recursive: true });
  const nodes = [];
  for (let i = 0; i < 6; i += 1) nodes.push({ port: await freePort(), bus: await freePort() });
  const run = (args) => spawnSync(cli, args, { encoding: 'utf8', timeout: 30_000 });
  for (const node of nodes) {
    node.child = group.spawn(REDIS_SERVER_BIN, [
      '--port', String(node.port), '--cluster-port', String(node.bus), '--bind', '127.0.0.1', '--cluster-enabled', 'yes',
      '--cluster-config-file', `nodes-${node.port}.conf`, '--cluster-node-timeout', '1000', '--dir', dir, '--save', '', '--appendonly', 'no',
    ], { logFile: join(dir, `redis-${node.port}.log`) });
    await waitFor('cluster node', () => accepts(node.port), 10_000, node.child);
  }
  const created = run(['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '1', '--cluster-yes']);
  if (created.status !== 0) throw new Error(`redis-cli --cluster create failed: ${created.stderr || created.stdout}`);
  const deadline = Date.now() + 30_000;
  for (;;) {
    const infos = nodes.map((n) => run(['-p', String(n.port), 'cluster', 'info']).stdout);
    const links = nodes.map((n) => run(['-p', String(n.port), 'info', 'replication']).stdout).filter((r) => /role:slave/.test(r));
    if (infos.every((i) => /cluster_state:ok/.test(i)) && links.length === 3 && links.every((r) => /master_link_status:up/.test(r))) break;
    if (Date.now() > deadline) throw new Error('Redis Cluster not healthy within 30 s');
    await sleep(100);
  }
  return {
    urls: nodes.map((n) => `redis://127.0.0.1:${n.port}`),
    async stop() {
      await Promise.all(nodes.map((n) => group.stop(n.child, 'SIGKILL')));
    },
  };
}

// Child processes of the harness: pinned with taskset when available, spoken to over IPC,
// and all killed (by their own pid) whenever the harness ends.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';

const BENCH_DIR = new URL('../', import.meta.url);

function hasTaskset() {
  if (process.platform !== 'linux') return false;
  const r = spawnSync('taskset', ['-c', '0', process.execPath, '-e', ''], { stdio: 'ignore' });
  return r.status === 0;
}

/** A registry of the children this run started. */
export function createChildren() {
  const live = new Set();
  const pinned = hasTaskset();

  /**
   * Starts `bench/<script>` on `cpu` (when pinning works). Resolves once spawned; messages are
   * read with `next(type | types, timeoutMs)`.
   */
  async function start(name, script, cpu, env) {
    const scriptPath = new URL(script, BENCH_DIR).pathname;
    // BENCH_PROFILE_DIR: a V8 CPU profile of every server process, written when it exits.
    const node = process.env.BENCH_PROFILE_DIR ? [process.execPath, '--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`, scriptPath] : [process.execPath, scriptPath];
    const [cmd, args] = pinned ? ['taskset', ['-c', String(cpu), ...node]] : [node[0], node.slice(1)];
    const child = spawn(cmd, args, { stdio: ['ignore', 'inherit', 'pipe', 'ipc'], env: { ...process.env, ...env } });
    live.add(child);
    let stderrTail = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d) => {
      stderrTail = (stderrTail + d).slice(-2000);
    });
    const queue = [];
    const waiters = [];
    let exited = null;
    child.on('message', (msg) => {
      queue.push(msg);
      settle();
    });
    child.on('exit', (code, signal) => {
      live.delete(child);
      exited = `${name} exited (${signal ?? `code ${code}`})${stderrTail ? `: ${stderrTail.trim().split('\n').slice(-3).join(' | ')}` : ''}`;
      settle();
    });
    child.on('error', (err) => {
      exited = `${name} could not start: ${err.message}`;
      settle();
    });
    function settle() {
      for (let w = 0; w < waiters.length; w++) {
        const waiter = waiters[w];
        const i = queue.findIndex((m) => waiter.types.includes(m?.type));
        if (i !== -1) {
          waiters.splice(w--, 1);
          clearTimeout(waiter.timer);
          waiter.resolve(queue.splice(i, 1)[0]);
        } else if (exited) {
          waiters.splice(w--, 1);
          clearTimeout(waiter.timer);
          waiter.reject(new Error(exited));
        }
      }
    }
    function next(type, timeoutMs) {
      return new Promise((resolve, reject) => {
        const types = Array.isArray(type) ? type : [type];
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(waiter), 1);
          reject(new Error(`${name}: no ${types.join('/')} message within ${timeoutMs} ms`));
        }, timeoutMs);
        const waiter = { types, resolve, reject, timer };
        waiters.push(waiter);
        settle();
      });
    }
    return { child, next, kill: () => kill(child) };
  }

  function kill(child) {
    if (child.exitCode !== null || child.signalCode !== null) return;
    // A profiled server must exit by itself to write its profile: closing IPC makes it exit(0).
    if (process.env.BENCH_PROFILE_DIR && child.connected) child.disconnect();
    else child.kill('SIGKILL');
    live.delete(child);
  }

  return { pinned, spawn: start, killAll: () => [...live].forEach(kill) };
}

/** A currently free loopback port (the server binds it a moment later). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Whether something answering Redis PING listens at `url` (1 s budget, loopback or as configured). */
export function redisReachable(url) {
  return new Promise((resolve) => {
    let u;
    try {
      u = new URL(url);
    } catch {
      return resolve(false);
    }
    if (u.protocol === 'rediss:') return resolve(true); // TLS: let the variant's own start-up decide
    const socket = net.connect({ host: u.hostname || '127.0.0.1', port: Number(u.port || 6379) });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    // +PONG, or -NOAUTH when a password is needed (the store is given the full URL).
    socket.on('data', (d) => done(d[0] === 0x2b || d.toString().startsWith('-NOAUTH')));
  });
}

/** Whether a TCP connection to `url`'s host and port (default `defaultPort`) opens within 1 s. */
export function tcpReachable(url, defaultPort) {
  return new Promise((resolve) => {
    let u;
    try {
      u = new URL(url);
    } catch {
      return resolve(false);
    }
    const socket = net.connect({ host: u.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1', port: Number(u.port || defaultPort) });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => done(true));
  });
}

/** User + system CPU time of process `pid` so far, in ms (Linux /proc; NaN elsewhere). */
export function cpuMs(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return NaN;
  }
}
/** USER_HZ: 100 on every Linux this runs on (getconf CLK_TCK). */
const CLOCK_TICKS = 100;

/**
 * A throw-away `redis-server` for failure tests (kill it, bring it back) that must not touch the
 * shared test Redis. No persistence, loopback only, on a free port that survives restarts.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { connect, createServer } from 'node:net';

/** Path of the binary; `WARDEN_REDIS_SERVER_BIN` overrides. */
export const REDIS_SERVER_BINARY = process.env.WARDEN_REDIS_SERVER_BIN ?? '/usr/bin/redis-server';

/** Whether {@link REDIS_SERVER_BINARY} exists and is executable. */
export function hasRedisServerBinary(): boolean {
  try {
    accessSync(REDIS_SERVER_BINARY, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** A TCP port that was free a moment ago (the OS picks it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address !== null && typeof address === 'object') resolve(address.port);
        else reject(new Error('no port assigned'));
      });
    });
  });
}

/** One spawned `redis-server`, restartable on the same port. */
export class RedisServerProcess {
  /** The port it listens on (fixed for the object's life, across restarts). */
  readonly port: number;
  #child: ChildProcess | undefined;
  #exited: Promise<void> | undefined;
  readonly #killOnExit = (): void => {
    this.#child?.kill('SIGKILL');
  };

  private constructor(port: number) {
    this.port = port;
  }

  /** Spawns a server on a free port and waits until it answers `PING`. */
  static async start(): Promise<RedisServerProcess> {
    const server = new RedisServerProcess(await freePort());
    await server.start();
    return server;
  }

  /** `redis://127.0.0.1:<port>`. */
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** (Re)spawns on {@link RedisServerProcess.port}; waits until it answers `PING` (≤ 10 s). */
  async start(): Promise<void> {
    if (this.#child !== undefined) throw new Error('redis-server is already running');
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
    const child = spawn(REDIS_SERVER_BINARY, args, { stdio: 'ignore' });
    this.#child = child;
    this.#exited = new Promise((resolve) => child.once('exit', () => resolve()));
    void this.#exited.then(() => {
      if (this.#child === child) this.#child = undefined;
    });
    // A crashed test run must not leave servers behind.
    process.once('exit', this.#killOnExit);
    const deadline = Date.now() + 10_000;
    while (!(await ping(this.port))) {
      if (this.#child !== child) throw new Error(`redis-server exited during start (port ${this.port})`);
      if (Date.now() > deadline) throw new Error(`redis-server did not answer on port ${this.port}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Freezes the server (SIGSTOP): connections stay open but nothing answers — a hung Redis. */
  pause(): void {
    this.#child?.kill('SIGSTOP');
  }

  /** Undoes {@link RedisServerProcess.pause} (SIGCONT). */
  resume(): void {
    this.#child?.kill('SIGCONT');
  }

  /** Sends `signal` (default SIGKILL: a crash, not a shutdown) and waits for the exit. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.#child;
    if (child === undefined) return;
    child.kill(signal);
    await this.#exited;
    this.#child = undefined;
    process.off('exit', this.#killOnExit);
  }
}

/** True when something on `port` answers `PING` with `+PONG`. */
async function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let reply = '';
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString('latin1');
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}

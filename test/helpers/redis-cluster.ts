/**
 * A throw-away Redis Cluster for tests: six `redis-server --cluster-enabled yes` processes on free
 * ports (data and node files in a temporary directory), joined by `redis-cli --cluster create
 * --cluster-replicas 1` into three masters with one replica each. Nodes can be killed, restarted
 * and failed over, so tests see what a real cluster does — no stand-in.
 *
 * `cluster-node-timeout` is 1 s (Redis' default is 15 s) so a killed master is replaced within a
 * few seconds; everything else is Redis' default, persistence off.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, REDIS_SERVER_BINARY } from './redis-server.js';

const run = promisify(execFile);

/** Path of `redis-cli`; `WARDEN_REDIS_CLI_BIN` overrides. */
export const REDIS_CLI_BINARY = process.env.WARDEN_REDIS_CLI_BIN ?? '/usr/bin/redis-cli';

/** Whether both `redis-server` and `redis-cli` are there. */
export function hasRedisClusterBinaries(): boolean {
  try {
    accessSync(REDIS_SERVER_BINARY, constants.X_OK);
    accessSync(REDIS_CLI_BINARY, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** One node as `CLUSTER NODES` describes it. */
export interface ClusterNodeInfo {
  port: number;
  id: string;
  role: 'master' | 'replica';
  /** The master's node id, for a replica. */
  masterId?: string;
  /** Whether the node is marked failing (`fail` / `fail?`). */
  failing: boolean;
  /** Slot ranges it serves, as written (`0-5460`). */
  slots: string[];
}

interface Node {
  port: number;
  busPort: number;
  child?: ChildProcess;
  exited?: Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A running six-node cluster. Always {@link RedisCluster.stop} it (also on failure). */
export class RedisCluster {
  readonly #dir: string;
  readonly #nodes: Node[];
  readonly #killAll = (): void => {
    for (const node of this.#nodes) node.child?.kill('SIGKILL');
  };

  private constructor(dir: string, nodes: Node[]) {
    this.#dir = dir;
    this.#nodes = nodes;
  }

  /** Starts six nodes, creates the cluster, and waits until every node reports `cluster_state:ok`. */
  static async start(options: { masters?: number } = {}): Promise<RedisCluster> {
    const masters = options.masters ?? 3;
    const dir = await mkdtemp(join(tmpdir(), 'warden-redis-cluster-'));
    const nodes: Node[] = [];
    for (let i = 0; i < masters * 2; i += 1) nodes.push({ port: await freePort(), busPort: await freePort() });
    const cluster = new RedisCluster(dir, nodes);
    process.once('exit', cluster.#killAll);
    try {
      for (const node of nodes) await cluster.#spawn(node);
      await run(REDIS_CLI_BINARY, ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '1', '--cluster-yes'], { timeout: 30_000 });
      await cluster.waitUntilHealthy();
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  /** `redis://127.0.0.1:<port>` of every node: what `replay.nodes` lists. */
  get urls(): string[] {
    return this.#nodes.map((n) => `redis://127.0.0.1:${n.port}`);
  }

  /** Ports of every node. */
  get ports(): number[] {
    return this.#nodes.map((n) => n.port);
  }

  /** `CLUSTER NODES` as seen from a live node. */
  async describe(): Promise<ClusterNodeInfo[]> {
    for (const node of this.#nodes) {
      if (node.child === undefined) continue;
      try {
        return parseClusterNodes(await this.cli(node.port, 'cluster', 'nodes'));
      } catch {
        // Try the next live node.
      }
    }
    throw new Error('no live cluster node answers CLUSTER NODES');
  }

  /** Runs one `redis-cli` command against a node and returns its output. */
  async cli(port: number, ...args: string[]): Promise<string> {
    const { stdout } = await run(REDIS_CLI_BINARY, ['-h', '127.0.0.1', '-p', String(port), ...args], { timeout: 10_000 });
    return stdout;
  }

  /** Kills the node on `port` (SIGKILL: a crash) and waits for it to exit. */
  async kill(port: number): Promise<void> {
    const node = this.#node(port);
    const { child, exited } = node;
    if (child === undefined) return;
    child.kill('SIGKILL');
    await exited;
    node.child = undefined;
  }

  /** Freezes the node on `port` (SIGSTOP): connections stay open, nothing answers. */
  pause(port: number): void {
    this.#node(port).child?.kill('SIGSTOP');
  }

  /** Undoes {@link RedisCluster.pause} (SIGCONT). */
  resume(port: number): void {
    this.#node(port).child?.kill('SIGCONT');
  }

  /** Starts the node on `port` again with its node file, so it rejoins the cluster as itself. */
  async restart(port: number): Promise<void> {
    await this.#spawn(this.#node(port));
  }

  /**
   * Waits (≤ `timeoutMs`) until every live node says `cluster_state:ok`, all slots are served,
   * and no live node is marked failing.
   */
  async waitUntilHealthy(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < deadline) {
      try {
        const live = this.#nodes.filter((n) => n.child !== undefined);
        const infos = await Promise.all(live.map((n) => this.cli(n.port, 'cluster', 'info')));
        const described = await this.describe();
        const liveIds = new Set(described.filter((d) => live.some((n) => n.port === d.port)).map((d) => d.id));
        const ok = infos.every((info) => /cluster_state:ok/.test(info) && /cluster_slots_ok:16384/.test(info));
        const noneFailing = described.every((d) => !liveIds.has(d.id) || !d.failing);
        // Every live replica's link to its master is up (claims wait for a replica's ack).
        const replicas = described.filter((d) => d.role === 'replica' && liveIds.has(d.id));
        const links = await Promise.all(replicas.map((r) => this.cli(r.port, 'info', 'replication')));
        const linked = links.every((info) => /master_link_status:up/.test(info));
        if (ok && noneFailing && linked) return;
        if (ok && noneFailing) last = 'a replica is not linked to its master yet';
        last = infos.find((info) => !/cluster_state:ok/.test(info)) ?? 'a live node is still marked failing';
      } catch (error) {
        last = (error as Error).message;
      }
      await sleep(100);
    }
    throw new Error(`Redis Cluster not healthy after ${timeoutMs} ms: ${last.split('\n').slice(0, 3).join(' ')}`);
  }

  /** Kills every node and removes the temporary directory. Idempotent. */
  async stop(): Promise<void> {
    for (const node of this.#nodes) node.child?.kill('SIGCONT');
    await Promise.all(this.#nodes.map((n) => this.kill(n.port)));
    process.off('exit', this.#killAll);
    await rm(this.#dir, { recursive: true, force: true });
  }

  #node(port: number): Node {
    const node = this.#nodes.find((n) => n.port === port);
    if (node === undefined) throw new Error(`no cluster node on port ${port}`);
    return node;
  }

  async #spawn(node: Node): Promise<void> {
    if (node.child !== undefined) throw new Error(`node ${node.port} is already running`);
    const args = [
      '--port', String(node.port), '--cluster-port', String(node.busPort), '--bind', '127.0.0.1',
      '--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${node.port}.conf`, '--cluster-node-timeout', '1000',
      '--dir', this.#dir, '--dbfilename', `dump-${node.port}.rdb`, '--save', '', '--appendonly', 'no',
    ];
    const child = spawn(REDIS_SERVER_BINARY, args, { stdio: 'ignore' });
    node.child = child;
    node.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    void node.exited.then(() => {
      if (node.child === child) node.child = undefined;
    });
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        if ((await this.cli(node.port, 'ping')).trim() === 'PONG') return;
      } catch {
        // Not listening yet.
      }
      if (node.child !== child) throw new Error(`redis-server exited during start (port ${node.port})`);
      if (Date.now() > deadline) throw new Error(`redis-server did not answer on port ${node.port}`);
      await sleep(50);
    }
  }
}

/** Parses `CLUSTER NODES` output (one line per node). */
export function parseClusterNodes(text: string): ClusterNodeInfo[] {
  return text
    .trim()
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const [id = '', address = '', flags = '', master = '-', , , , , ...slots] = line.trim().split(' ');
      const port = Number(/:(\d+)@/.exec(address)?.[1] ?? NaN);
      const flagList = flags.split(',');
      const role = flagList.includes('master') ? 'master' : 'replica';
      return {
        port,
        id,
        role,
        ...(master === '-' ? {} : { masterId: master }),
        failing: flagList.includes('fail') || flagList.includes('fail?'),
        slots,
      };
    });
}

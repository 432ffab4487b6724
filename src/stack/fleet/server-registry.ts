/**
 * The fleet registry at run time: the servers the configuration declares plus those in the
 * registry store (added through the admin API or `warden servers`), each mounted (its resource
 * server and gateway), served through one route table that is swapped whole.
 *
 * - Every change is checked whole first (the configuration's own checks, per server): a bad one
 *   is refused with the server's name and each problem's key path, and the running table stays.
 * - A swap is atomic: a request reads the table once, so it finishes on the mount it started on.
 *   A mount that left the table is closed when its last in-flight request (an SSE stream, say)
 *   ends. Servers whose entry did not change keep their mount (and its caches and nonces).
 * - Several instances: each polls the store's revision (default every second) and applies a
 *   change it has not seen, so with PostgreSQL every instance follows within a poll or two.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { checkFleet, type FleetContext, type ServerProblem } from '../../config/server-spec.js';
import type { ResourceConfig, WardenConfig } from '../../config/defaults.js';
import type { Logger } from '../../observability/logger.js';
import type { RegistryChange, RegistrySnapshot, RegistryStore, ServerRecord } from '../../stores/registry-contracts.js';
import { StoreConflictError } from '../../stores/store-conflict-error.js';
import { createRouteTable, type Route, type RouteTable } from '../router.js';
import type { MountedResource } from '../mount-resource.js';

/** Options of {@link ServerRegistry.open}. */
export interface ServerRegistryOptions {
  /** The running configuration (its `resources` are the servers declared in config). */
  config: WardenConfig;
  /** Paths the stack answers itself, which no server may take. */
  reservedPaths: readonly string[];
  /** Mounts one server (resource server + gateway or demo handler). */
  mount: (server: ResourceConfig) => MountedResource;
  /** Where run-time servers live; without it only config-declared servers exist. */
  store?: RegistryStore;
  /** Routes always served besides the servers (the admin API). */
  fixedRoutes?: readonly Route[];
  /** Told every applied set of servers (config + store), e.g. to update the AS resource registry. */
  onApplied?: (servers: readonly ResourceConfig[]) => void;
  /** How often the store's revision is polled. Default 1000 ms; 0 disables polling. */
  pollMs?: number;
  logger: Logger;
}

/** The outcome of a proposed change. */
export type ProposeResult =
  | { readonly ok: true; readonly revision: number; readonly server?: ResourceConfig; readonly created: boolean }
  | { readonly ok: false; readonly reason: 'invalid'; readonly name: string; readonly problems: readonly ServerProblem[] }
  | { readonly ok: false; readonly reason: 'declared_in_config'; readonly name: string }
  | { readonly ok: false; readonly reason: 'conflict' };

interface Mount {
  readonly key: string;
  readonly mounted: MountedResource;
  /** The route the table holds: counts in-flight requests around the mount's handler. */
  readonly route: Route;
  inflight: number;
  retired: boolean;
}

/** What one applied state holds. */
interface Applied {
  readonly revision: number;
  readonly config: WardenConfig;
  /** Store servers, resolved, by name. */
  readonly records: readonly ServerRecord[];
  readonly servers: readonly ResourceConfig[];
  readonly table: RouteTable;
}

/** Default interval between revision polls. */
export const REGISTRY_POLL_MS = 1000;

/** The fleet registry of one running stack. */
export class ServerRegistry {
  readonly #o: ServerRegistryOptions;
  readonly #mounts = new Map<string, Mount>();
  #applied: Applied;
  #timer: NodeJS.Timeout | undefined;
  #polling: Promise<void> | undefined;
  #storeDown = false;
  #closed = false;

  private constructor(options: ServerRegistryOptions) {
    this.#o = options;
    this.#applied = this.#build(options.config, { revision: -1, servers: [] }, options.config.resources);
  }

  /**
   * Mounts the configuration's servers and the store's, and starts polling. A store whose
   * servers do not pass the checks (e.g. a configuration changed under them) is logged and left
   * out until a change makes them pass; a store that cannot answer is retried by the poller.
   */
  static async open(options: ServerRegistryOptions): Promise<ServerRegistry> {
    const registry = new ServerRegistry(options);
    options.onApplied?.(registry.#applied.servers);
    if (options.store !== undefined) {
      await registry.refresh();
      const pollMs = options.pollMs ?? REGISTRY_POLL_MS;
      if (pollMs > 0) {
        registry.#timer = setInterval(() => {
          registry.#polling ??= registry.refresh().finally(() => (registry.#polling = undefined));
        }, pollMs);
        registry.#timer.unref();
      }
    }
    return registry;
  }

  /** The table requests are routed by now. */
  table(): RouteTable {
    return this.#applied.table;
  }

  /** Revision of the store state applied (-1: none read yet), and every server running. */
  current(): { revision: number; servers: readonly ResourceConfig[]; declaredInConfig: ReadonlySet<string> } {
    const a = this.#applied;
    return { revision: a.revision, servers: a.servers, declaredInConfig: new Set(a.config.resources.map((r) => r.name)) };
  }

  /** The mount serving `name` now (its resource server, metadata URL). */
  mountOf(name: string): MountedResource | undefined {
    return this.#mounts.get(name)?.mounted;
  }

  /** The entry as written of a store server (undefined for a config-declared or unknown one). */
  record(name: string): ServerRecord | undefined {
    return this.#applied.records.find((r) => r.name === name);
  }

  /**
   * Reads the store when its revision moved and applies what it holds. Never throws: an outage
   * is logged once and the running table stays.
   */
  async refresh(): Promise<void> {
    const store = this.#o.store;
    if (store === undefined || this.#closed) return;
    try {
      const revision = await store.revision();
      if (revision === this.#applied.revision) return;
      this.#apply(this.#applied.config, await store.read());
      if (this.#storeDown) this.#o.logger.info('registry store answers again', {});
      this.#storeDown = false;
    } catch (error) {
      if (!this.#storeDown) this.#o.logger.warn('registry store cannot answer: keeping the running servers', { error });
      this.#storeDown = true;
    }
  }

  /**
   * Replaces the servers declared in config (file watch, SIGHUP). Returns the problems when the
   * new set (with the store's servers) does not pass; the running table then stays.
   */
  reloadConfig(config: WardenConfig): { ok: true } | { ok: false; name: string; problems: readonly ServerProblem[] } {
    const a = this.#applied;
    const check = this.#check(config, a.records.map((r) => r.spec));
    if (!check.ok) return check;
    if (!this.#swap(config, { revision: a.revision, servers: a.records }, [...config.resources, ...check.servers])) {
      return { ok: false, name: '(mount)', problems: [{ path: '(top level)', message: 'a server could not be mounted (see the log)' }] };
    }
    return { ok: true };
  }

  /**
   * Checks a change against the whole registry (config + store, as the store holds it now) and
   * writes it with compare-and-swap, retrying on a concurrent change; then applies it here at
   * once (other instances follow by polling).
   */
  async propose(change: RegistryChange): Promise<ProposeResult> {
    const store = this.#o.store;
    if (store === undefined) throw new TypeError('this registry has no store');
    const name = 'put' in change ? change.put.name : change.remove;
    if (this.#applied.config.resources.some((r) => r.name === name)) return { ok: false, reason: 'declared_in_config', name };
    for (let attempt = 0; attempt < 5; attempt++) {
      const snapshot = await store.read();
      const records = snapshot.servers.filter((r) => r.name !== name);
      if ('put' in change) records.push(change.put);
      const check = this.#check(this.#applied.config, records.map((r) => r.spec));
      if (!check.ok) return { ok: false, reason: 'invalid', name: check.name, problems: check.problems };
      const server = 'put' in change ? check.servers.find((s) => s.name === name) : undefined;
      // A server this stack cannot mount is refused before it is written: stored, every instance would refuse it.
      const unmountable = server === undefined ? undefined : this.#tryMount(server);
      if (unmountable !== undefined) return { ok: false, reason: 'invalid', name, problems: [{ path: '(top level)', message: `cannot be mounted: ${unmountable}` }] };
      try {
        const revision = await store.write(change, snapshot.revision);
        await this.refresh();
        return { ok: true, revision, created: records.length > snapshot.servers.length, ...(server ? { server } : {}) };
      } catch (error) {
        if (!(error instanceof StoreConflictError)) throw error;
      }
    }
    return { ok: false, reason: 'conflict' };
  }

  /** Stops polling and closes every mount (in-flight requests were drained by the server). */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    await this.#polling;
    await Promise.allSettled([...this.#mounts.values()].map((m) => m.mounted.close()));
    this.#mounts.clear();
  }

  #check(config: WardenConfig, specs: readonly unknown[]) {
    const context: FleetContext = { config, reservedPaths: this.#o.reservedPaths };
    return checkFleet(specs, context);
  }

  #apply(config: WardenConfig, snapshot: RegistrySnapshot): void {
    // Refreshes overlap (poller, admin API, console): a snapshot older than the applied one answered late.
    if (snapshot.revision < this.#applied.revision) return;
    const check = this.#check(config, snapshot.servers.map((r) => r.spec));
    if (!check.ok) {
      this.#o.logger.error('registry change refused: the running servers stay', { revision: snapshot.revision, server: check.name, problems: check.problems });
      // Remember the revision so the same refusal is not logged every poll.
      this.#applied = { ...this.#applied, revision: snapshot.revision };
      return;
    }
    this.#swap(config, snapshot, [...config.resources, ...check.servers]);
  }

  /** Applies a checked set; false (logged, nothing changed) when a server cannot be mounted. */
  #swap(config: WardenConfig, snapshot: RegistrySnapshot, servers: readonly ResourceConfig[]): boolean {
    const before = this.#applied;
    try {
      this.#applied = this.#build(config, snapshot, servers);
    } catch (error) {
      this.#o.logger.error('registry change refused: a server cannot be mounted; the running servers stay', { revision: snapshot.revision, error });
      this.#applied = { ...before, revision: snapshot.revision };
      return false;
    }
    this.#o.onApplied?.(servers);
    const added = servers.filter((s) => !before.servers.some((b) => b.name === s.name)).map((s) => s.name);
    const removed = before.servers.filter((b) => !servers.some((s) => s.name === b.name)).map((s) => s.name);
    this.#o.logger.info('registry applied', { revision: snapshot.revision, servers: servers.length, added, removed });
    return true;
  }

  /**
   * Mounts what is new or changed, keeps the rest, retires what left; builds the table. Two
   * phases: every new mount is made first, so a server whose resource server refuses its options
   * leaves everything as it was (the new mounts closed) and the error is thrown.
   */
  #build(config: WardenConfig, snapshot: RegistrySnapshot, servers: readonly ResourceConfig[]): Applied {
    const fresh = new Map<string, Mount>();
    try {
      for (const server of servers) {
        const key = JSON.stringify(server);
        if (this.#mounts.get(server.name)?.key !== key) fresh.set(server.name, this.#mount(server, key));
      }
    } catch (error) {
      for (const mount of fresh.values()) this.#closeMount(mount);
      throw error;
    }
    const routes: Route[] = [...(this.#o.fixedRoutes ?? [])];
    const names = new Set(servers.map((s) => s.name));
    for (const [name, mount] of [...this.#mounts]) {
      if (!names.has(name) || fresh.has(name)) {
        this.#mounts.delete(name);
        this.#retire(mount);
      }
    }
    for (const server of servers) {
      const mount = fresh.get(server.name) ?? this.#mounts.get(server.name)!;
      this.#mounts.set(server.name, mount);
      routes.push(mount.route);
    }
    return { revision: snapshot.revision, config, records: snapshot.servers, servers, table: createRouteTable(routes) };
  }

  #mount(server: ResourceConfig, key: string): Mount {
    const mounted = this.#o.mount(server);
    const mount: Mount = {
      key,
      mounted,
      inflight: 0,
      retired: false,
      route: {
        ...mounted,
        handle: async (req: IncomingMessage, res: ServerResponse) => {
          mount.inflight++;
          // An SSE stream outlives the handler's promise: count until the response closes.
          res.once('close', () => {
            if (--mount.inflight === 0 && mount.retired) this.#closeMount(mount);
          });
          await mounted.handle(req, res);
        },
      },
    };
    return mount;
  }

  /** Mounts `server` and closes it again: undefined when it mounts, else why not. */
  #tryMount(server: ResourceConfig): string | undefined {
    let mounted: MountedResource;
    try {
      mounted = this.#o.mount(server);
    } catch (error) {
      return (error as Error).message;
    }
    mounted.close().catch(() => undefined);
    return undefined;
  }

  #retire(mount: Mount): void {
    mount.retired = true;
    if (mount.inflight === 0) this.#closeMount(mount);
  }

  #closeMount(mount: Mount): void {
    mount.mounted.close().catch((error: unknown) => this.#o.logger.warn('closing a retired server failed', { server: mount.mounted.name, error }));
  }
}

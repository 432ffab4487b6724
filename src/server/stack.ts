/**
 * `startStack`: the whole Warden stack on one node:http server — each configured resource behind
 * the resource-server gauntlet (the built-in demo MCP server, or a gateway to an upstream), its
 * RFC 9728 metadata, the development issuer's JWKS and a health check.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { withListenPort, type WardenConfig } from '../config/defaults.js';
import { generateIssuerKey, issuerJwks, loadOrCreateIssuerKey, mintAccessToken } from '../dev-issuer/index.js';
import { createLogger, type Logger } from '../observability/logger.js';
import type { ReplayStore } from '../stores/index.js';
import { mountResource, type MountedResource } from './mount-resource.js';
import { createReplayStore } from './replay-store.js';
import { createRouter } from './router.js';
import { removeStackFile, writeStackFile, type StackInfo } from './stack-file.js';

/** Options of {@link startStack}. */
export interface StartStackOptions {
  /**
   * Where the development issuer's key lives and `stack.json` is written. Without it the issuer
   * key exists only in this process and no `stack.json` is written.
   */
  stateDir?: string;
  /** Overrides `listen.port`; 0 picks a free port (the real one is in `url` and `stack.json`). */
  port?: number;
  /** Default: JSON lines on stdout. */
  logger?: Logger;
  /** How long shutdown waits for in-flight requests (e.g. SSE streams) before cutting them. Default 10 s. */
  shutdownGraceMs?: number;
}

/** Options of {@link RunningStack.mintToken}; every field defaulted for the first resource. */
export interface StackTokenOptions {
  /** Canonical URI of the resource (`aud`). Default: the first resource's. */
  resource?: string;
  /** Default `mcp:tools`. */
  scope?: string | readonly string[];
  subject?: string;
  clientId?: string;
  jkt?: string;
  lifetimeSeconds?: number;
}

/** A listening stack. */
export interface RunningStack {
  /** Public base URL (with the real port when it listened on 0). */
  readonly url: string;
  readonly server: Server;
  /** The configuration as it applies: derived URLs follow the real port. */
  readonly config: WardenConfig;
  /** What `stack.json` holds. */
  readonly info: StackInfo;
  /** Mints a development access token from this stack's issuer (tests, demos). */
  mintToken(options?: StackTokenOptions): Promise<string>;
  /** Stops accepting, lets in-flight requests finish (up to the grace period), closes stores. Idempotent. */
  close(): Promise<void>;
}

/** The stack could not start; the message says why and what to change. */
export class StackStartError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StackStartError';
  }
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      if (error.code === 'EADDRINUSE') {
        reject(new StackStartError(`port ${port} on ${host} is already in use: stop the other process or choose another port (--port, listen.port or WARDEN_PORT)`, { cause: error }));
      } else if (error.code === 'EACCES') {
        reject(new StackStartError(`not allowed to listen on port ${port} of ${host}: choose a port above 1023 or run with the needed privilege`, { cause: error }));
      } else if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND') {
        reject(new StackStartError(`cannot listen on ${host}: it is not an address of this machine (check listen.host or WARDEN_HOST)`, { cause: error }));
      } else {
        reject(new StackStartError(`cannot listen on ${host}:${port}: ${error.message}`, { cause: error }));
      }
    };
    const onListening = () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}

/**
 * Starts the stack `config` declares and resolves once it is listening (and `stack.json`, with a
 * state directory, is written).
 *
 * @throws {StackStartError} when the port is taken or the address is unusable.
 */
export async function startStack(initial: WardenConfig, options: StartStackOptions = {}): Promise<RunningStack> {
  const logger = options.logger ?? createLogger();
  let config = options.port === undefined ? initial : withListenPort(initial, options.port);
  const { stateDir } = options;
  // A stale stack.json from an earlier run must not look like this run being ready.
  if (stateDir) await removeStackFile(stateDir);
  const key = stateDir ? await loadOrCreateIssuerKey(stateDir) : await generateIssuerKey();
  let replayStore: ReplayStore;
  try {
    replayStore = await createReplayStore(config.replay, logger);
  } catch (error) {
    throw new StackStartError(`cannot connect the ${config.replay.kind} replay store: ${(error as Error).message}`, { cause: error });
  }

  let mounted: MountedResource[] = [];
  let listener: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  let closing = false;
  const server = createServer((req, res) => {
    // Ask keep-alive clients to reconnect elsewhere while draining.
    if (closing) res.setHeader('Connection', 'close');
    if (listener) listener(req, res);
    else {
      res.writeHead(503, { 'Content-Type': 'application/json', 'Retry-After': '1' });
      res.end(JSON.stringify({ error: 'temporarily_unavailable' }));
    }
  });

  try {
    const port = await listen(server, config.listen.port, config.listen.host);
    config = withListenPort(config, port);
    mounted = config.resources.map((resource) => mountResource(config, resource, key, replayStore));
    listener = createRouter({ routes: mounted, jwks: issuerJwks(key), logger });
  } catch (error) {
    await Promise.allSettled(mounted.map((m) => m.close()));
    await replayStore.close().catch(() => undefined);
    if (server.listening) await new Promise((resolve) => server.close(resolve));
    if (error instanceof StackStartError) throw error;
    throw new StackStartError((error as Error).message, { cause: error });
  }

  const info: StackInfo = {
    issuer: config.issuer,
    resources: mounted.map((m, i) => ({ name: m.name, url: config.resources[i]!.canonicalUri, metadataUrl: m.rs.metadataUrl })),
    clients: [],
    users: [],
  };
  if (stateDir) await writeStackFile(stateDir, info);
  logger.info('listening', {
    url: config.publicUrl,
    host: config.listen.host,
    port: config.listen.port,
    issuer: config.issuer,
    resources: info.resources.map((r) => ({ name: r.name, url: r.url })),
    replay: config.replay.kind,
  });

  let closed: Promise<void> | undefined;
  const graceMs = options.shutdownGraceMs ?? 10_000;
  const close = () =>
    (closed ??= (async () => {
      closing = true;
      const drained = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const drainTick = setInterval(() => server.closeIdleConnections(), 100);
      const cutoff = setTimeout(() => server.closeAllConnections(), graceMs);
      await drained;
      clearInterval(drainTick);
      clearTimeout(cutoff);
      await Promise.allSettled(mounted.map((m) => m.close()));
      await replayStore.close().catch((error: unknown) => logger.warn('replay store close failed', { error }));
      if (stateDir) await removeStackFile(stateDir);
      logger.info('stopped', {});
    })());

  const firstResource = config.resources[0];
  return {
    url: config.publicUrl,
    server,
    config,
    info,
    mintToken: (token = {}) => {
      const audience = token.resource ?? firstResource?.canonicalUri;
      if (audience === undefined) return Promise.reject(new TypeError('mintToken: the stack has no resource; pass resource'));
      return mintAccessToken({
        key,
        issuer: config.issuer,
        audience,
        scope: token.scope ?? 'mcp:tools',
        subject: token.subject ?? 'demo-user',
        clientId: token.clientId ?? 'demo-cli',
        ...(token.jkt ? { jkt: token.jkt } : {}),
        lifetimeSeconds: token.lifetimeSeconds ?? firstResource?.tokenLifetimeSeconds ?? 600,
      });
    },
    close,
  };
}

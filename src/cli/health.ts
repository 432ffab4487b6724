/**
 * `warden health`: asks a running stack whether it is alive (`/healthz`) or ready (`/readyz`, every
 * store answering) and says so in one line — for container health checks and scripts. Exit 0
 * healthy, 1 unhealthy or unreachable, 2 when it cannot tell where the stack is (usage).
 *
 * Where: `--url`; else, with `--config`, the address the configuration listens on (the stack
 * itself, not the load balancer in front of it); else `WARDEN_PUBLIC_URL`; else
 * `http://127.0.0.1:$WARDEN_PORT`. The paths are at the root of that origin.
 */
import type { WardenConfig } from '../config/defaults.js';
import { loadConfigFile } from '../config/load.js';
import { HEALTH_PATH, READY_PATH } from '../stack/index.js';
import { UsageError } from './errors.js';

/** Options of {@link healthCommand}, as commander parses them. */
export interface HealthOptions {
  url?: string;
  config?: string;
  /** Check `/readyz` instead of `/healthz`. */
  ready?: boolean;
  /** Milliseconds to wait for the answer. */
  timeout?: number;
}

/** A usage problem: the command cannot tell what to check (exit 2). */
export class HealthUsageError extends UsageError {
  override name = 'HealthUsageError';
}

/** The result of one check: whether it passed, and the line to print. */
export interface HealthResult {
  healthy: boolean;
  message: string;
}

/** Checks the stack; never throws for an unhealthy or unreachable stack (that is a result). */
export async function healthCommand(options: HealthOptions, env: Readonly<Record<string, string | undefined>> = process.env): Promise<HealthResult> {
  const origin = await targetOrigin(options, env);
  const path = options.ready ? READY_PATH : HEALTH_PATH;
  const url = `${origin}${path}`;
  const timeoutMs = options.timeout ?? 3000;
  const started = performance.now();
  let response: Response;
  let body: unknown;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'manual', headers: { accept: 'application/json' } });
    body = await response.json().catch(() => undefined);
  } catch (error) {
    const reason = (error as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : 'unreachable';
    return { healthy: false, message: `unhealthy: ${url} ${reason}` };
  }
  const ms = Math.round(performance.now() - started);
  const status = (body as { status?: unknown } | undefined)?.status;
  const expected = options.ready ? 'ready' : 'ok';
  if (response.status === 200 && status === expected) return { healthy: true, message: `healthy: ${url} answered ${expected} in ${ms} ms` };
  const checks = (body as { checks?: Record<string, string> } | undefined)?.checks;
  const down = checks ? Object.entries(checks).filter(([, v]) => v !== 'ok').map(([k]) => k) : [];
  return { healthy: false, message: `unhealthy: ${url} answered ${response.status}${down.length > 0 ? ` (unavailable: ${down.join(', ')})` : ''}` };
}

async function targetOrigin(options: HealthOptions, env: Readonly<Record<string, string | undefined>>): Promise<string> {
  if (options.url !== undefined) return originOf(options.url, '--url');
  if (options.config !== undefined) return listenOrigin(await loadConfigFile(options.config, { env }));
  const publicUrl = env['WARDEN_PUBLIC_URL'];
  if (publicUrl !== undefined && publicUrl !== '') return originOf(publicUrl, 'WARDEN_PUBLIC_URL');
  const port = env['WARDEN_PORT'];
  if (port !== undefined && /^\d{1,5}$/.test(port)) return `http://127.0.0.1:${port}`;
  throw new HealthUsageError('say which stack to check: --url http://127.0.0.1:4000, --config <file>, WARDEN_PUBLIC_URL or WARDEN_PORT');
}

/** Where the stack itself listens: a wildcard host is reached on loopback. */
function listenOrigin(config: WardenConfig): string {
  const { host, port } = config.listen;
  const reachable = host === '0.0.0.0' || host === '::' || host === '[::]' ? '127.0.0.1' : host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return `http://${reachable}:${port}`;
}

function originOf(value: string, what: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new HealthUsageError(`${what}: expected an http(s) URL such as http://127.0.0.1:4000`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new HealthUsageError(`${what}: expected an http(s) URL such as http://127.0.0.1:4000`);
  // Only the origin is used (and printed): never a path, query or credentials.
  return url.origin;
}

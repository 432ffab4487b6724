/**
 * `warden servers list|show|add|remove`, minus argument parsing: the same four operations
 * either through a running stack's admin API (`--url`, with `--token` or client credentials — the
 * token is obtained by client_credentials at the authorization server the admin API's RFC 9728
 * metadata names) or directly on the registry store of a configuration (`--config`; running
 * instances follow within a poll).
 *
 * Errors: a refused entry is a {@link ConfigError} (exit 2) listing each key path; anything else
 * refused or unreachable is a {@link UsageError} (exit 1).
 */
import { ConfigError } from '../../config/errors.js';
import { loadConfigFile } from '../../config/load.js';
import { checkFleet, type ServerProblem } from '../../config/server-spec.js';
import type { WardenConfig } from '../../config/defaults.js';
import { StoreConflictError } from '../../stores/store-conflict-error.js';
import { UsageError } from '../errors.js';
import { ADMIN_API_PATH, ADMIN_SCOPE, describeServer } from './admin-api.js';
import { openRegistryStore } from './open-registry-store.js';

/** Where the registry is. */
export interface ServersTarget {
  /** Base URL of a running stack (its `publicUrl`). */
  url?: string;
  /** An access token for the admin API (audience `<url>/admin/api`, scope `warden:admin`). */
  token?: string;
  /** An admin client (`admin.clients`): a token is obtained with client_credentials. */
  clientId?: string;
  clientSecret?: string;
  /** A configuration file: work on its registry store directly. */
  config?: string;
}

/** What the list shows of one server. */
export type ServerSummary = Record<string, unknown> & { name: string; source: string };

function refused(name: string, problems: readonly ServerProblem[]): ConfigError {
  return new ConfigError(`server "${name}"`, problems.map((p) => `${p.path}: ${p.message}`));
}

/** The registry operations on one target. */
interface Registry {
  list(): Promise<{ revision: number; servers: ServerSummary[] }>;
  show(name: string): Promise<Record<string, unknown>>;
  put(name: string, entry: Record<string, unknown>): Promise<{ revision: number; created: boolean }>;
  remove(name: string): Promise<{ revision: number }>;
  close(): Promise<void>;
}

/** Opens the target the options name. */
export async function openServersTarget(target: ServersTarget): Promise<Registry> {
  if ((target.url === undefined) === (target.config === undefined)) throw new UsageError('name the registry: --url <running stack> or --config <file>');
  if (target.config !== undefined) return openStoreTarget(await loadConfigFile(target.config), target.config);
  return openHttpTarget(target.url!, await adminToken(target));
}

async function adminToken(target: ServersTarget): Promise<string> {
  if (target.token !== undefined) return target.token;
  if (target.clientId === undefined || target.clientSecret === undefined) throw new UsageError('--url needs --token, or --client-id and --client-secret of an admin client');
  const base = target.url!.replace(/\/+$/, '');
  const prm = await getJson(`${origin(base)}/.well-known/oauth-protected-resource${new URL(base).pathname.replace(/\/$/, '')}${ADMIN_API_PATH}`);
  const issuer = Array.isArray(prm['authorization_servers']) ? String(prm['authorization_servers'][0]) : undefined;
  if (issuer === undefined) throw new UsageError('the admin API metadata names no authorization server');
  const issuerUrl = new URL(issuer);
  const asMeta = await getJson(`${issuerUrl.origin}/.well-known/oauth-authorization-server${issuerUrl.pathname === '/' ? '' : issuerUrl.pathname}`);
  const tokenEndpoint = typeof asMeta['token_endpoint'] === 'string' ? asMeta['token_endpoint'] : undefined;
  if (tokenEndpoint === undefined) throw new UsageError('the authorization server metadata has no token_endpoint');
  const res = await request(tokenEndpoint, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${encodeURIComponent(target.clientId)}:${encodeURIComponent(target.clientSecret)}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', resource: String(prm['resource']), scope: ADMIN_SCOPE }).toString(),
  });
  const body = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  if (!res.ok || typeof body['access_token'] !== 'string') {
    throw new UsageError(`the authorization server refused a warden:admin token: ${res.status} ${String(body['error'] ?? '')} ${String(body['error_description'] ?? '')}`.trim());
  }
  return body['access_token'];
}

const origin = (url: string) => new URL(url).origin;

async function request(url: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(url, { ...init, redirect: 'manual', signal: AbortSignal.timeout(10_000) });
  } catch (error) {
    throw new UsageError(`cannot reach ${new URL(url).origin}: ${(error as Error).message}`);
  }
}

async function getJson(url: string): Promise<Record<string, unknown>> {
  const res = await request(url, { headers: { accept: 'application/json' } });
  if (!res.ok) throw new UsageError(`GET ${url} answered ${res.status}`);
  return (await res.json()) as Record<string, unknown>;
}

function openHttpTarget(url: string, token: string): Registry {
  const base = `${url.replace(/\/+$/, '')}${ADMIN_API_PATH}/servers`;
  const call = async (method: string, name?: string, body?: unknown) => {
    const res = await request(name === undefined ? base : `${base}/${encodeURIComponent(name)}`, {
      method,
      headers: { authorization: `Bearer ${token}`, accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    const json = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
    if (res.status === 400 && Array.isArray(json['errors'])) throw refused(name ?? '(list)', json['errors'] as ServerProblem[]);
    if (!res.ok) {
      const why = typeof json['detail'] === 'string' ? json['detail'] : (res.headers.get('www-authenticate') ?? '');
      throw new UsageError(`the admin API answered ${res.status}: ${why}`);
    }
    return { status: res.status, json };
  };
  return {
    list: async () => (await call('GET')).json as { revision: number; servers: ServerSummary[] },
    show: async (name) => (await call('GET', name)).json,
    put: async (name, entry) => {
      const { status, json } = await call('PUT', name, entry);
      return { revision: Number(json['revision']), created: status === 201 };
    },
    remove: async (name) => {
      await call('DELETE', name);
      return { revision: NaN };
    },
    close: async () => {},
  };
}

/** The stack's own endpoint paths a server may not take (the authorization server's, the admin API). */
function reservedPaths(config: WardenConfig): string[] {
  const issuer = new URL(config.issuer);
  const base = issuer.pathname === '/' ? '' : issuer.pathname.replace(/\/$/, '');
  return [...['authorize', 'token', 'register', 'revoke', 'introspect', 'jwks', 'interaction'].map((e) => `${base}/${e}`), new URL(`${config.publicUrl}${ADMIN_API_PATH}`).pathname];
}

async function openStoreTarget(config: WardenConfig, file: string): Promise<Registry> {
  if (!config.authorizationServer.enabled) throw new UsageError(`${file}: the registry store lives beside the authorization server's, which is disabled here`);
  if (config.storage.kind === 'memory') throw new UsageError(`${file} uses memory storage, which lives only inside the running process: use --url`);
  const store = await openRegistryStore(config.storage);
  const declared = new Set(config.resources.map((r) => r.name));
  const context = { config, reservedPaths: reservedPaths(config) };
  const notDeclared = (name: string) => {
    if (declared.has(name)) throw new UsageError(`server "${name}" is declared in ${file}: change it there`);
  };
  return {
    list: async () => {
      const snapshot = await store.read();
      const check = checkFleet(snapshot.servers.map((s) => s.spec), context);
      const stored = check.ok ? check.servers.map((s) => describeServer(s, 'registry')) : snapshot.servers.map((s) => ({ name: s.name, source: 'registry', invalid: true }));
      return { revision: snapshot.revision, servers: [...config.resources.map((r) => describeServer(r, 'config')), ...stored] as ServerSummary[] };
    },
    show: async (name) => {
      const configured = config.resources.find((r) => r.name === name);
      if (configured) return describeServer(configured, 'config');
      const snapshot = await store.read();
      const record = snapshot.servers.find((s) => s.name === name);
      if (record === undefined) throw new UsageError(`no server named "${name}"`);
      const check = checkFleet([record.spec], { ...context, config: { ...config } });
      return { ...(check.ok ? describeServer(check.servers[0]!, 'registry') : { name, source: 'registry' }), entry: record.spec };
    },
    put: async (name, entry) => {
      notDeclared(name);
      for (let attempt = 0; attempt < 5; attempt++) {
        const snapshot = await store.read();
        const others = snapshot.servers.filter((s) => s.name !== name);
        const spec = { ...entry, name };
        const check = checkFleet([...others.map((s) => s.spec), spec], context);
        if (!check.ok) throw refused(check.name, check.problems);
        try {
          return { revision: await store.write({ put: { name, spec } }, snapshot.revision), created: others.length === snapshot.servers.length };
        } catch (error) {
          if (!(error instanceof StoreConflictError)) throw error;
        }
      }
      throw new UsageError('the registry kept changing; try again');
    },
    remove: async (name) => {
      notDeclared(name);
      for (let attempt = 0; attempt < 5; attempt++) {
        const snapshot = await store.read();
        if (!snapshot.servers.some((s) => s.name === name)) throw new UsageError(`no server named "${name}"`);
        try {
          return { revision: await store.write({ remove: name }, snapshot.revision) };
        } catch (error) {
          if (!(error instanceof StoreConflictError)) throw error;
        }
      }
      throw new UsageError('the registry kept changing; try again');
    },
    close: () => store.close(),
  };
}

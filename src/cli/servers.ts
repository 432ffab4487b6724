/**
 * `warden servers list|show|add|remove`: the fleet registry, through a running stack's admin API
 * (`--url`) or on a configuration's store (`--config`); see `stack/fleet/servers-admin.ts`.
 * Exit codes: 0 done; 1 refused or unreachable (unknown server, no admin rights); 2 usage or an
 * entry that does not pass (each key path printed).
 */
import { readFile } from 'node:fs/promises';
import { openServersTarget, UsageError, type ServersTarget } from '../stack/index.js';
import { ConfigError } from '../config/errors.js';

/** The options every `warden servers` command takes. */
export interface ServersOptions {
  url?: string;
  token?: string;
  clientId?: string;
  clientSecret?: string;
  config?: string;
  json?: boolean;
}

/** `warden servers add` options: a whole entry, or its commonest keys as flags. */
export interface ServersAddOptions extends ServersOptions {
  entry?: string;
  path?: string;
  upstream?: string;
  dpop?: string;
  scope?: string[];
}

/** A credential: the value, `@file`, or the environment variable. */
async function credential(value: string | undefined, envName: string, flag: string): Promise<string | undefined> {
  const raw = value ?? process.env[envName];
  if (raw === undefined || raw === '') return undefined;
  if (!raw.startsWith('@')) return raw.trim();
  try {
    return (await readFile(raw.slice(1), 'utf8')).trim();
  } catch (error) {
    throw new UsageError(`${flag}: cannot read ${raw.slice(1)} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

async function target(options: ServersOptions): Promise<ServersTarget> {
  const token = await credential(options.token, 'WARDEN_ADMIN_TOKEN', '--token');
  const clientSecret = await credential(options.clientSecret, 'WARDEN_ADMIN_CLIENT_SECRET', '--client-secret');
  return {
    ...(options.url === undefined ? {} : { url: options.url }),
    ...(options.config === undefined ? {} : { config: options.config }),
    ...(token === undefined ? {} : { token }),
    ...(options.clientId === undefined ? {} : { clientId: options.clientId }),
    ...(clientSecret === undefined ? {} : { clientSecret }),
  };
}

async function withRegistry<T>(options: ServersOptions, work: (registry: Awaited<ReturnType<typeof openServersTarget>>) => Promise<T>): Promise<T> {
  const registry = await openServersTarget(await target(options));
  try {
    return await work(registry);
  } finally {
    await registry.close();
  }
}

/** `warden servers list`: one line per server (name, source, URL, upstream), or JSON. */
export async function serversListCommand(options: ServersOptions): Promise<string> {
  const { revision, servers } = await withRegistry(options, (r) => r.list());
  if (options.json === true) return `${JSON.stringify({ revision, servers }, null, 2)}\n`;
  const rows = servers.map((s) => [s.name, s.source, String(s['url'] ?? ''), String(s['upstream'] ?? '')]);
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i]!.length), 4));
  return `${rows.map((r) => r.map((cell, i) => (i < 3 ? cell.padEnd(widths[i]!) : cell)).join('  ')).join('\n')}${rows.length ? '\n' : ''}(registry revision ${revision})\n`;
}

/** `warden servers show <name>`: the server as JSON (with its stored entry). */
export async function serversShowCommand(name: string, options: ServersOptions): Promise<string> {
  return `${JSON.stringify(await withRegistry(options, (r) => r.show(name)), null, 2)}\n`;
}

/** Builds the entry `add` writes: `--entry` (JSON or @file), else the flags. */
async function entryOf(name: string, options: ServersAddOptions): Promise<Record<string, unknown>> {
  const flags = options.path !== undefined || options.upstream !== undefined || options.dpop !== undefined || options.scope !== undefined;
  if (options.entry !== undefined) {
    if (flags) throw new UsageError('give either --entry or --path/--upstream/--dpop/--scope, not both');
    const text = options.entry.startsWith('@') ? await readFile(options.entry.slice(1), 'utf8').catch(() => { throw new UsageError(`--entry: cannot read ${options.entry!.slice(1)}`); }) : options.entry;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new ConfigError('--entry', [`(top level): not valid JSON: ${(error as Error).message}`]);
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new ConfigError('--entry', ['(top level): expected a JSON object']);
    const entry = parsed as Record<string, unknown>;
    if ('name' in entry && entry['name'] !== name) throw new ConfigError('--entry', [`name: must be ${JSON.stringify(name)} (the name given), or left out`]);
    return entry;
  }
  if (!flags) throw new UsageError('describe the server: --path and --upstream (and --dpop, --scope), or --entry with a whole entry');
  return {
    ...(options.path === undefined ? {} : { path: options.path }),
    ...(options.upstream === undefined ? {} : { upstream: options.upstream }),
    ...(options.dpop === undefined ? {} : { dpop: options.dpop }),
    ...(options.scope === undefined ? {} : { scopes: { default: options.scope } }),
  };
}

/** `warden servers add <name>`: adds (or replaces) a server. */
export async function serversAddCommand(name: string, options: ServersAddOptions): Promise<string> {
  const entry = await entryOf(name, options);
  const { revision, created } = await withRegistry(options, (r) => r.put(name, entry));
  return `${created ? 'added' : 'replaced'} server ${name} (registry revision ${revision}); running instances apply it within a second\n`;
}

/** `warden servers remove <name>`. */
export async function serversRemoveCommand(name: string, options: ServersOptions): Promise<string> {
  await withRegistry(options, (r) => r.remove(name));
  return `removed server ${name}; running instances stop routing to it within a second (requests in flight finish)\n`;
}

/**
 * Reads the configuration (YAML or JSON), applies environment and command-line overrides,
 * validates it and applies defaults — once, at start-up. Every problem is reported together,
 * each as `<key path>: <what to change>`.
 */
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parseDocument } from 'yaml';
import { applyDefaults, type WardenConfig } from './defaults.js';
import { upstreamAudienceProblem } from './upstream-audience.js';
import { ConfigError } from './errors.js';
import { describeValue, formatIssue, formatKeyPath } from './format-issues.js';
import { configSchema } from './schema.js';

/** Overrides on top of what the file says. */
export interface LoadConfigOptions {
  /** Environment read for `WARDEN_*` overrides. Default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
  /** `--port`: wins over `WARDEN_PORT` and `listen.port`. */
  port?: number;
}

/**
 * Environment variables that override configuration keys (empty values count as unset, as
 * container tooling often sets them empty). `WARDEN_REPLAY_REDIS_URL` switches replay to Redis,
 * `WARDEN_REPLAY_REDIS_NODES` (comma-separated URLs) to a Redis Cluster, `WARDEN_POSTGRES_URL`
 * storage to PostgreSQL (keeping `storage.schema`) — so passwords can come from a secret store.
 */
export const ENV_OVERRIDES = Object.freeze({
  WARDEN_PUBLIC_URL: 'publicUrl',
  WARDEN_ISSUER: 'issuer',
  WARDEN_PORT: 'listen.port',
  WARDEN_HOST: 'listen.host',
  WARDEN_REPLAY_REDIS_URL: 'replay.url',
  WARDEN_REPLAY_REDIS_NODES: 'replay.nodes',
  WARDEN_POSTGRES_URL: 'storage.url',
  WARDEN_NONCE_SECRET: 'nonce.secret',
  WARDEN_SECRET: 'authorizationServer.secret',
} as const);

type EnvName = keyof typeof ENV_OVERRIDES;
type Raw = Record<string, unknown>;

function isRecord(value: unknown): value is Raw {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** A nested object at `raw[key]`, created (or kept) so an override can be set inside it. */
function child(raw: Raw, key: string): Raw {
  const existing = raw[key];
  if (isRecord(existing)) return existing;
  const created: Raw = {};
  raw[key] = created;
  return created;
}

/**
 * Applies `WARDEN_*` overrides and `--port` to a copy of the raw configuration. Returns the copy
 * and, for messages, which top-level key paths an override set.
 */
function applyOverrides(raw: Raw, options: LoadConfigOptions, source: string): { raw: Raw; setBy: Map<string, string> } {
  const env = options.env ?? process.env;
  const copy = structuredClone(raw);
  const setBy = new Map<string, string>();
  const problems: string[] = [];
  const value = (name: EnvName): string | undefined => {
    const v = env[name];
    return v === undefined || v === '' ? undefined : v;
  };
  const set = (path: string, by: string, apply: () => void) => {
    apply();
    setBy.set(path, by);
  };

  const publicUrl = value('WARDEN_PUBLIC_URL');
  if (publicUrl !== undefined) set('publicUrl', 'WARDEN_PUBLIC_URL', () => (copy.publicUrl = publicUrl));
  const issuer = value('WARDEN_ISSUER');
  if (issuer !== undefined) set('issuer', 'WARDEN_ISSUER', () => (copy.issuer = issuer));
  const host = value('WARDEN_HOST');
  if (host !== undefined) set('listen.host', 'WARDEN_HOST', () => (child(copy, 'listen').host = host));
  const port = value('WARDEN_PORT');
  if (port !== undefined) {
    if (!/^\d{1,5}$/.test(port) || Number(port) > 65_535) problems.push(`WARDEN_PORT: expected a port number 0-65535, got ${JSON.stringify(port)}`);
    else set('listen.port', 'WARDEN_PORT', () => (child(copy, 'listen').port = Number(port)));
  }
  if (options.port !== undefined) set('listen.port', '--port', () => (child(copy, 'listen').port = options.port));
  const redis = value('WARDEN_REPLAY_REDIS_URL');
  // Replaces the whole block: a memory `capacity` means nothing for Redis.
  if (redis !== undefined) set('replay', 'WARDEN_REPLAY_REDIS_URL', () => (copy.replay = { kind: 'redis', url: redis }));
  const clusterNodes = value('WARDEN_REPLAY_REDIS_NODES');
  if (clusterNodes !== undefined) {
    if (redis !== undefined) problems.push('WARDEN_REPLAY_REDIS_URL and WARDEN_REPLAY_REDIS_NODES are both set: one Redis or one Redis Cluster, unset one of them');
    const nodes = clusterNodes.split(',').map((node) => node.trim()).filter((node) => node !== '');
    set('replay', 'WARDEN_REPLAY_REDIS_NODES', () => (copy.replay = { kind: 'redis-cluster', nodes }));
  }
  const postgres = value('WARDEN_POSTGRES_URL');
  if (postgres !== undefined) {
    const current = isRecord(copy.storage) && copy.storage['kind'] === 'postgres' ? copy.storage : {};
    set('storage', 'WARDEN_POSTGRES_URL', () => (copy.storage = { ...current, kind: 'postgres', url: postgres }));
  }
  const secret = value('WARDEN_NONCE_SECRET');
  if (secret !== undefined) set('nonce.secret', 'WARDEN_NONCE_SECRET', () => (child(copy, 'nonce').secret = secret));

  const serverSecret = value('WARDEN_SECRET');
  if (serverSecret !== undefined) {
    set('authorizationServer.secret', 'WARDEN_SECRET', () => (child(copy, 'authorizationServer').secret = serverSecret));
  }
  if (problems.length > 0) throw new ConfigError(source, problems);
  return { raw: copy, setBy };
}

/**
 * Validates a raw configuration object (as parsed from YAML or JSON), applies overrides and
 * defaults, and returns the frozen result.
 *
 * @throws {ConfigError} listing every problem.
 */
export function resolveConfig(raw: unknown, options: LoadConfigOptions & { source?: string } = {}): WardenConfig {
  const source = options.source ?? 'configuration';
  // An empty file is an empty configuration: everything defaulted.
  const input = raw === undefined || raw === null ? {} : raw;
  if (!isRecord(input)) throw new ConfigError(source, [`(top level): expected a mapping of keys, got ${describeValue(input, [])}`]);
  const { raw: overridden, setBy } = applyOverrides(input, options, source);
  const result = configSchema.safeParse(overridden);
  if (!result.success) {
    const messages = result.error.issues.flatMap((issue) => {
      const path = formatKeyPath(issue.path);
      const by = [...setBy].find(([key]) => path === key || path.startsWith(`${key}.`))?.[1];
      return formatIssue(issue, overridden).map((m) => (by ? `${m} (set by ${by})` : m));
    });
    throw new ConfigError(source, [...new Set(messages)]);
  }
  const config = applyDefaults(result.data);
  const refused = config.resources.flatMap((r, i) => {
    const problem = upstreamAudienceProblem(r, config.issuer);
    return problem === undefined ? [] : [`resources[${i}].upstreamAuth.audience: ${problem}`];
  });
  if (refused.length > 0) throw new ConfigError(source, refused);
  return config;
}

/** `json` for `.json` files and text that starts with `{`; YAML otherwise (YAML 1.2 core). */
function detectFormat(text: string, file?: string): 'json' | 'yaml' {
  const ext = file ? extname(file).toLowerCase() : '';
  if (ext === '.json') return 'json';
  if (ext === '.yaml' || ext === '.yml') return 'yaml';
  return text.trimStart().startsWith('{') ? 'json' : 'yaml';
}

/** Parses configuration text; syntax errors become a {@link ConfigError} with line and column. */
export function parseConfigText(text: string, options: LoadConfigOptions & { source?: string; format?: 'json' | 'yaml' } = {}): WardenConfig {
  const source = options.source ?? 'configuration';
  const format = options.format ?? detectFormat(text, options.source);
  let raw: unknown;
  if (format === 'json') {
    try {
      raw = text.trim() === '' ? {} : JSON.parse(text);
    } catch (error) {
      throw new ConfigError(source, [`not valid JSON: ${(error as Error).message}`]);
    }
  } else {
    const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
    if (doc.errors.length > 0) {
      throw new ConfigError(source, doc.errors.map((e) => `not valid YAML: ${(e.message.split('\n')[0] ?? e.message).replace(/:$/, '')}`));
    }
    raw = doc.toJS({ maxAliasCount: 100 });
  }
  return resolveConfig(raw, { ...options, source });
}

/**
 * Reads and resolves a configuration file (YAML or JSON, by extension or content).
 *
 * @throws {ConfigError} when the file cannot be read or is invalid.
 */
export async function loadConfigFile(file: string, options: LoadConfigOptions = {}): Promise<WardenConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'file not found' : code === 'EACCES' ? 'permission denied' : 'cannot read the file';
    throw new ConfigError(file, [`${reason}: check the --config path`]);
  }
  return parseConfigText(text, { ...options, source: file });
}

/**
 * One fleet server (an entry of `resources`, added at run time through the admin API or
 * `warden servers add`) checked exactly as the configuration file checks it: the same resource
 * schema, then the cross-checks the whole configuration makes (unique name, no overlapping
 * paths, no collision with the metrics path or the authorization server's endpoints, introspecting
 * clients that exist). A refusal lists every problem with its key path inside the server's entry.
 */
import type { ZodIssue } from 'zod';
import { deepFreeze, resolveResource, type ResourceConfig, type WardenConfig } from './defaults.js';
import { upstreamAudienceProblem } from './upstream-audience.js';
import { formatIssue, formatKeyPath } from './format-issues.js';
import { resourceSchema } from './schema.js';

/** A problem with one server entry: where (`dpop`, `scopes.tools.x[0]`, or `(top level)`) and what to change. */
export interface ServerProblem {
  readonly path: string;
  readonly message: string;
}

/** What a server is checked against besides its own entry. */
export interface FleetContext {
  /** The running configuration: public URL, metrics path, clients, the authorization server. */
  readonly config: WardenConfig;
  /** Paths the stack answers itself (the authorization server's endpoints, the admin API). */
  readonly reservedPaths: readonly string[];
}

/** The outcome of {@link checkServer}. */
export type ServerCheck = { readonly ok: true; readonly server: ResourceConfig } | { readonly ok: false; readonly problems: readonly ServerProblem[] };

/** Turns a zod issue into problems whose path is relative to the entry. */
function problemsOf(issue: ZodIssue, spec: unknown): ServerProblem[] {
  const messages = formatIssue(issue, spec);
  const prefixes = issue.code === 'unrecognized_keys' ? issue.keys.map((key) => formatKeyPath([...issue.path, key])) : messages.map(() => formatKeyPath(issue.path));
  return messages.map((message, i) => {
    const prefix = prefixes[i] ?? formatKeyPath(issue.path);
    return message.startsWith(`${prefix}: `) ? { path: prefix, message: message.slice(prefix.length + 2) } : { path: prefix, message };
  });
}

const overlaps = (a: string, b: string) => a === b || a.startsWith(`${b}/`) || b.startsWith(`${a}/`);

/**
 * Checks one server entry against `others` (the servers it would run beside) and resolves it
 * (defaults applied, canonical URI derived from `publicUrl`, frozen).
 */
export function checkServer(spec: unknown, others: readonly ResourceConfig[], context: FleetContext): ServerCheck {
  const parsed = resourceSchema.safeParse(spec);
  if (!parsed.success) return { ok: false, problems: parsed.error.issues.flatMap((issue) => problemsOf(issue, spec)) };
  const entry = parsed.data;
  const { config } = context;
  const server = deepFreeze(resolveResource(entry, config.publicUrl, config.authorizationServer.lifetimes.accessTokenSeconds, config.authorizationServer.enabled ? config.issuer : undefined));
  const problems: ServerProblem[] = [];
  const fail = (path: string, message: string) => problems.push({ path, message });
  const sameName = others.find((other) => other.name === server.name);
  if (sameName !== undefined) fail('name', `a server named ${JSON.stringify(server.name)} already exists`);
  // Host-routed servers (url) share paths only with servers on the same host.
  const key = server.host === undefined ? 'path' : 'url';
  const shown = JSON.stringify(server.host === undefined ? entry.path : entry.url);
  const shadowed = others.find((other) => other.name !== server.name && other.host === server.host && (server.host === undefined ? overlaps(other.routePath, server.routePath) : overlaps(other.routePath.replace(/\/$/, ''), server.routePath.replace(/\/$/, ''))));
  if (shadowed !== undefined) {
    fail(key, `${shown} overlaps server "${shadowed.name}" at ${JSON.stringify(shadowed.host === undefined ? shadowed.path : shadowed.canonicalUri)}: one would shadow the other`);
  }
  if (server.host === undefined && config.metrics.enabled && overlaps(config.metrics.path, server.routePath)) {
    fail('path', `${shown} collides with the metrics path ${JSON.stringify(config.metrics.path)}`);
  }
  const reserved = server.host === undefined ? context.reservedPaths.find((path) => server.routePath === path || server.routePath.startsWith(`${path}/`) || path.startsWith(`${server.routePath}/`)) : undefined;
  if (reserved !== undefined) fail('path', `${shown} collides with ${reserved}, which the stack answers itself`);
  if (server.host !== undefined && server.host === new URL(config.publicUrl).host) {
    fail('url', `${shown} is on publicUrl's own host: give a path instead (url is for servers routed by their own host)`);
  }
  if (server.trust === undefined && !config.authorizationServer.enabled) {
    fail('trust', 'required: the authorization server is disabled, so name the issuer whose tokens this server accepts');
  }
  if (server.upstreamAuth?.kind === 'token' && (!config.authorizationServer.enabled || (server.trust !== undefined && server.trust.issuer !== config.issuer))) {
    fail('upstreamAuth.kind', "token needs this stack's authorization server and a server that accepts its tokens: remove trust, or choose headers or none");
  }
  const audience = upstreamAudienceProblem(server, config.issuer);
  if (audience !== undefined) fail('upstreamAuth.audience', audience);
  const clients = new Map(config.authorizationServer.clients.map((client) => [client.clientId, client]));
  server.introspectionClients.forEach((clientId, i) => {
    const client = clients.get(clientId);
    if (server.trust !== undefined) fail(`introspectionClients[${i}]`, 'only for servers whose tokens this stack issues: remove trust, or remove introspectionClients');
    else if (client === undefined) fail(`introspectionClients[${i}]`, `${JSON.stringify(clientId)} is not in authorizationServer.clients`);
    else if (client.clientSecret === undefined) fail(`introspectionClients[${i}]`, `${JSON.stringify(clientId)} is a public client: a resource server introspects with a clientSecret (RFC 7662 §2.1)`);
  });
  return problems.length > 0 ? { ok: false, problems } : { ok: true, server };
}

/** The outcome of {@link checkFleet}: every server resolved, or the first server refused and why. */
export type FleetCheck =
  | { readonly ok: true; readonly servers: readonly ResourceConfig[] }
  | { readonly ok: false; readonly name: string; readonly problems: readonly ServerProblem[] };

/**
 * Checks a whole list of server entries on top of the configuration's own resources: each entry
 * against the configuration's resources and the entries before it. All or nothing.
 */
export function checkFleet(specs: readonly unknown[], context: FleetContext): FleetCheck {
  const servers: ResourceConfig[] = [];
  for (const spec of specs) {
    const checked = checkServer(spec, [...context.config.resources, ...servers], context);
    if (!checked.ok) {
      const name = spec !== null && typeof spec === 'object' && typeof (spec as { name?: unknown }).name === 'string' ? (spec as { name: string }).name : '(unnamed)';
      return { ok: false, name, problems: checked.problems };
    }
    servers.push(checked.server);
  }
  return { ok: true, servers };
}

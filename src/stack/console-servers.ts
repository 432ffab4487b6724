/**
 * The operator console's servers page reads the live fleet registry: every server running now,
 * declared in the configuration or added at run time (admin API, `warden servers`) — on this
 * instance or, through the shared registry store, on another.
 */
import type { ConsoleServer } from '../admin/console.js';
import type { ResourceConfig } from '../config/defaults.js';
import type { TokenBucket } from '../stores/index.js';
import { redactEntry } from './fleet/server-entry.js';
import type { ServerRegistry } from './fleet/server-registry.js';
import { scopePolicyOf } from './own-resources.js';

const bucket = (who: string, b: TokenBucket) => `per ${who} ${b.rate}/s, burst ${b.burst}`;

/** One server as the console shows it. */
export function consoleServer(server: ResourceConfig, source: ConsoleServer['source']): ConsoleServer {
  const policy = scopePolicyOf(server);
  const limits = [
    ...(server.rateLimit?.perClient ? [bucket('client', server.rateLimit.perClient)] : []),
    ...(server.rateLimit?.perSubject ? [bucket('user', server.rateLimit.perSubject)] : []),
  ];
  return {
    name: server.name,
    source,
    uri: server.canonicalUri,
    upstream: server.upstream,
    dpop: server.dpop,
    defaultScopes: policy?.default ?? [],
    toolScopes: policy?.tools ?? {},
    ...(policy?.descriptions ? { scopeDescriptions: policy.descriptions } : {}),
    ...(server.policy ? { policyRules: server.policy.rules.map((r) => r.name) } : {}),
    ...(limits.length > 0 ? { rateLimit: limits.join('; ') } : {}),
  };
}

/** Every server running now; reads the store first, so a change made on another instance shows at once. */
export async function consoleServers(registry: ServerRegistry): Promise<ConsoleServer[]> {
  await registry.refresh();
  const { servers, declaredInConfig } = registry.current();
  // A run-time server's entry as stored: what the console's edit form holds.
  return servers.map((s) => (declaredInConfig.has(s.name) ? consoleServer(s, 'config') : { ...consoleServer(s, 'registry'), entry: shownEntry(registry.record(s.name)?.spec) }));
}

/** A stored entry as the console may show it: its secret as the placeholder. */
function shownEntry(spec: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  return spec === undefined ? undefined : redactEntry(spec);
}

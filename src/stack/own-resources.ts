/**
 * Which resources the stack's own authorization server issues tokens for, and the scope policy
 * each enforces (configured, else the demo server's for `builtin:demo`).
 */
import type { AuthorizationServerOptions } from '../authorization-server/options.js';
import type { ResourceConfig, WardenConfig } from '../config/defaults.js';
import type { ScopePolicy } from '../oauth/vocabulary.js';
import { demoScopePolicy } from './demo/index.js';

/** True when tokens of this stack's own authorization server are the ones `resource` accepts. */
export function isOwnResource(config: WardenConfig, resource: ResourceConfig): boolean {
  return resource.trust === undefined || resource.trust.issuer === config.issuer;
}

/** The scope policy a resource enforces: configured, else the demo server's for `builtin:demo`. */
export function scopePolicyOf(resource: ResourceConfig): ScopePolicy | undefined {
  return resource.scopes ?? (resource.upstream === 'builtin:demo' ? demoScopePolicy : undefined);
}

/**
 * The resource registry entries (RFC 8707) of every resource that trusts this stack's issuer:
 * canonical URI, the scopes it accepts (its default scopes and every tool's), DPoP mode and
 * token lifetime. Resources that trust another issuer are not ours to issue tokens for.
 */
export function registeredResources(config: WardenConfig): AuthorizationServerOptions['resources'] {
  // The operator console is a resource of its own: its tokens are good for nothing else.
  const console = !consoleEnabled(config) ? [] : [{ uri: consoleResource(config), name: 'Warden operator console', scopes: [CONSOLE_SCOPE], defaultScopes: [CONSOLE_SCOPE], dpop: 'disabled' as const, accessTokenLifetimeSeconds: 300 }];
  return [...console, ...config.resources
    .filter((resource) => isOwnResource(config, resource))
    .map((resource) => {
      const policy = scopePolicyOf(resource);
      const defaults = [...(policy?.default ?? [])];
      const scopes = [...new Set([...defaults, ...Object.values(policy?.tools ?? {}).flat()])];
      return {
        uri: resource.canonicalUri,
        name: resource.name,
        scopes,
        defaultScopes: defaults,
        dpop: resource.dpop,
        accessTokenLifetimeSeconds: resource.tokenLifetimeSeconds,
        ...(policy?.descriptions ? { scopeDescriptions: { ...policy.descriptions } } : {}),
        ...(resource.introspectionClients.length > 0 ? { introspectionClients: [...resource.introspectionClients] } : {}),
      };
    })];
}

/** The operator console's scope and client id at the stack's authorization server. */
export const CONSOLE_SCOPE = 'warden:admin';
export const CONSOLE_CLIENT_ID = 'warden-console';

/** Whether the operator console runs (`admin.console`; by default when `admin.subjects` names who may use it). */
export function consoleEnabled(config: WardenConfig): boolean {
  return config.admin?.console === true;
}

/** Canonical URI of the operator console (`<publicUrl>/admin`). */
export function consoleResource(config: WardenConfig): string {
  return `${config.publicUrl.replace(/\/+$/, '')}/admin`;
}


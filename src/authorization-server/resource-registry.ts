import { canonicalResourceUri } from '../oauth/canonical-uri.js';
import { InvalidTargetError } from '../oauth/errors.js';
import type { DpopMode } from '../oauth/vocabulary.js';

/** A protected MCP server the authorization server may issue tokens for. */
export interface RegisteredResource {
  /** Canonical URI: the `aud` of its tokens. */
  uri: string;
  name: string;
  /** Scopes this resource accepts; a request may only ask for these. */
  scopes: readonly string[];
  /** Scopes granted when a request names none. */
  defaultScopes: readonly string[];
  dpop: DpopMode;
  accessTokenLifetimeSeconds: number;
  /** Human words per scope, shown on the consent page next to the scope name. Default none. */
  scopeDescriptions?: Readonly<Record<string, string>>;
  /** Configured clients that serve this resource and may introspect its tokens (RFC 7662 §4). Default none. */
  introspectionClients?: readonly string[];
}

/**
 * The resource registry (RFC 8707): a token's `aud` can only name a registered resource, and only
 * with scopes that resource accepts.
 */
export class ResourceRegistry {
  #byUri = new Map<string, RegisteredResource>();

  constructor(resources: readonly RegisteredResource[]) {
    this.replace(resources);
  }

  /**
   * Replaces every registered resource at once (the fleet registry changed): a lookup sees the
   * old set or the new one, never a mix. Tokens already issued for a removed resource stay valid
   * until they expire, but no new ones are issued for it.
   */
  replace(resources: readonly RegisteredResource[]): void {
    const next = new Map<string, RegisteredResource>();
    for (const r of resources) next.set(canonicalResourceUri(r.uri), Object.freeze({ ...r, uri: canonicalResourceUri(r.uri) }));
    this.#byUri = next;
  }

  /** All registered resources. */
  list(): RegisteredResource[] {
    return [...this.#byUri.values()];
  }

  /**
   * Resolves a `resource` parameter: absolute URI, no fragment (RFC 8707 §2), registered.
   * Throws `invalid_target` naming what was wrong.
   */
  resolve(value: string | undefined): RegisteredResource {
    if (value === undefined || value === '') throw new InvalidTargetError('the "resource" parameter is required: name the MCP server the token is for (RFC 8707)');
    // Clients almost always send the canonical URI itself: skip the URL parse.
    const exact = this.#byUri.get(value);
    if (exact !== undefined) return exact;
    if (value.includes('#')) throw new InvalidTargetError('"resource" must not contain a fragment (RFC 8707 §2)');
    let canonical: string;
    try {
      canonical = canonicalResourceUri(value);
    } catch {
      throw new InvalidTargetError('"resource" must be an absolute https URI (RFC 8707 §2)');
    }
    const found = this.#byUri.get(canonical);
    if (found === undefined) throw new InvalidTargetError(`"${canonical}" is not a resource registered with this authorization server`);
    return found;
  }

  /**
   * True when `clientId` is registered as a server of one of `audiences` (a resource's
   * `introspectionClients`): it may learn about tokens meant for it (RFC 7662 §4).
   */
  isResourceServer(clientId: string, audiences: readonly string[]): boolean {
    return audiences.some((aud) => this.#byUri.get(aud)?.introspectionClients?.includes(clientId) === true);
  }

  /** Every scope any resource accepts (for `scopes_supported`). */
  allScopes(): string[] {
    return [...new Set(this.list().flatMap((r) => r.scopes))];
  }
}

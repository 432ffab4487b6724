/**
 * The audience of the token a gateway presents its upstream (`upstreamAuth: token`): it must name
 * the upstream and nothing this stack's clients can be issued a token for. The resource's own
 * canonical URI (a gateway reached and reaching its upstream under one name) or the issuer would
 * let a client's ordinary token pass at the upstream, past the gateway (RFC 8707 §2).
 */
import type { ResourceConfig } from './defaults.js';
import { canonicalResourceUri } from '../oauth/canonical-uri.js';

/** The default audience for `upstream`: its URL without the query (which may carry the upstream's own credential). */
export function defaultUpstreamAudience(upstream: string): string {
  const url = new URL(upstream);
  url.search = '';
  return url.href;
}

/** Why `resource`'s upstream token audience is refused, or undefined when it is fine. */
export function upstreamAudienceProblem(resource: ResourceConfig, issuer: string): string | undefined {
  const auth = resource.upstreamAuth;
  if (auth?.kind !== 'token') return undefined;
  const fix = "set upstreamAuth.audience to the upstream's own identifier, or choose kind headers or none";
  if (auth.audience === resource.canonicalUri) {
    return `${JSON.stringify(auth.audience)} is this resource's own URI: the upstream would accept every token clients get for it, past the gateway — ${fix}`;
  }
  if (auth.audience === canonicalIssuer(issuer)) return `${JSON.stringify(auth.audience)} is this stack's issuer — ${fix}`;
  return undefined;
}

/** The issuer in canonical form; as written when it has none (never throws: a check must answer, not fail). */
function canonicalIssuer(issuer: string): string {
  try {
    return canonicalResourceUri(issuer);
  } catch {
    return issuer;
  }
}

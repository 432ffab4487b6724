import { DEFAULTS } from '../../oauth/defaults.js';
import type { AsContext } from '../context.js';
import { assertionRules } from './assertion-rules.js';
import { jwtBearerTrust, type WorkloadDomain } from './trusted-issuers.js';
import { AssertionError, decodeAssertion, verifyAssertion, type VerifiedAssertion } from './verify-assertion.js';

/**
 * `typ` values of platform workload tokens: Kubernetes service-account tokens carry none, SPIFFE
 * JWT-SVIDs and CI OIDC tokens `JWT`. Explicitly typed tokens of other kinds are refused.
 */
const WORKLOAD_TYPES: ReadonlySet<string | undefined> = new Set([undefined, 'jwt']);

/** A verified workload token and the client its subject maps to. */
export interface VerifiedWorkload {
  domain: WorkloadDomain;
  assertion: VerifiedAssertion;
  clientId: string;
}

/**
 * Verifies a platform-issued workload JWT (SEP-1933; RFC 7523 §3): `iss` a configured trust
 * domain, its signature by the domain's keys, `aud` = the domain's configured audience (default
 * Warden's issuer) as the only audience, `exp` no further ahead than the domain allows, `nbf`/`iat`,
 * then maps `sub` to a client by the domain's rules (first match). The token is not single use:
 * platforms hand a workload one token until it rotates. A `jti`, when present, is checked for shape only.
 *
 * @throws {AssertionError} With a reason safe to send (→ `invalid_grant`).
 */
export async function verifyWorkload(ctx: AsContext, assertion: string): Promise<VerifiedWorkload> {
  const base = assertionRules(ctx, 'workload token', WORKLOAD_TYPES);
  const { payload } = decodeAssertion(assertion, base);
  const domain = typeof payload.iss === 'string' ? jwtBearerTrust(ctx).workloads.get(payload.iss) : undefined;
  if (domain === undefined) throw new AssertionError('the assertion\'s "iss" is neither a trusted workload issuer nor, with typ oauth-id-jag+jwt, an enterprise identity provider');
  const verified = await verifyAssertion(assertion, domain.keys, {
    ...base,
    issuer: domain.issuer,
    audience: domain.audience,
    maxLifetimeSeconds: domain.maxLifetimeSeconds,
    maxJtiLength: DEFAULTS.assertions.maxJtiLength,
    requireJti: false,
  });
  const rule = domain.rules.find((r) => r.subject.test(verified.sub));
  if (rule === undefined) throw new AssertionError(`no rule of trust domain ${domain.id} maps this workload's subject to a client`);
  return { domain, assertion: verified, clientId: rule.clientId };
}

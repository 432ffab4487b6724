import type { AsContext } from '../context.js';
import { assertionRules } from './assertion-rules.js';
import { jwtBearerTrust, type TrustedIssuer } from './trusted-issuers.js';
import { AssertionError, decodeAssertion, verifyAssertion, type AssertionRules, type VerifiedAssertion } from './verify-assertion.js';

/** The explicit type of an Identity Assertion JWT Authorization Grant (draft-ietf-oauth-identity-assertion-authz-grant §3). */
export const ID_JAG_TYPE = 'oauth-id-jag+jwt';

const ID_JAG_TYPES: ReadonlySet<string | undefined> = new Set([ID_JAG_TYPE]);

/** True when the assertion's header says it is an ID-JAG (not verified: only to pick the checks that follow). */
export function looksLikeIdJag(assertion: string): boolean {
  const dot = assertion.indexOf('.');
  if (dot <= 0 || dot > 4096) return false;
  try {
    const header = JSON.parse(Buffer.from(assertion.slice(0, dot), 'base64url').toString('utf8')) as { typ?: unknown } | null;
    return typeof header?.typ === 'string' && header.typ.toLowerCase() === ID_JAG_TYPE;
  } catch {
    return false;
  }
}

/** A verified ID-JAG, its `jti` not yet claimed. */
export interface VerifiedIdJag {
  idp: TrustedIssuer;
  assertion: VerifiedAssertion;
  rules: AssertionRules;
  /** The `client_id` claim: the client at this server the IdP issued the grant to. */
  clientId: string;
  /** The `resource` claim(s), when present. */
  resources?: string[];
  /** The `scope` claim, split, when present. */
  scopes?: string[];
}

/**
 * Verifies an ID-JAG (SEP-990; draft-ietf-oauth-identity-assertion-authz-grant §3–4): `typ`
 * `oauth-id-jag+jwt`, `iss` a configured enterprise IdP, its signature by that IdP's keys, `aud`
 * = Warden's issuer, `exp` (capped), `jti`, `sub`, and a `client_id` claim. The caller matches
 * `client_id`, `resource` and `scope` to the request, then claims the `jti`.
 *
 * @throws {AssertionError} With a reason safe to send.
 */
export async function verifyIdJag(ctx: AsContext, assertion: string): Promise<VerifiedIdJag> {
  const rules = assertionRules(ctx, 'ID-JAG', ID_JAG_TYPES);
  const { payload } = decodeAssertion(assertion, rules);
  const idp = typeof payload.iss === 'string' ? jwtBearerTrust(ctx).enterprise.get(payload.iss) : undefined;
  if (idp === undefined) throw new AssertionError('ID-JAG "iss" is not a trusted enterprise identity provider');
  const verified = await verifyAssertion(assertion, idp.keys, { ...rules, issuer: idp.issuer });
  const { client_id: clientId, resource, scope } = verified.payload;
  if (typeof clientId !== 'string' || clientId === '') throw new AssertionError('ID-JAG must have a "client_id" claim');
  let resources: string[] | undefined;
  if (resource !== undefined) {
    resources = typeof resource === 'string' ? [resource] : Array.isArray(resource) && resource.every((r) => typeof r === 'string') ? (resource as string[]) : undefined;
    if (resources === undefined || resources.length === 0) throw new AssertionError('ID-JAG "resource" must be a URI or a list of URIs');
  }
  if (scope !== undefined && typeof scope !== 'string') throw new AssertionError('ID-JAG "scope" must be a space-separated string');
  return {
    idp,
    assertion: verified,
    rules,
    clientId,
    ...(resources !== undefined && { resources }),
    ...(typeof scope === 'string' && { scopes: scope.split(' ').filter((s) => s !== '') }),
  };
}

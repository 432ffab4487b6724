import type { KeySource } from '../../jose/key-source.js';
import { createLocalKeySource } from '../../jose/local-key-source.js';
import { createRemoteKeySource } from '../../jose/remote-key-source.js';
import type { AsContext } from '../context.js';
import type { AuthorizationServerOptions, TrustedAssertionIssuer, WorkloadTrustDomain } from '../options.js';

/** A trusted issuer of grant assertions, its keys ready. */
export interface TrustedIssuer {
  id: string;
  issuer: string;
  keys: KeySource;
}

/** A workload trust domain, its keys ready and its rules compiled. */
export interface WorkloadDomain extends TrustedIssuer {
  audience: string;
  maxLifetimeSeconds: number;
  rules: ReadonlyArray<{ subject: RegExp; clientId: string }>;
}

/** The jwt-bearer grant's trust, built once per server. */
export interface JwtBearerTrust {
  /** SEP-990 enterprise IdPs by issuer. */
  enterprise: ReadonlyMap<string, TrustedIssuer>;
  /** SEP-1933 workload trust domains by issuer. */
  workloads: ReadonlyMap<string, WorkloadDomain>;
}

/** Default longest a workload token may still be valid: platform tokens (Kubernetes: 1 h by default) are reused until they rotate. */
export const DEFAULT_WORKLOAD_MAX_LIFETIME_SECONDS = 24 * 3600;

const built = new WeakMap<AsContext, JwtBearerTrust>();

/**
 * A subject pattern as a regular expression: the whole subject must match, `*` stands for any run
 * of characters (none included), everything else is literal. `system:serviceaccount:ci:*`,
 * `spiffe://prod.example/ns/payments/sa/*`, `repo:acme/app:ref:refs/heads/main`.
 */
export function subjectPattern(pattern: string): RegExp {
  const literal = pattern.split('*').map((part) => part.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'));
  return new RegExp(`^${literal.join('.*')}$`, 's');
}

function keySource(path: string, entry: TrustedAssertionIssuer, now: () => number): KeySource {
  if ((entry.jwks === undefined) === (entry.jwksUri === undefined)) throw new TypeError(`createAuthorizationServer: ${path} needs exactly one of jwks and jwksUri`);
  try {
    return entry.jwks !== undefined ? createLocalKeySource(entry.jwks) : createRemoteKeySource({ jwksUri: entry.jwksUri as string, now: () => now() * 1000 });
  } catch (error) {
    throw new TypeError(`createAuthorizationServer: ${path}: ${(error as Error).message}`);
  }
}

function checkIssuer(path: string, entry: TrustedAssertionIssuer, seen: Set<string>): void {
  if (typeof entry.id !== 'string' || !/^[A-Za-z0-9._-]{1,64}$/.test(entry.id)) throw new TypeError(`createAuthorizationServer: ${path}.id must be 1-64 letters, digits, ".", "_" or "-"`);
  if (typeof entry.issuer !== 'string' || entry.issuer === '') throw new TypeError(`createAuthorizationServer: ${path}.issuer must be the issuer identifier its tokens carry in "iss"`);
  // One issuer, one meaning: an ID-JAG issuer that were also a workload domain could mint either kind.
  if (seen.has(entry.issuer)) throw new TypeError(`createAuthorizationServer: ${path}.issuer ${entry.issuer} is listed twice (each issuer is either an enterprise IdP or a workload trust domain, once)`);
  seen.add(entry.issuer);
}

/**
 * Checks `options.jwtBearer` and builds its key sources, at start-up: a wrong entry fails before
 * the first request. Called once by `createAuthorizationServer`.
 *
 * @throws {TypeError} Saying what to change.
 */
export function buildJwtBearerTrust(ctx: AsContext, options: AuthorizationServerOptions): JwtBearerTrust {
  const given = options.jwtBearer ?? {};
  const seen = new Set<string>();
  const enterprise = new Map<string, TrustedIssuer>();
  (given.enterpriseIdps ?? []).forEach((entry, i) => {
    const path = `jwtBearer.enterpriseIdps[${i}]`;
    checkIssuer(path, entry, seen);
    enterprise.set(entry.issuer, { id: entry.id, issuer: entry.issuer, keys: keySource(path, entry, ctx.now) });
  });
  const workloads = new Map<string, WorkloadDomain>();
  (given.workloads ?? []).forEach((entry: WorkloadTrustDomain, i) => {
    const path = `jwtBearer.workloads[${i}]`;
    checkIssuer(path, entry, seen);
    const max = entry.maxLifetimeSeconds ?? DEFAULT_WORKLOAD_MAX_LIFETIME_SECONDS;
    if (!Number.isSafeInteger(max) || max < 60 || max > 7 * 86_400) throw new TypeError(`createAuthorizationServer: ${path}.maxLifetimeSeconds must be a whole number from 60 to 604800`);
    if (!Array.isArray(entry.rules) || entry.rules.length === 0) throw new TypeError(`createAuthorizationServer: ${path}.rules must map at least one subject pattern to a client`);
    const rules = entry.rules.map((rule, r) => {
      if (typeof rule.subject !== 'string' || rule.subject === '' || rule.subject === '*') throw new TypeError(`createAuthorizationServer: ${path}.rules[${r}].subject must be a subject or a pattern narrower than "*"`);
      if (typeof rule.clientId !== 'string' || rule.clientId === '') throw new TypeError(`createAuthorizationServer: ${path}.rules[${r}].clientId must name a configured client`);
      return { subject: subjectPattern(rule.subject), clientId: rule.clientId };
    });
    workloads.set(entry.issuer, { id: entry.id, issuer: entry.issuer, keys: keySource(path, entry, ctx.now), audience: entry.audience ?? ctx.issuer, maxLifetimeSeconds: max, rules });
  });
  const trust = { enterprise, workloads };
  built.set(ctx, trust);
  return trust;
}

/** The trust built for this server (empty when `jwtBearer` is not configured). */
export function jwtBearerTrust(ctx: AsContext): JwtBearerTrust {
  return built.get(ctx) ?? { enterprise: new Map(), workloads: new Map() };
}

/** True when the jwt-bearer grant has someone to trust (an enterprise IdP or a workload domain): only then is it offered. */
export function jwtBearerEnabled(ctx: AsContext): boolean {
  const trust = built.get(ctx);
  return trust !== undefined && (trust.enterprise.size > 0 || trust.workloads.size > 0);
}

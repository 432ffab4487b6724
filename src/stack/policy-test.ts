/**
 * `warden policy test`, offline: the decision the gauntlet would take on one `tools/call` of one
 * configured resource for the given token claims (and arguments), explained step by step — the
 * scopes the call needs against those granted, then every CEL rule's outcome.
 */
import type { ResourceConfig, WardenConfig } from '../config/defaults.js';
import { normaliseClaims, type AccessTokenClaims } from '../jose/verify-access-token.js';
import { NameSet } from '../mcp/lookalike-names.js';
import { missingScopes } from '../oauth/scope.js';
import { compilePolicy } from '../resource-server/policy/compile-policy.js';
import { subjectBindings } from '../resource-server/policy/decide.js';
import { explainRules } from '../resource-server/policy/explain.js';
import { UsageError } from './errors.js';
import { scopePolicyOf } from './own-resources.js';

/** What to judge. */
export interface PolicyTestInput {
  /** `resources[].name`. */
  server: string;
  tool: string;
  /** The access-token payload (JSON object); `aud` and `iss` default to the resource and the issuer it trusts. */
  claims: unknown;
  /** The call's `arguments` (JSON object). */
  arguments?: unknown;
  /** The time of the call. Default now. */
  now?: Date;
}

/** The decision and its explanation, one line each. */
export interface PolicyTestResult {
  allowed: boolean;
  lines: string[];
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * Judges `input` against `config`.
 *
 * @throws {UsageError} for an unknown server or claims that are not a token payload.
 */
export function explainPolicyDecision(config: WardenConfig, input: PolicyTestInput): PolicyTestResult {
  const resource: ResourceConfig | undefined = config.resources.find((r) => r.name === input.server);
  if (resource === undefined) throw new UsageError(`no resource named ${JSON.stringify(input.server)} in the configuration; resources: ${config.resources.map((r) => r.name).join(', ') || '(none)'}`);
  if (!isObject(input.claims)) throw new UsageError('the claims file must hold a JSON object: the access-token payload (sub, client_id, scope, …)');
  if (input.arguments !== undefined && !isObject(input.arguments)) throw new UsageError('the arguments file must hold a JSON object: the tools/call arguments');
  const iss = typeof input.claims.iss === 'string' ? input.claims.iss : (resource.trust?.issuer ?? config.issuer);
  let claims: AccessTokenClaims;
  try {
    claims = normaliseClaims({ aud: resource.canonicalUri, ...input.claims }, iss, Number.POSITIVE_INFINITY);
  } catch (error) {
    throw new UsageError(`the claims are not a usable access-token payload: ${(error as Error).message}`);
  }
  const now = input.now ?? new Date();
  const lines = [`resource ${resource.name} (${resource.canonicalUri}), tools/call of ${JSON.stringify(input.tool)}, at ${now.toISOString()}`];

  // 1. Scopes, as the gauntlet checks them first.
  const scopes = scopePolicyOf(resource);
  const needed = [...new Set([...(scopes?.default ?? []), ...(scopes?.tools?.[input.tool] ?? [])])];
  const lacking = missingScopes(claims.scopes, needed);
  lines.push(`scopes: the call needs ${needed.join(' ') || '(none)'}; the token has ${claims.scopes.join(' ') || '(none)'}`);
  let refusal: string | undefined;
  if (lacking.length > 0) refusal = `DENY by scope: the token lacks ${lacking.join(' ')} (403 insufficient_scope)`;
  const meant = new NameSet(Object.keys(scopes?.tools ?? {})).lookalikeOf(input.tool);
  if (refusal === undefined && meant !== undefined) refusal = `DENY: ${JSON.stringify(input.tool)} is a lookalike of ${JSON.stringify(meant)} (400 invalid_request)`;

  // 2. The CEL rules, each with its outcome.
  if (resource.policy === undefined || resource.policy.rules.length === 0) {
    lines.push('policy: no rules');
  } else {
    const policy = compilePolicy(resource.policy);
    const policyMeant = policy.tools.lookalikeOf(input.tool);
    if (refusal === undefined && policyMeant !== undefined) refusal = `DENY: ${JSON.stringify(input.tool)} is a lookalike of ${JSON.stringify(policyMeant)}, a rule's tool (400 invalid_request)`;
    const subject = subjectBindings(policy, claims);
    lines.push(`policy: groups (claim ${policy.groupsClaim.join('.')}) = ${JSON.stringify(subject.groups)}`);
    const call = { method: 'tools/call', tool: input.tool, ...(input.arguments === undefined ? {} : { arguments: input.arguments }) };
    for (const trace of explainRules(policy, subject, call, now)) {
      const what = { skipped: 'not about this tool', passed: trace.effect === 'allow' ? 'allow condition true' : 'deny condition false', refused: trace.effect === 'allow' ? 'allow condition FALSE' : 'deny condition TRUE', error: `could not be evaluated (${trace.error}): refuses` }[trace.outcome];
      lines.push(`  rule ${trace.rule} (${trace.effect}): ${what}`);
      if (refusal === undefined && (trace.outcome === 'refused' || trace.outcome === 'error')) refusal = `DENY by rule ${JSON.stringify(trace.rule)} (403 access_denied)`;
    }
  }
  lines.push(refusal ?? 'ALLOW');
  return { allowed: refusal === undefined, lines };
}

/**
 * The reasoning behind a policy decision, rule by rule, for operators (`warden policy test`):
 * which rules applied to the call, which held, and which refused and why. The same evaluation as
 * the gauntlet's ({@link decide}), kept apart so the hot path builds no trace.
 */
import type { CompiledPolicy } from './compile-policy.js';
import { evaluateRule, type CallBindings, type SubjectBindings } from './decide.js';

/** One rule's part in a decision. */
export interface RuleTrace {
  rule: string;
  effect: 'allow' | 'deny';
  /** `skipped`: the rule is about other tools; `passed`/`refused`: evaluated; `error`: could not be (refuses). */
  outcome: 'skipped' | 'passed' | 'refused' | 'error';
  /** The evaluation error, for `error`. */
  error?: string;
}

/** Every rule's outcome for `call`, in order; the decision is a refusal when any is `refused` or `error`. */
export function explainRules(policy: CompiledPolicy, subject: SubjectBindings, call: CallBindings, now: Date): RuleTrace[] {
  const context: Record<string, unknown> = {
    sub: subject.sub,
    client_id: subject.client_id,
    iss: subject.iss,
    scope: subject.scope,
    groups: subject.groups,
    claims: subject.claims,
    method: call.method,
    tool: call.tool,
    arguments: call.arguments ?? {},
    now,
  };
  return policy.rules.map((rule) => {
    if (rule.tools !== undefined && !(call.method === 'tools/call' && rule.tools.has(call.tool))) return { rule: rule.name, effect: rule.effect, outcome: 'skipped' };
    const verdict = evaluateRule(rule, context);
    if (verdict.error !== undefined) return { rule: rule.name, effect: rule.effect, outcome: 'error', error: verdict.error };
    return { rule: rule.name, effect: rule.effect, outcome: verdict.pass ? 'passed' : 'refused' };
  });
}

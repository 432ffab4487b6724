/**
 * Which tools a caller is shown in `tools/list`: those whose scopes the token holds and that no
 * rule refuses whatever the arguments — so an agent sees what it can use. Hiding is a courtesy,
 * not the control: a call of a hidden tool still goes through the gauntlet and is refused there.
 */
import type { AccessTokenClaims } from '../../jose/verify-access-token.js';
import type { JsonRpcMessage } from '../../mcp/json-rpc-messages.js';
import type { NameSet } from '../../mcp/lookalike-names.js';
import { missingScopes } from '../../oauth/scope.js';
import type { CompiledPolicy } from './compile-policy.js';
import { couldCall, subjectBindings } from './decide.js';

/** A predicate over tool names: true when the caller may be shown (and may try to call) the tool. */
export type ToolVisibility = (name: string) => boolean;

export interface ToolVisibilityInput {
  policy: CompiledPolicy | undefined;
  toolScopes: ReadonlyMap<string, readonly string[]>;
  /** Tools the scope policy names, to hide lookalikes a strict gauntlet would refuse. */
  toolNames: NameSet;
  claims: AccessTokenClaims;
  nowSeconds: number;
}

/** Whether the body lists tools (a `tools/list` request), so its answer is worth filtering. */
export function listsTools(messages: readonly JsonRpcMessage[]): boolean {
  return messages.some((m) => m.kind === 'request' && m.method === 'tools/list');
}

/**
 * The visibility predicate for one caller, or undefined when nothing restricts tools (no tool
 * scopes and no rules). Decisions are memoised per name for the life of the predicate (one
 * response).
 */
export function toolVisibility(input: ToolVisibilityInput): ToolVisibility | undefined {
  const { policy, toolScopes, toolNames, claims } = input;
  const hasRules = policy !== undefined && policy.rules.length > 0;
  if (!hasRules && toolScopes.size === 0) return undefined;
  const subject = hasRules ? subjectBindings(policy, claims) : undefined;
  const now = new Date(input.nowSeconds * 1000);
  const memo = new Map<string, boolean>();
  return (name) => {
    if (typeof name !== 'string') return false;
    let visible = memo.get(name);
    if (visible !== undefined) return visible;
    const required = toolScopes.get(name);
    if (required !== undefined) visible = missingScopes(claims.scopes, required).length === 0;
    // A name that folds into a policy's tool is refused when called (or needs that tool's rights): do not show it.
    else visible = toolNames.lookalikeOf(name) === undefined && (policy === undefined || policy.tools.lookalikeOf(name) === undefined);
    if (visible && subject !== undefined) visible = couldCall(policy as CompiledPolicy, subject, name, now);
    if (memo.size < 10_000) memo.set(name, visible);
    return visible;
  };
}

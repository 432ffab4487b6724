/**
 * The gauntlet's policy step: judges every request message of the body (a batch message by
 * message) and refuses the whole request, naming the rule, when one is refused.
 */
import type { AccessTokenClaims } from '../../jose/verify-access-token.js';
import type { JsonRpcMessage } from '../../mcp/json-rpc-messages.js';
import { MessageRefusedError, RPC_CODES } from '../../mcp/message-refused-error.js';
import { quote } from '../../mcp/strict-json.js';
import type { CompiledPolicy } from './compile-policy.js';
import { decide, subjectBindings, type CallBindings } from './decide.js';
import { PolicyDeniedError } from './policy-denied-error.js';

/** The call a message makes, as policy variables. */
export function callOf(message: JsonRpcMessage & { kind: 'request' | 'notification' }): CallBindings {
  if (message.method !== 'tools/call') return { method: message.method, tool: '' };
  const name = message.params?.name;
  const args = message.params?.arguments;
  return { method: message.method, tool: typeof name === 'string' ? name : '', ...(args === undefined ? {} : { arguments: args }) };
}

/**
 * Refuses the request when the policy refuses any of its messages. A request with no request
 * message (a GET stream, a DELETE, a response) is judged once as method `""`, so rules about
 * every message still apply to it.
 *
 * @throws {PolicyDeniedError} 403, naming the rule.
 * @throws {MessageRefusedError} 400 when the body could not be read unambiguously (non-strict mode),
 *   or (strict mode) a tool name folds into one a rule names without being it.
 */
export function enforcePolicy(policy: CompiledPolicy, claims: AccessTokenClaims, messages: readonly JsonRpcMessage[], ambiguous: boolean, strict: boolean, nowSeconds: number): void {
  if (policy.rules.length === 0) return;
  if (ambiguous) throw new MessageRefusedError(400, RPC_CODES.invalidRequest, 'the policy cannot judge a body that parsers could read differently; send plain I-JSON');
  const subject = subjectBindings(policy, claims);
  const now = new Date(nowSeconds * 1000);
  let judged = false;
  for (const message of messages) {
    if (message.kind === 'response') continue;
    judged = true;
    refuseLookalike(policy, message, strict);
    const decision = decide(policy, subject, callOf(message), now);
    if (!decision.allowed) throw new PolicyDeniedError(decision.rule);
  }
  if (!judged) {
    const decision = decide(policy, subject, { method: '', tool: '' }, now);
    if (!decision.allowed) throw new PolicyDeniedError(decision.rule);
  }
}

/**
 * "DELETE_FILE" or "delete_file\0" is no rule's tool, but an upstream matching tool names loosely
 * would run delete_file: strict mode refuses the message (400), lenient mode refuses it by the
 * rules about the tool it could be read as (403).
 */
function refuseLookalike(policy: CompiledPolicy, message: JsonRpcMessage & { kind: 'request' | 'notification' }, strict: boolean): void {
  if (message.method !== 'tools/call' || typeof message.params?.name !== 'string') return;
  const meant = policy.tools.lookalikeOf(message.params.name);
  if (meant === undefined) return;
  if (strict) throw new MessageRefusedError(400, RPC_CODES.invalidRequest, `tool name ${quote(message.params.name)} is not "${meant}" but an upstream matching names loosely would run "${meant}"`);
  const rule = policy.rules.find((r) => r.tools?.has(meant));
  throw new PolicyDeniedError(rule?.name ?? '(lookalike tool name)');
}

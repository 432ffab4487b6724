/**
 * The one CEL environment policy rules compile in: every variable a rule may name, declared with
 * its type, so a misspelt name or a type mismatch fails when the configuration loads, not when a
 * request arrives.
 */
import { Environment } from '@marcbachmann/cel-js';

/** The variables of a policy rule, their CEL types and what they hold (documentation and `warden policy test`). */
export const POLICY_VARIABLES = Object.freeze({
  sub: ['string', 'the token subject ("" when the token has none, e.g. client credentials)'],
  client_id: ['string', 'the OAuth client the token was issued to'],
  iss: ['string', 'the token issuer'],
  scope: ['list<string>', 'the granted scopes'],
  groups: ['list<string>', 'the configured groups/roles claim (policy.groupsClaim), [] when absent'],
  claims: ['map<string, dyn>', 'the whole access-token payload'],
  method: ['string', 'the JSON-RPC method ("" for a request with no message, e.g. GET or DELETE)'],
  tool: ['string', 'the tool of a tools/call ("" otherwise)'],
  arguments: ['map<string, dyn>', 'the arguments of a tools/call ({} otherwise)'],
  now: ['google.protobuf.Timestamp', 'the time of the request'],
} as const);

/** Names of {@link POLICY_VARIABLES}. */
export type PolicyVariable = keyof typeof POLICY_VARIABLES;

/** Longest rule expression accepted: rules are written by operators, not generated. */
export const MAX_EXPRESSION_LENGTH = 4096;

let shared: Environment | undefined;

/** The shared environment (created on first use; it is read-only once built). */
export function policyEnvironment(): Environment {
  if (shared !== undefined) return shared;
  const env = new Environment({ limits: { maxAstNodes: 1000, maxDepth: 32, maxListElements: 256, maxMapEntries: 256, maxCallArguments: 16 } });
  for (const [name, [type]] of Object.entries(POLICY_VARIABLES)) env.registerVariable(name, type);
  shared = env;
  return env;
}

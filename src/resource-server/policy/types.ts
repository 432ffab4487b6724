/**
 * The shapes of a CEL policy: what a resource's configuration declares (`policy.rules`), and
 * what a decision says — which rule allowed or refused, so the answer can name it.
 */

/** One rule: exactly one of `allow` or `deny`, a CEL expression that evaluates to a bool. */
export interface PolicyRuleOptions {
  /** Named in refusals and in `warden policy test` (never the expression). A slug: `[a-z0-9][a-z0-9_.-]*`. */
  name: string;
  /**
   * The tools the rule is about (`tools/call` of one of them). Omitted: the rule applies to every
   * request message of this resource (`initialize`, `tools/list`, every `tools/call`, …).
   */
  tools?: readonly string[];
  /** A condition every applicable request must meet. */
  allow?: string;
  /** A condition no applicable request may meet. */
  deny?: string;
}

/**
 * Rules in the Common Expression Language, checked after scopes. A request passes when every
 * applicable `allow` holds and no applicable `deny` does; a rule that cannot be evaluated
 * (a missing key, a wrong type) refuses (fail closed). Variables: `sub`, `client_id`, `iss`,
 * `scope` (list), `groups` (list, from {@link PolicyOptions.groupsClaim}), `claims` (the whole
 * token payload), `method`, `tool`, `arguments` (map) and `now` (timestamp).
 *
 * @see https://github.com/google/cel-spec/blob/master/doc/langdef.md
 */
export interface PolicyOptions {
  rules: readonly PolicyRuleOptions[];
  /** Claim read into `groups`: a name or a dotted path (`realm_access.roles`). Default `groups`. */
  groupsClaim?: string;
}

/** The outcome of a policy for one request message. */
export type PolicyDecision =
  | { allowed: true; /** Rules that applied and held, in order. */ matched: readonly string[] }
  | {
      allowed: false;
      /** The rule that refused. */
      rule: string;
      /** Why, for operators (`warden policy test`): never sent to the caller. */
      reason: string;
    };

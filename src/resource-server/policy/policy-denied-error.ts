import { OAuthError, type OAuthErrorOptions } from '../../oauth/errors.js';

/**
 * 403: the resource's policy refused the request. Answered without a `WWW-Authenticate`
 * challenge — another token with more scopes would not help — and with a JSON-RPC error
 * (-32003) that names the rule, never its expression.
 */
export class PolicyDeniedError extends OAuthError {
  /** The name of the rule that refused. */
  readonly rule: string;

  constructor(rule: string, options?: OAuthErrorOptions) {
    super('access_denied', 403, `refused by policy rule ${JSON.stringify(rule)}`, { ...options, challenge: false, rpcCode: -32003 });
    this.rule = rule;
  }
}

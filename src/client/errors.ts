/**
 * Errors the client kit raises. Each has a stable `code`, so callers can branch without parsing
 * messages.
 */
import { InsufficientScopeError, WardenError } from '../oauth/errors.js';

export { InsufficientScopeError };

/** Base class of the kit's errors. */
export class McpAuthError extends WardenError {
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/**
 * The user (or the authorization server on their behalf) said no: the redirect came back with
 * `error=access_denied`.
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-4.1.2.1
 */
export class AuthorizationDeclinedError extends McpAuthError {
  override name = 'AuthorizationDeclinedError';
  constructor(description?: string) {
    super('access_denied', `authorization was declined${description ? `: ${description}` : ''}`);
  }
}

/**
 * The authorization response was an error other than a refusal, or failed a check: wrong `state`
 * (RFC 6749 §10.12), wrong or missing `iss` (RFC 9207 §2.4), no `code`.
 */
export class AuthorizationResponseError extends McpAuthError {
  override name = 'AuthorizationResponseError';
}

/**
 * A request still needs more scope after the step-up attempts allowed (or step-up is turned off):
 * the same {@link InsufficientScopeError} the resource server raises, with `requiredScope` (what
 * the server's last challenge asked for), `operation` and `attempts` set.
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-3.1
 */
export function stepUpRefused(input: { requiredScope: string | undefined; operation: string; attempts: number; description?: string }): InsufficientScopeError {
  const needs = input.requiredScope ? ` (needs scope "${input.requiredScope}")` : '';
  const tried = input.attempts === 0 ? 'step-up is turned off' : `still refused after ${input.attempts} step-up authorization${input.attempts === 1 ? '' : 's'}`;
  const message = `${input.operation} was refused for insufficient scope${needs}: ${tried}${input.description ? ` — ${input.description}` : ''}`;
  return new InsufficientScopeError(message, {
    ...(input.requiredScope === undefined ? {} : { requiredScope: input.requiredScope, scope: input.requiredScope.split(' ') }),
    operation: input.operation,
    attempts: input.attempts,
  });
}

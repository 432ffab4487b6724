/**
 * The token-endpoint errors of the device authorization grant (RFC 8628 §3.5), each a 400 with
 * its wire code, as `OAuthError`s so the one error writer answers them.
 *
 * @see https://www.rfc-editor.org/rfc/rfc8628#section-3.5
 */
import { OAuthError, type OAuthErrorOptions } from './errors.js';

/** 400 `authorization_pending`: the user has not yet approved or denied; poll again after the interval. */
export class AuthorizationPendingError extends OAuthError {
  constructor(description: string, options?: OAuthErrorOptions) {
    super('authorization_pending', 400, description, options);
  }
}

/** 400 `slow_down`: still pending, and polled too fast; the interval is raised by 5 s from now on. */
export class SlowDownError extends OAuthError {
  constructor(description: string, options?: OAuthErrorOptions) {
    super('slow_down', 400, description, options);
  }
}

/** 400 `expired_token`: the device code expired; start a new device authorization request. */
export class ExpiredTokenError extends OAuthError {
  constructor(description: string, options?: OAuthErrorOptions) {
    super('expired_token', 400, description, options);
  }
}

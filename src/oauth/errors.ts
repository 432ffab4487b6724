/**
 * One error family for everything Warden raises: {@link WardenError}, with a stable `code`. Wire
 * errors are {@link OAuthError}s, whose `code` is the exact OAuth / RFC 9449 error value and
 * `status` the HTTP status it maps to; one function (`errorAnswer` in `error-response.ts`) turns
 * any of them into a response, and `toWireError` maps everything else (a store outage → 503).
 *
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-3.1
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-7.1
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-5.2
 */

/** Wire error codes Warden emits. */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_token'
  | 'insufficient_scope'
  | 'invalid_dpop_proof'
  | 'use_dpop_nonce'
  | 'temporarily_unavailable'
  | 'server_error'
  | 'invalid_grant'
  | 'invalid_client'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'invalid_target'
  | 'access_denied'
  | 'authorization_pending'
  | 'slow_down'
  | 'expired_token'
  | 'unsupported_response_type'
  | 'invalid_redirect_uri'
  | 'invalid_client_metadata';

/**
 * The root of every error Warden raises. `code` is stable (callers branch on it, never on the
 * message); the message never echoes a token, proof, secret or password.
 */
export class WardenError extends Error {
  /** Stable machine-readable code. */
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
  }
}

/**
 * A store could not answer (declared here, below every layer, so key sources as well as stores can
 * raise it). `toWireError` turns this into 503 + `Retry-After` (fail closed).
 */
export class StoreUnavailableError extends WardenError {
  /** Seconds a client should wait before retrying. */
  readonly retryAfterSeconds: number;
  constructor(message: string, options: { cause?: unknown; retryAfterSeconds?: number } = {}) {
    super('store_unavailable', message, options);
    this.retryAfterSeconds = options.retryAfterSeconds ?? 1;
  }
}

/** Options shared by every {@link OAuthError}. */
export interface OAuthErrorOptions {
  /** Extra response headers (e.g. `DPoP-Nonce`, `Retry-After`). */
  headers?: Record<string, string>;
  /** Scopes to advertise in the challenge (`insufficient_scope`). */
  scope?: readonly string[];
  /** The underlying cause; never serialised to the wire or logs verbatim. */
  cause?: unknown;
  /** JSON-RPC error code when answered as JSON-RPC. Default: from the status (see `rpcErrorCode`). */
  rpcCode?: number;
  /** False when new credentials would not help: answered without a `WWW-Authenticate` challenge. Default true. */
  challenge?: boolean;
}

/**
 * Base class: a stable wire `code`, an HTTP `status`, and a developer-facing
 * `description` that must never echo a token, proof or secret.
 */
export class OAuthError extends WardenError {
  /** The wire error code (`error=` in challenges, `error` in JSON bodies). */
  declare readonly code: OAuthErrorCode;
  /** HTTP status this error answers with. */
  readonly status: number;
  /** Human-readable, secret-free explanation (`error_description`). */
  readonly description: string;
  /** Extra response headers. */
  readonly headers: Record<string, string>;
  /** Scopes to advertise, when relevant. */
  readonly scope: readonly string[] | undefined;
  /** JSON-RPC error code, when it differs from the one the status maps to. */
  readonly rpcCode: number | undefined;
  /** Whether a `WWW-Authenticate` challenge goes with it. */
  readonly challenge: boolean;

  constructor(code: OAuthErrorCode, status: number, description: string, options: OAuthErrorOptions = {}) {
    super(code, description, options.cause === undefined ? undefined : { cause: options.cause });
    this.status = status;
    this.description = description;
    this.headers = options.headers ?? {};
    this.scope = options.scope;
    this.rpcCode = options.rpcCode;
    this.challenge = options.challenge ?? true;
  }
}

/** 400 `invalid_request`: malformed request (RFC 6750 §3.1). */
export class InvalidRequestError extends OAuthError {
  constructor(description: string, options?: OAuthErrorOptions) {
    super('invalid_request', 400, description, options);
  }
}

/** 401 `invalid_token`: expired, revoked, malformed or otherwise invalid access token (RFC 6750 §3.1). */
export class InvalidTokenError extends OAuthError {
  constructor(description: string, options?: OAuthErrorOptions) {
    super('invalid_token', 401, description, options);
  }
}

/**
 * 403 `insufficient_scope` (RFC 6750 §3.1); `scope` lists every scope the request needs. The
 * client kit raises it too, when a request is still refused after step-up: then `requiredScope`
 * is what the server's last challenge asked for, `operation` what was refused, and `attempts` how
 * many step-up authorizations were tried.
 */
export class InsufficientScopeError extends OAuthError {
  readonly requiredScope: string | undefined;
  readonly operation: string | undefined;
  readonly attempts: number | undefined;

  constructor(description: string, options?: OAuthErrorOptions & { requiredScope?: string; operation?: string; attempts?: number }) {
    super('insufficient_scope', 403, description, options);
    this.requiredScope = options?.requiredScope;
    this.operation = options?.operation;
    this.attempts = options?.attempts;
  }
}

/** 401 `invalid_dpop_proof` (RFC 9449 §7.1). At the token endpoint it is a 400 (RFC 9449 §5). */
export class InvalidDpopProofError extends OAuthError {
  constructor(description: string, options?: OAuthErrorOptions & { status?: number }) {
    super('invalid_dpop_proof', options?.status ?? 401, description, options);
  }
}

/** 401 `use_dpop_nonce` with a fresh `DPoP-Nonce` header (RFC 9449 §9). */
export class UseDpopNonceError extends OAuthError {
  constructor(description: string, nonce: string, options?: OAuthErrorOptions & { status?: number }) {
    super('use_dpop_nonce', options?.status ?? 401, description, {
      ...options,
      headers: { ...options?.headers, 'DPoP-Nonce': nonce },
    });
  }
}

/**
 * 503 `temporarily_unavailable`: a store or issuer a check needs is unreachable, or this server
 * is at a capacity limit. Warden fails closed: the request is refused, never waved through.
 * `status: 429` when the caller itself is over a rate limit (RFC 6585 §4). Always `Retry-After`.
 */
export class TemporarilyUnavailableError extends OAuthError {
  constructor(description: string, options?: OAuthErrorOptions & { retryAfterSeconds?: number; status?: 429 | 503 }) {
    super('temporarily_unavailable', options?.status ?? 503, description, {
      ...options,
      // delay-seconds is a non-negative integer (RFC 9110 §10.2.3): whole seconds, at least 1.
      headers: { 'Retry-After': String(wholeSeconds(options?.retryAfterSeconds)), ...options?.headers },
    });
  }
}

/** A `Retry-After` delay in whole seconds, at least 1 (1 when not a finite number). */
function wholeSeconds(value: number | undefined): number {
  return value !== undefined && Number.isFinite(value) ? Math.max(1, Math.ceil(value)) : 1;
}

/** True for any Warden wire error. */
export function isOAuthError(value: unknown): value is OAuthError {
  return value instanceof OAuthError;
}

/** 400 `invalid_grant` (RFC 6749 §5.2): bad, expired, revoked or reused code / refresh token. */
export class InvalidGrantError extends OAuthError {
  constructor(description: string, options?: OAuthErrorOptions) {
    super('invalid_grant', 400, description, options);
  }
}

/** 401 `invalid_client` (RFC 6749 §5.2): client authentication failed. */
export class InvalidClientError extends OAuthError {
  constructor(description: string, options?: OAuthErrorOptions) {
    super('invalid_client', 401, description, options);
  }
}

/** 400 `unauthorized_client` (RFC 6749 §5.2): the client may not use this grant type. */
export class UnauthorizedClientError extends OAuthError {
  constructor(description: string, options?: OAuthErrorOptions) {
    super('unauthorized_client', 400, description, options);
  }
}

/** 400 `unsupported_grant_type` (RFC 6749 §5.2). */
export class UnsupportedGrantTypeError extends OAuthError {
  constructor(description: string, options?: OAuthErrorOptions) {
    super('unsupported_grant_type', 400, description, options);
  }
}

/** 400 `invalid_scope` (RFC 6749 §5.2). */
export class InvalidScopeError extends OAuthError {
  constructor(description: string, options?: OAuthErrorOptions) {
    super('invalid_scope', 400, description, options);
  }
}

/** 400 `invalid_target` (RFC 8707 §2): the `resource` is unknown or not allowed. */
export class InvalidTargetError extends OAuthError {
  constructor(description: string, options?: OAuthErrorOptions) {
    super('invalid_target', 400, description, options);
  }
}

/** `access_denied` (RFC 6749 §4.1.2.1): the user or policy refused. */
export class AccessDeniedError extends OAuthError {
  constructor(description: string, options?: OAuthErrorOptions) {
    super('access_denied', 400, description, options);
  }
}

/** `unsupported_response_type` (RFC 6749 §4.1.2.1). */
export class UnsupportedResponseTypeError extends OAuthError {
  constructor(description: string, options?: OAuthErrorOptions) {
    super('unsupported_response_type', 400, description, options);
  }
}

/** 400 `invalid_client_metadata` (RFC 7591 §3.2.2). */
export class InvalidClientMetadataError extends OAuthError {
  constructor(description: string, options?: OAuthErrorOptions) {
    super('invalid_client_metadata', 400, description, options);
  }
}

/** 400 `invalid_redirect_uri` (RFC 7591 §3.2.2). */
export class InvalidRedirectUriError extends OAuthError {
  constructor(description: string, options?: OAuthErrorOptions) {
    super('invalid_redirect_uri', 400, description, options);
  }
}

/** 429: too many requests from this caller; `Retry-After` says when to come back (RFC 6585 §4). */
export class RateLimitedError extends OAuthError {
  constructor(description: string, options: OAuthErrorOptions & { retryAfterSeconds: number }) {
    super('temporarily_unavailable', 429, description, {
      ...options,
      challenge: false,
      headers: { 'Retry-After': String(wholeSeconds(options.retryAfterSeconds)), ...options.headers },
    });
  }
}

/** 502: the upstream a gateway forwards to did not answer properly; never carries its details. */
export class BadGatewayError extends OAuthError {
  constructor(description = 'upstream MCP server unreachable', options?: OAuthErrorOptions) {
    super('server_error', 502, description, { rpcCode: -32603, challenge: false, ...options });
  }
}

/** 500 `server_error`: only for genuinely unexpected failures; never carries internals. */
export class ServerError extends OAuthError {
  constructor(description = 'the server could not complete the request', options?: OAuthErrorOptions) {
    super('server_error', 500, description, options);
  }
}

import { describe, expect, it } from 'vitest';
import {
  AccessDeniedError,
  BadGatewayError,
  InsufficientScopeError,
  InvalidClientError,
  InvalidClientMetadataError,
  InvalidDpopProofError,
  InvalidGrantError,
  InvalidRedirectUriError,
  InvalidRequestError,
  InvalidScopeError,
  InvalidTargetError,
  InvalidTokenError,
  isOAuthError,
  OAuthError,
  RateLimitedError,
  ServerError,
  TemporarilyUnavailableError,
  UnauthorizedClientError,
  UnsupportedGrantTypeError,
  UnsupportedResponseTypeError,
  UseDpopNonceError,
  WardenError,
} from './errors.js';

/** One row per class: constructed with a description, its wire code, status and class name. */
const CLASSES: Array<{ spec: string; make: () => OAuthError; code: string; status: number; name: string; challenge: boolean; headers: Record<string, string> }> = [
  { spec: 'RFC 6750 §3.1', make: () => new InvalidRequestError('d'), code: 'invalid_request', status: 400, name: 'InvalidRequestError', challenge: true, headers: {} },
  { spec: 'RFC 6750 §3.1', make: () => new InvalidTokenError('d'), code: 'invalid_token', status: 401, name: 'InvalidTokenError', challenge: true, headers: {} },
  { spec: 'RFC 6750 §3.1', make: () => new InsufficientScopeError('d'), code: 'insufficient_scope', status: 403, name: 'InsufficientScopeError', challenge: true, headers: {} },
  { spec: 'RFC 9449 §7.1', make: () => new InvalidDpopProofError('d'), code: 'invalid_dpop_proof', status: 401, name: 'InvalidDpopProofError', challenge: true, headers: {} },
  { spec: 'RFC 9449 §9', make: () => new UseDpopNonceError('d', 'n0nce'), code: 'use_dpop_nonce', status: 401, name: 'UseDpopNonceError', challenge: true, headers: { 'DPoP-Nonce': 'n0nce' } },
  { spec: 'RFC 6749 §4.1.2.1', make: () => new TemporarilyUnavailableError('d'), code: 'temporarily_unavailable', status: 503, name: 'TemporarilyUnavailableError', challenge: true, headers: { 'Retry-After': '1' } },
  { spec: 'RFC 6749 §5.2', make: () => new InvalidGrantError('d'), code: 'invalid_grant', status: 400, name: 'InvalidGrantError', challenge: true, headers: {} },
  { spec: 'RFC 6749 §5.2', make: () => new InvalidClientError('d'), code: 'invalid_client', status: 401, name: 'InvalidClientError', challenge: true, headers: {} },
  { spec: 'RFC 6749 §5.2', make: () => new UnauthorizedClientError('d'), code: 'unauthorized_client', status: 400, name: 'UnauthorizedClientError', challenge: true, headers: {} },
  { spec: 'RFC 6749 §5.2', make: () => new UnsupportedGrantTypeError('d'), code: 'unsupported_grant_type', status: 400, name: 'UnsupportedGrantTypeError', challenge: true, headers: {} },
  { spec: 'RFC 6749 §5.2', make: () => new InvalidScopeError('d'), code: 'invalid_scope', status: 400, name: 'InvalidScopeError', challenge: true, headers: {} },
  { spec: 'RFC 8707 §2', make: () => new InvalidTargetError('d'), code: 'invalid_target', status: 400, name: 'InvalidTargetError', challenge: true, headers: {} },
  { spec: 'RFC 6749 §4.1.2.1', make: () => new AccessDeniedError('d'), code: 'access_denied', status: 400, name: 'AccessDeniedError', challenge: true, headers: {} },
  { spec: 'RFC 6749 §4.1.2.1', make: () => new UnsupportedResponseTypeError('d'), code: 'unsupported_response_type', status: 400, name: 'UnsupportedResponseTypeError', challenge: true, headers: {} },
  { spec: 'RFC 7591 §3.2.2', make: () => new InvalidClientMetadataError('d'), code: 'invalid_client_metadata', status: 400, name: 'InvalidClientMetadataError', challenge: true, headers: {} },
  { spec: 'RFC 7591 §3.2.2', make: () => new InvalidRedirectUriError('d'), code: 'invalid_redirect_uri', status: 400, name: 'InvalidRedirectUriError', challenge: true, headers: {} },
  { spec: 'RFC 6585 §4', make: () => new RateLimitedError('d', { retryAfterSeconds: 5 }), code: 'temporarily_unavailable', status: 429, name: 'RateLimitedError', challenge: false, headers: { 'Retry-After': '5' } },
  { spec: 'RFC 9110 §15.6.3', make: () => new BadGatewayError('d'), code: 'server_error', status: 502, name: 'BadGatewayError', challenge: false, headers: {} },
  { spec: 'RFC 6749 §4.1.2.1', make: () => new ServerError('d'), code: 'server_error', status: 500, name: 'ServerError', challenge: true, headers: {} },
];

describe('the OAuthError family — one class per wire error code', () => {
  for (const row of CLASSES) {
    it(`${row.spec}: ${row.name} answers ${row.status} ${row.code}`, () => {
      const error = row.make();
      expect(error).toBeInstanceOf(OAuthError);
      expect(error).toBeInstanceOf(WardenError);
      expect(error).toBeInstanceOf(Error);
      expect(isOAuthError(error)).toBe(true);
      expect(error.code).toBe(row.code);
      expect(error.status).toBe(row.status);
      expect(error.name).toBe(row.name);
      expect(error.description).toBe('d');
      expect(error.message).toBe('d');
      expect(error.challenge).toBe(row.challenge);
      expect(error.headers).toStrictEqual(row.headers);
      expect(error.scope).toBeUndefined();
    });
  }

  it('options: extra headers, scope, rpcCode and challenge: false are carried as given', () => {
    const error = new InvalidRequestError('d', { headers: { 'X-A': '1' }, scope: ['a'], rpcCode: -32602, challenge: false });
    expect(error.headers).toStrictEqual({ 'X-A': '1' });
    expect(error.scope).toEqual(['a']);
    expect(error.rpcCode).toBe(-32602);
    expect(error.challenge).toBe(false);
  });

  it('the cause is kept for logs but never becomes the description', () => {
    const cause = new Error('ECONNREFUSED 10.0.0.7:6379 password=hunter2');
    const error = new InvalidTokenError('access token could not be checked', { cause });
    expect(error.cause).toBe(cause);
    expect(error.message).toBe('access token could not be checked');
    expect(error.description).toBe('access token could not be checked');
  });
});

describe('WardenError — the root of every error Warden raises', () => {
  it('carries a stable code; its name is the concrete class name', () => {
    class StoreBroke extends WardenError {}
    const error = new StoreBroke('store_broke', 'the store broke');
    expect(error.code).toBe('store_broke');
    expect(error.name).toBe('StoreBroke');
    expect(error.message).toBe('the store broke');
    expect(error).toBeInstanceOf(Error);
  });

  it('has no cause property unless one was given', () => {
    expect(Object.hasOwn(new WardenError('c', 'm'), 'cause')).toBe(false);
    expect(Object.hasOwn(new WardenError('c', 'm', {}), 'cause')).toBe(false);
    expect(new WardenError('c', 'm', { cause: 0 }).cause).toBe(0);
  });

  it('isOAuthError is false for a WardenError that is not a wire error, and for look-alikes', () => {
    expect(isOAuthError(new WardenError('invalid_token', 'm'))).toBe(false);
    expect(isOAuthError(new Error('invalid_token'))).toBe(false);
    expect(isOAuthError({ code: 'invalid_token', status: 401, description: 'd' })).toBe(false);
    expect(isOAuthError(undefined)).toBe(false);
  });
});

describe('InsufficientScopeError — RFC 6750 §3.1 scope to advertise', () => {
  it('carries every scope the request needs, and the client kit\'s step-up details', () => {
    const error = new InsufficientScopeError('needs mcp:admin', { scope: ['mcp:tools', 'mcp:admin'], requiredScope: 'mcp:admin', operation: 'tools/call admin_reset', attempts: 2 });
    expect(error.scope).toEqual(['mcp:tools', 'mcp:admin']);
    expect(error.requiredScope).toBe('mcp:admin');
    expect(error.operation).toBe('tools/call admin_reset');
    expect(error.attempts).toBe(2);
  });

  it('without options the step-up details are undefined', () => {
    const error = new InsufficientScopeError('d');
    expect([error.requiredScope, error.operation, error.attempts]).toEqual([undefined, undefined, undefined]);
  });
});

describe('DPoP errors at the token endpoint — RFC 9449 §5 (400) and §8 (use_dpop_nonce)', () => {
  it('InvalidDpopProofError takes status 400 at the token endpoint', () => {
    expect(new InvalidDpopProofError('d', { status: 400 }).status).toBe(400);
  });

  it('UseDpopNonceError: 400 at the token endpoint, the nonce in DPoP-Nonce next to other headers', () => {
    const error = new UseDpopNonceError('Authorization server requires nonce in DPoP proof', 'eyJ7S_zG.eyJH0-Z.HX4w-7v', { status: 400, headers: { 'X-Other': '1' } });
    expect(error.status).toBe(400);
    expect(error.headers).toStrictEqual({ 'X-Other': '1', 'DPoP-Nonce': 'eyJ7S_zG.eyJH0-Z.HX4w-7v' });
  });

  it('RFC 9449 §8: there is one DPoP-Nonce, the nonce argument, whatever headers say', () => {
    expect(new UseDpopNonceError('d', 'fresh', { headers: { 'DPoP-Nonce': 'stale' } }).headers).toStrictEqual({ 'DPoP-Nonce': 'fresh' });
  });
});

describe('Retry-After — RFC 9110 §10.2.3 on 503 and 429 (RFC 6585 §4)', () => {
  it('TemporarilyUnavailableError: Retry-After defaults to 1 and follows retryAfterSeconds; 429 when the caller is over a limit', () => {
    expect(new TemporarilyUnavailableError('d', { retryAfterSeconds: 30 }).headers).toStrictEqual({ 'Retry-After': '30' });
    const limited = new TemporarilyUnavailableError('d', { status: 429, retryAfterSeconds: 2 });
    expect(limited.status).toBe(429);
    expect(limited.headers['Retry-After']).toBe('2');
  });

  it('TemporarilyUnavailableError: an explicit Retry-After header wins over retryAfterSeconds', () => {
    expect(new TemporarilyUnavailableError('d', { retryAfterSeconds: 30, headers: { 'Retry-After': '60' } }).headers).toStrictEqual({ 'Retry-After': '60' });
  });

  it('RateLimitedError: Retry-After is whole seconds, rounded up, at least 1; never a challenge', () => {
    expect(new RateLimitedError('d', { retryAfterSeconds: 0.2 }).headers['Retry-After']).toBe('1');
    expect(new RateLimitedError('d', { retryAfterSeconds: 2.1 }).headers['Retry-After']).toBe('3');
    expect(new RateLimitedError('d', { retryAfterSeconds: 0 }).headers['Retry-After']).toBe('1');
    expect(new RateLimitedError('d', { retryAfterSeconds: 5, challenge: true }).challenge).toBe(false);
  });

  // BUG (reported): TemporarilyUnavailableError writes String(retryAfterSeconds), so 1.5 becomes
  // "Retry-After: 1.5" — not delay-seconds (1*DIGIT). toWireError passes a custom store's
  // StoreUnavailableError.retryAfterSeconds straight in, so any ReplayStore can cause it. Fix: as
  // RateLimitedError does, `Math.max(1, Math.ceil(x))` (and 1 when x is not finite).
  it('TemporarilyUnavailableError: a fractional retryAfterSeconds still gives delay-seconds', () => {
    expect(new TemporarilyUnavailableError('d', { retryAfterSeconds: 1.5 }).headers['Retry-After']).toBe('2');
  });
});

describe('errors that must not leak internals', () => {
  it('BadGatewayError: 502, JSON-RPC -32603, no challenge, a fixed default description', () => {
    const error = new BadGatewayError();
    expect(error.description).toBe('upstream MCP server unreachable');
    expect(error.rpcCode).toBe(-32603);
    expect(new BadGatewayError('d', { rpcCode: -32000 }).rpcCode).toBe(-32000);
  });

  it('ServerError: 500 with a fixed default description', () => {
    expect(new ServerError().description).toBe('the server could not complete the request');
  });
});

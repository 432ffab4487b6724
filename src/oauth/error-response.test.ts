import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MessageRefusedError } from '../mcp/message-refused-error.js';
import { StoreUnavailableError } from '../stores/contracts.js';
import { errorAnswer, rpcErrorCode, toWireError, type ErrorAnswerOptions } from './error-response.js';
import {
  BadGatewayError,
  InsufficientScopeError,
  InvalidClientError,
  InvalidDpopProofError,
  InvalidGrantError,
  InvalidRequestError,
  InvalidTokenError,
  OAuthError,
  RateLimitedError,
  ServerError,
  TemporarilyUnavailableError,
  UseDpopNonceError,
} from './errors.js';

const vectors = JSON.parse(readFileSync(new URL('../../test/vectors/rfc-vectors.json', import.meta.url), 'utf8')) as {
  challenges: { source: string; header: string; dpopNonce?: string }[];
};
const FIGURE_24 = vectors.challenges.find((c) => c.source.startsWith('RFC 9449 figure 24'))!;

const RM = 'https://mcp.example.com/.well-known/oauth-protected-resource/mcp';
const BASE = `resource_metadata="${RM}"`;
type Schemes = readonly ('Bearer' | 'DPoP')[];
const MODES: Record<'allowed' | 'required' | 'disabled', Schemes> = { allowed: ['Bearer', 'DPoP'], required: ['DPoP'], disabled: ['Bearer'] };

function challenges(schemes: Schemes, clientScheme: 'Bearer' | 'DPoP' | undefined): NonNullable<ErrorAnswerOptions['challenges']> {
  return { schemes, clientScheme, resourceMetadata: RM, algs: ['ES256', 'EdDSA'], scope: ['mcp:tools'] };
}

const JSON_HEADERS = { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' };

describe('errorAnswer — no credentials (RFC 6750 §3.1, RFC 9449 §7.2 figure 17)', () => {
  it('allowed: 401, a Bearer then a DPoP challenge, neither with an error; scope and resource_metadata on both', () => {
    const answer = errorAnswer(undefined, { challenges: challenges(MODES.allowed, undefined) });
    expect(answer.status).toBe(401);
    expect(answer.headers).toStrictEqual({
      ...JSON_HEADERS,
      'WWW-Authenticate': `Bearer scope="mcp:tools", ${BASE}, DPoP scope="mcp:tools", ${BASE}, algs="ES256 EdDSA"`,
    });
    expect(JSON.parse(answer.body)).toStrictEqual({ error: 'unauthorized', error_description: 'authorization required: send an access token' });
  });

  it('required: only the DPoP challenge; disabled: only the Bearer challenge', () => {
    expect(errorAnswer(undefined, { challenges: challenges(MODES.required, undefined) }).headers['WWW-Authenticate']).toBe(`DPoP scope="mcp:tools", ${BASE}, algs="ES256 EdDSA"`);
    expect(errorAnswer(undefined, { challenges: challenges(MODES.disabled, undefined) }).headers['WWW-Authenticate']).toBe(`Bearer scope="mcp:tools", ${BASE}`);
  });

  it('RFC 9449 §9: a configured nonce goes out with the 401 challenge', () => {
    expect(errorAnswer(undefined, { challenges: challenges(MODES.allowed, undefined), nonce: 'n-1' }).headers['DPoP-Nonce']).toBe('n-1');
  });

  it('without challenge options: a 401 with no WWW-Authenticate', () => {
    const answer = errorAnswer(undefined);
    expect(answer.status).toBe(401);
    expect(answer.headers).toStrictEqual(JSON_HEADERS);
  });
});

describe('errorAnswer — the error on the scheme the client used (RFC 9449 §7.2 figure 18)', () => {
  const expired = new InvalidTokenError('access token has expired');

  it('allowed, Bearer client: error on Bearer, DPoP challenge without error', () => {
    const answer = errorAnswer(expired, { challenges: challenges(MODES.allowed, 'Bearer') });
    expect(answer.status).toBe(401);
    expect(answer.headers['WWW-Authenticate']).toBe(
      `Bearer error="invalid_token", error_description="access token has expired", scope="mcp:tools", ${BASE}, DPoP scope="mcp:tools", ${BASE}, algs="ES256 EdDSA"`,
    );
    expect(JSON.parse(answer.body)).toStrictEqual({ error: 'invalid_token', error_description: 'access token has expired' });
  });

  it('allowed, DPoP client: error on DPoP, Bearer challenge without error', () => {
    expect(errorAnswer(expired, { challenges: challenges(MODES.allowed, 'DPoP') }).headers['WWW-Authenticate']).toBe(
      `Bearer scope="mcp:tools", ${BASE}, DPoP error="invalid_token", error_description="access token has expired", scope="mcp:tools", ${BASE}, algs="ES256 EdDSA"`,
    );
  });

  it('RFC 9449 §7.1: invalid_dpop_proof goes on the DPoP challenge even when the client\'s scheme was Bearer', () => {
    const header = errorAnswer(new InvalidDpopProofError('more than one DPoP header'), { challenges: challenges(MODES.allowed, 'Bearer') }).headers['WWW-Authenticate'];
    expect(header).toBe(`Bearer scope="mcp:tools", ${BASE}, DPoP error="invalid_dpop_proof", error_description="more than one DPoP header", scope="mcp:tools", ${BASE}, algs="ES256 EdDSA"`);
  });

  it('a scheme the resource does not offer: the error goes on the one challenge it does', () => {
    const header = errorAnswer(new InvalidTokenError('DPoP is not enabled for this resource'), { challenges: challenges(MODES.disabled, 'DPoP') }).headers['WWW-Authenticate'];
    expect(header).toBe(`Bearer error="invalid_token", error_description="DPoP is not enabled for this resource", scope="mcp:tools", ${BASE}`);
  });

  it('RFC 6750 §3.1: 403 insufficient_scope advertises the scopes the error names, not the defaults; no nonce on a 403', () => {
    const error = new InsufficientScopeError('needs mcp:admin', { scope: ['mcp:tools', 'mcp:admin'] });
    const answer = errorAnswer(error, { challenges: challenges(MODES.required, 'DPoP'), nonce: 'n-1' });
    expect(answer.status).toBe(403);
    expect(answer.headers['WWW-Authenticate']).toBe(`DPoP error="insufficient_scope", error_description="needs mcp:admin", scope="mcp:tools mcp:admin", ${BASE}, algs="ES256 EdDSA"`);
    expect(answer.headers['DPoP-Nonce']).toBeUndefined();
  });

  it('RFC 6750 §3.1 / RFC 9449 figure 19: a 400 invalid_request carries its challenge too', () => {
    const answer = errorAnswer(new InvalidRequestError('more than one Authorization header'), { challenges: challenges(MODES.disabled, 'Bearer') });
    expect(answer.status).toBe(400);
    expect(answer.headers['WWW-Authenticate']).toBe(`Bearer error="invalid_request", error_description="more than one Authorization header", scope="mcp:tools", ${BASE}`);
  });

  it('RFC 9449 §9 figure 24: use_dpop_nonce is a 401 on the DPoP challenge with exactly the error\'s DPoP-Nonce', () => {
    const error = new UseDpopNonceError('Resource server requires nonce in DPoP proof', FIGURE_24.dpopNonce!);
    const answer = errorAnswer(error, { challenges: challenges(MODES.required, 'DPoP'), nonce: 'a-different-nonce' });
    expect(answer.status).toBe(401);
    expect(answer.headers['DPoP-Nonce']).toBe('eyJ7S_zG.eyJH0-Z.HX4w-7v');
    expect(answer.headers['WWW-Authenticate']).toBe(`${FIGURE_24.header}, scope="mcp:tools", ${BASE}, algs="ES256 EdDSA"`);
  });

  it('a description with quotes or CR/LF cannot split the header', () => {
    const answer = errorAnswer(new InvalidTokenError('bad"\r\nSet-Cookie: a=b'), { challenges: challenges(MODES.disabled, 'Bearer') });
    expect(answer.headers['WWW-Authenticate']).toBe(`Bearer error="invalid_token", error_description="badSet-Cookie: a=b", scope="mcp:tools", ${BASE}`);
    expect(() => new Headers(answer.headers)).not.toThrow();
  });
});

describe('errorAnswer — errors that new credentials would not fix get no challenge', () => {
  it('a refused message (challenge: false): its own status, no WWW-Authenticate, no nonce', () => {
    const error = new MessageRefusedError(415, -32600, 'request bodies must be UTF-8');
    const answer = errorAnswer(error, { challenges: challenges(MODES.allowed, 'Bearer'), nonce: 'n-1' });
    expect(answer.status).toBe(415);
    expect(answer.headers).toStrictEqual(JSON_HEADERS);
  });

  it('a 400 with challenge: false has no challenge either', () => {
    const answer = errorAnswer(new MessageRefusedError(400, -32020, 'header mismatch'), { challenges: challenges(MODES.allowed, 'DPoP') });
    expect(answer.headers['WWW-Authenticate']).toBeUndefined();
  });

  it('RFC 6585 §4: 429 with Retry-After, no challenge', () => {
    const answer = errorAnswer(new RateLimitedError('slow down', { retryAfterSeconds: 7 }), { challenges: challenges(MODES.allowed, 'Bearer') });
    expect(answer.status).toBe(429);
    expect(answer.headers).toStrictEqual({ ...JSON_HEADERS, 'Retry-After': '7' });
  });

  it('503 temporarily_unavailable keeps Retry-After; a challenge is only for 400/401/403', () => {
    const answer = errorAnswer(new TemporarilyUnavailableError('store down', { retryAfterSeconds: 3 }), { challenges: challenges(MODES.allowed, 'Bearer'), nonce: 'n-1' });
    expect(answer.status).toBe(503);
    expect(answer.headers).toStrictEqual({ ...JSON_HEADERS, 'Retry-After': '3' });
  });

  it('502 from the gateway: no challenge', () => {
    const answer = errorAnswer(new BadGatewayError(), { challenges: challenges(MODES.allowed, 'Bearer') });
    expect(answer.status).toBe(502);
    expect(answer.headers).toStrictEqual(JSON_HEADERS);
  });
});

describe('errorAnswer — the token endpoint (RFC 6749 §5.2, RFC 9449 §5 and §8)', () => {
  it('RFC 6749 §5.2: invalid_client after an Authorization-header attempt → 401 with WWW-Authenticate: Basic', () => {
    const answer = errorAnswer(new InvalidClientError('client authentication failed'), { basicChallenge: true, pragma: true });
    expect(answer.status).toBe(401);
    expect(answer.headers).toStrictEqual({ ...JSON_HEADERS, Pragma: 'no-cache', 'WWW-Authenticate': 'Basic realm="warden", charset="UTF-8"' });
    expect(JSON.parse(answer.body)).toStrictEqual({ error: 'invalid_client', error_description: 'client authentication failed' });
  });

  it('invalid_client without an Authorization-header attempt: no Basic challenge; other errors never get one', () => {
    expect(errorAnswer(new InvalidClientError('unknown client')).headers['WWW-Authenticate']).toBeUndefined();
    expect(errorAnswer(new InvalidGrantError('code expired'), { basicChallenge: true }).headers['WWW-Authenticate']).toBeUndefined();
  });

  it('RFC 6749 §5.1: Pragma: no-cache only when asked for (token responses)', () => {
    expect(errorAnswer(new InvalidGrantError('code expired')).headers).toStrictEqual(JSON_HEADERS);
    expect(errorAnswer(new InvalidGrantError('code expired'), { pragma: true }).headers).toStrictEqual({ ...JSON_HEADERS, Pragma: 'no-cache' });
  });

  it('RFC 9449 §5: a proof error is a 400 with a DPoP challenge carrying the error', () => {
    const answer = errorAnswer(new InvalidDpopProofError('DPoP proof "htm" does not match', { status: 400 }), { dpopChallenge: true });
    expect(answer.status).toBe(400);
    expect(answer.headers['WWW-Authenticate']).toBe('DPoP error="invalid_dpop_proof", error_description="DPoP proof htm does not match"');
  });

  it('RFC 9449 §8 figure 20: use_dpop_nonce is a 400 with DPoP-Nonce and exactly the figure\'s body', () => {
    const error = new UseDpopNonceError('Authorization server requires nonce in DPoP proof', 'eyJ7S_zG.eyJH0-Z.HX4w-7v', { status: 400 });
    const answer = errorAnswer(error, { dpopChallenge: true, pragma: true });
    expect(answer.status).toBe(400);
    expect(answer.headers['DPoP-Nonce']).toBe('eyJ7S_zG.eyJH0-Z.HX4w-7v');
    expect(answer.headers['WWW-Authenticate']).toBe('DPoP error="use_dpop_nonce", error_description="Authorization server requires nonce in DPoP proof"');
    expect(JSON.parse(answer.body)).toStrictEqual({ error: 'use_dpop_nonce', error_description: 'Authorization server requires nonce in DPoP proof' });
  });

  it('dpopChallenge does not put a challenge on a non-proof error', () => {
    expect(errorAnswer(new InvalidGrantError('bad code'), { dpopChallenge: true }).headers['WWW-Authenticate']).toBeUndefined();
  });
});

describe('errorAnswer — JSON-RPC bodies for MCP requests (JSON-RPC 2.0 §5.1)', () => {
  const rpc = (error: OAuthError | undefined, id: string | number | null = 7) => JSON.parse(errorAnswer(error, { jsonRpc: { id } }).body) as unknown;

  it('no credentials: -32001 with the OAuth body as data, and the request id', () => {
    expect(rpc(undefined)).toStrictEqual({
      jsonrpc: '2.0',
      id: 7,
      error: {
        code: -32001,
        message: 'unauthorized: authorization required: send an access token',
        data: { error: 'unauthorized', error_description: 'authorization required: send an access token' },
      },
    });
  });

  it('401 → -32001, 403 → -32003, 400 → -32600, 503 and 429 → -32000; data is the OAuth body', () => {
    expect(rpc(new InvalidTokenError('expired'), 'abc')).toStrictEqual({
      jsonrpc: '2.0',
      id: 'abc',
      error: { code: -32001, message: 'invalid_token: expired', data: { error: 'invalid_token', error_description: 'expired' } },
    });
    expect(rpc(new InsufficientScopeError('needs admin'))).toMatchObject({ error: { code: -32003, message: 'insufficient_scope: needs admin' } });
    expect(rpc(new InvalidRequestError('two headers'), null)).toMatchObject({ id: null, error: { code: -32600 } });
    expect(rpc(new TemporarilyUnavailableError('down'))).toMatchObject({ error: { code: -32000, data: { error: 'temporarily_unavailable' } } });
    expect(rpc(new RateLimitedError('slow', { retryAfterSeconds: 1 }))).toMatchObject({ error: { code: -32000, data: { error: 'temporarily_unavailable' } } });
  });

  it('a refused message with its own JSON-RPC code: that code, its description, no OAuth data', () => {
    expect(rpc(new MessageRefusedError(400, -32700, 'invalid JSON at offset 3'))).toStrictEqual({ jsonrpc: '2.0', id: 7, error: { code: -32700, message: 'invalid JSON at offset 3' } });
    expect(rpc(new BadGatewayError())).toStrictEqual({ jsonrpc: '2.0', id: 7, error: { code: -32603, message: 'upstream MCP server unreachable' } });
  });

  it('a challengeable error with an rpcCode keeps the OAuth data under that code', () => {
    expect(rpc(new InvalidTokenError('expired', { rpcCode: -32042 }))).toStrictEqual({
      jsonrpc: '2.0',
      id: 7,
      error: { code: -32042, message: 'invalid_token: expired', data: { error: 'invalid_token', error_description: 'expired' } },
    });
  });

  it('rpcErrorCode maps statuses into the implementation-defined range', () => {
    expect([401, 403, 400, 502, 503, 429, 500, 404].map(rpcErrorCode)).toEqual([-32001, -32003, -32600, -32603, -32000, -32000, -32000, -32000]);
  });
});

describe('toWireError — what anything thrown becomes on the wire', () => {
  it('a wire error is answered as it is', () => {
    const error = new InvalidTokenError('expired');
    expect(toWireError(error, 'fail-closed')).toBe(error);
    expect(toWireError(error, 'server-error')).toBe(error);
  });

  it('a store outage → 503 temporarily_unavailable with the store\'s Retry-After, in either mode', () => {
    const outage = new StoreUnavailableError('redis ECONNREFUSED 10.0.0.5:6379', { retryAfterSeconds: 4 });
    for (const mode of ['fail-closed', 'server-error'] as const) {
      const wire = toWireError(outage, mode);
      expect(wire).toBeInstanceOf(TemporarilyUnavailableError);
      expect([wire.status, wire.code, wire.description]).toEqual([503, 'temporarily_unavailable', 'a store this request needs is unreachable; retry shortly']);
      expect(wire.headers).toStrictEqual({ 'Retry-After': '4' });
      expect(wire.cause).toBe(outage);
    }
  });

  it('a store outage (StoreUnavailableError) is 503 with its own Retry-After; a look-alike object is not trusted as one', () => {
    expect(toWireError(new StoreUnavailableError('down', { retryAfterSeconds: 9 }), 'server-error').headers['Retry-After']).toBe('9');
    const foreign = Object.assign(new Error('down'), { code: 'store_unavailable', retryAfterSeconds: 9 });
    expect(toWireError(foreign, 'server-error')).toBeInstanceOf(ServerError);
  });

  it('anything else: 503 with Retry-After 1 when failing closed, 500 server_error otherwise', () => {
    const boom = new TypeError('Cannot read properties of undefined (reading "jkt")');
    const closed = toWireError(boom, 'fail-closed');
    expect([closed.status, closed.code, closed.description, closed.headers]).toEqual([503, 'temporarily_unavailable', 'the request could not be verified; retry shortly', { 'Retry-After': '1' }]);
    const server = toWireError(boom, 'server-error');
    expect([server.status, server.code, server.description]).toEqual([500, 'server_error', 'the server could not complete the request']);
    expect(closed.cause).toBe(boom);
  });

  it('non-Error throws are handled too', () => {
    for (const thrown of ['a string', undefined, null, 42, { code: 'store_unavailable', retryAfterSeconds: 2 }]) {
      expect(toWireError(thrown, 'fail-closed').status).toBe(503);
      expect(toWireError(thrown, 'server-error').status).toBe(500);
    }
  });

  it('the answer never carries the cause\'s message', () => {
    const secret = 'postgres://warden:hunter2@db.internal/warden';
    for (const thrown of [new Error(secret), new StoreUnavailableError(secret)]) {
      for (const mode of ['fail-closed', 'server-error'] as const) {
        const answer = errorAnswer(toWireError(thrown, mode), { jsonRpc: { id: 1 } });
        expect(answer.body).not.toContain('hunter2');
        expect(JSON.stringify(answer.headers)).not.toContain('hunter2');
      }
    }
  });
});

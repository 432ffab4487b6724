import { constants, createHmac, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTestIssuer } from '../../test/helpers/test-issuer.js';
import { InvalidTokenError } from '../oauth/errors.js';
import { StoreUnavailableError } from '../stores/contracts.js';
import type { KeySource } from './key-source.js';
import { createLocalKeySource } from './local-key-source.js';
import { verifyAccessToken, type VerifyAccessTokenOptions } from './verify-access-token.js';

const NOW = 1_750_000_000;
const ISSUER = 'https://issuer.example.com';
const RESOURCE = 'https://mcp.example.com/mcp';
const ALGS = new Set(['ES256', 'RS256', 'EdDSA']);
const TYPES = new Set(['at+jwt', 'application/at+jwt']);

interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  jwk: Record<string, unknown>;
}
function ecSigningKey(kid: string): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { kid, privateKey, jwk: { ...publicKey.export({ format: 'jwk' }), kid, alg: 'ES256', use: 'sig' } };
}
const b64 = (text: string): string => Buffer.from(text).toString('base64url');

/** RFC 9068 §2.2 claims of a well-formed token; undefined drops a claim. */
function claims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const out: Record<string, unknown> = { iss: ISSUER, sub: 'user-1', aud: RESOURCE, client_id: 'client-1', scope: 'mcp:tools', jti: 'tok-1', iat: NOW, exp: NOW + 600, ...overrides };
  for (const [k, v] of Object.entries(out)) if (v === undefined) delete out[k];
  return out;
}

/** Signs a token by hand, so the header can say anything. */
function mint(key: SigningKey, payload: Record<string, unknown> = claims(), header: Record<string, unknown> = {}, how: 'ES256' | 'RS256' | 'PS256' | 'HS256' = 'ES256', secret?: Buffer): string {
  const h: Record<string, unknown> = { alg: 'ES256', typ: 'at+jwt', kid: key.kid, ...header };
  for (const [k, v] of Object.entries(h)) if (v === undefined) delete h[k];
  const input = Buffer.from(`${b64(JSON.stringify(h))}.${b64(JSON.stringify(payload))}`);
  const signature =
    how === 'HS256'
      ? createHmac('sha256', secret ?? Buffer.alloc(32)).update(input).digest()
      : how === 'ES256'
        ? sign('sha256', input, { key: key.privateKey, dsaEncoding: 'ieee-p1363' })
        : how === 'PS256'
          ? sign('sha256', input, { key: key.privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST })
          : sign('sha256', input, key.privateKey);
  return `${input.toString('ascii')}.${signature.toString('base64url')}`;
}

let primary: SigningKey;
let secondary: SigningKey;
let attacker: SigningKey;
let keys: KeySource;
beforeAll(() => {
  primary = ecSigningKey('k1');
  secondary = ecSigningKey('k2');
  attacker = ecSigningKey('k1');
  keys = createLocalKeySource({ keys: [primary.jwk, secondary.jwk] });
});

function options(overrides: Partial<VerifyAccessTokenOptions> = {}): VerifyAccessTokenOptions {
  return { keys, issuer: ISSUER, algorithms: ALGS, tokenTypes: TYPES, skewSeconds: 30, now: NOW, ...overrides };
}

async function refusal(token: string, overrides: Partial<VerifyAccessTokenOptions> = {}): Promise<{ code: string; status: number; description: string }> {
  try {
    await verifyAccessToken(token, options(overrides));
  } catch (error) {
    if (!(error instanceof InvalidTokenError)) throw error;
    return { code: error.code, status: error.status, description: error.description };
  }
  throw new Error('expected the access token to be refused');
}
const invalid = (description: string) => ({ code: 'invalid_token', status: 401, description });

describe('verifyAccessToken — a valid RFC 9068 token', () => {
  it('returns the normalised claims and the full payload', async () => {
    const payload = claims({ extra: 'kept' });
    const result = await verifyAccessToken(mint(primary, payload), options());
    expect(result).toStrictEqual({ iss: ISSUER, sub: 'user-1', aud: [RESOURCE], clientId: 'client-1', scopes: ['mcp:tools'], exp: NOW + 600, iat: NOW, jti: 'tok-1', payload });
  });

  it('verifies a token minted by an independent implementation (jose)', async () => {
    const issuer = await createTestIssuer({ issuer: ISSUER, audience: RESOURCE });
    const token = await issuer.mint({ iat: NOW, exp: NOW + 60, scope: 'a b' });
    const result = await verifyAccessToken(token, options({ keys: createLocalKeySource(issuer.jwks) }));
    expect([result.clientId, result.scopes, result.aud]).toEqual(['client-1', ['a', 'b'], [RESOURCE]]);
  });

  it('optional claims absent: no sub, iat, jti or jkt in the result', async () => {
    const result = await verifyAccessToken(mint(primary, claims({ sub: undefined, iat: undefined, jti: undefined })), options());
    expect(Object.keys(result).sort()).toEqual(['aud', 'clientId', 'exp', 'iss', 'payload', 'scopes']);
  });
});

describe('verifyAccessToken — RFC 9068 §4: JOSE header', () => {
  it('a malformed token is invalid_token, with the reason', async () => {
    expect(await refusal('not.a-token')).toStrictEqual(invalid('access token is malformed: not a compact JWS (expected three non-empty dot-separated parts)'));
    expect(await refusal(mint(primary, claims(), { crit: ['exp'] }))).toStrictEqual(invalid('access token is malformed: unsupported "crit" header parameter'));
  });

  it('§2.1: typ must be at+jwt or application/at+jwt, case-insensitively', async () => {
    for (const typ of ['at+jwt', 'application/at+jwt', 'AT+JWT', 'Application/AT+JWT']) expect((await verifyAccessToken(mint(primary, claims(), { typ }), options())).clientId).toBe('client-1');
    for (const typ of [undefined, 'JWT', 'dpop+jwt', 'at+jwt; x=1', 1]) {
      expect(await refusal(mint(primary, claims(), { typ }))).toStrictEqual(invalid('access token "typ" must be at+jwt or application/at+jwt (RFC 9068 §2.1)'));
    }
  });

  it('§4 / RFC 8725 §3.1: alg "none", HMAC, a missing alg and algs outside the allow-list are refused', async () => {
    for (const alg of ['none', 'HS256', 'ES384', 'PS256', undefined, ['ES256']]) {
      expect(await refusal(mint(primary, claims(), { alg }))).toStrictEqual(invalid('access token "alg" must be one of ES256, RS256, EdDSA'));
    }
  });

  it('RFC 8725 §2.1: even an allow-list naming HS256 never verifies an HMAC keyed with the issuer\'s public key', async () => {
    const secret = Buffer.from(JSON.stringify(primary.jwk));
    const token = mint(primary, claims(), { alg: 'HS256' }, 'HS256', secret);
    expect(await refusal(token, { algorithms: new Set(['HS256', 'ES256']) })).toStrictEqual(invalid('access token signature is invalid'));
  });

  it('kid selects the key: each published key verifies its own tokens', async () => {
    expect((await verifyAccessToken(mint(secondary), options())).jti).toBe('tok-1');
    expect((await verifyAccessToken(mint(primary), options())).jti).toBe('tok-1');
  });

  it('without a kid every published key is tried', async () => {
    expect((await verifyAccessToken(mint(secondary, claims(), { kid: undefined }), options())).jti).toBe('tok-1');
  });

  it('an unknown kid: signed by a key the issuer does not publish', async () => {
    expect(await refusal(mint(primary, claims(), { kid: 'rotated-away' }))).toStrictEqual(invalid('access token is signed by a key the trusted issuer does not publish'));
  });

  it('a kid naming one key, signed by another (or by an attacker reusing the kid): signature invalid', async () => {
    expect(await refusal(mint(secondary, claims(), { kid: 'k1' }))).toStrictEqual(invalid('access token signature is invalid'));
    expect(await refusal(mint(attacker))).toStrictEqual(invalid('access token signature is invalid'));
  });

  it('kid must be a string of at most 256 characters', async () => {
    for (const kid of [1, null, ['k1'], 'k'.repeat(257)]) expect(await refusal(mint(primary, claims(), { kid }))).toStrictEqual(invalid('access token "kid" must be a short string'));
  });

  it('keys the token points at (jwk, jku, x5u) are never used: an attacker\'s embedded key does not verify', async () => {
    const header = { kid: undefined, jwk: attacker.jwk, jku: 'https://attacker.example/jwks', x5u: 'https://attacker.example/cert' };
    expect(await refusal(mint(attacker, claims(), header))).toStrictEqual(invalid('access token signature is invalid'));
  });

  it('a key the issuer pinned to one alg (JWK "alg") never verifies another', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const rsa: SigningKey = { kid: 'rsa', privateKey, jwk: { ...publicKey.export({ format: 'jwk' }), kid: 'rsa', alg: 'RS256' } };
    const rsaKeys = createLocalKeySource({ keys: [rsa.jwk] });
    const algorithms = new Set(['RS256', 'PS256']);
    expect((await verifyAccessToken(mint(rsa, claims(), { alg: 'RS256' }, 'RS256'), options({ keys: rsaKeys, algorithms }))).clientId).toBe('client-1');
    expect(await refusal(mint(rsa, claims(), { alg: 'PS256' }, 'PS256'), { keys: rsaKeys, algorithms })).toStrictEqual(invalid('access token signature is invalid'));
  });

  it('a payload changed after signing is refused', async () => {
    const [h, , s] = mint(primary).split('.') as [string, string, string];
    const forged = b64(JSON.stringify(claims({ scope: 'mcp:tools mcp:admin' })));
    expect(await refusal(`${h}.${forged}.${s}`)).toStrictEqual(invalid('access token signature is invalid'));
  });

  it('a key source that cannot answer is not an invalid token: its StoreUnavailableError goes through (→ 503)', async () => {
    const outage = new StoreUnavailableError('JWKS unreachable', { retryAfterSeconds: 5 });
    const down: KeySource = { resolve: () => Promise.reject(outage) };
    await expect(verifyAccessToken(mint(primary), options({ keys: down }))).rejects.toBe(outage);
  });
});

describe('verifyAccessToken — RFC 9068 §4: iss, exp, nbf, iat (skew 30 s)', () => {
  it('iss must equal the trusted issuer byte for byte', async () => {
    const why = `access token issuer is not the trusted issuer ${ISSUER}`;
    for (const iss of [undefined, `${ISSUER}/`, 'https://ISSUER.example.com', 'https://issuer.example.com:443', 'https://evil.example', 1]) {
      expect(await refusal(mint(primary, claims({ iss })))).toStrictEqual(invalid(why));
    }
  });

  it('exp is required and numeric', async () => {
    for (const exp of [undefined, String(NOW + 600), null]) expect(await refusal(mint(primary, claims({ exp })))).toStrictEqual(invalid('access token has no "exp"'));
  });

  it('RFC 7519 §4.1.4: expired at exp (plus skew); valid one second before', async () => {
    expect(await refusal(mint(primary, claims({ exp: NOW - 30 })))).toStrictEqual(invalid('access token has expired'));
    expect((await verifyAccessToken(mint(primary, claims({ exp: NOW - 29 })), options())).exp).toBe(NOW - 29);
  });

  it('RFC 7519 §4.1.5: nbf up to skew in the future passes; one second more, or a non-number, is refused', async () => {
    expect((await verifyAccessToken(mint(primary, claims({ nbf: NOW + 30 })), options())).clientId).toBe('client-1');
    for (const nbf of [NOW + 31, String(NOW), null]) expect(await refusal(mint(primary, claims({ nbf })))).toStrictEqual(invalid('access token is not valid yet ("nbf")'));
  });

  it('RFC 7519 §4.1.6: iat up to skew in the future passes; one second more, or a non-number, is refused', async () => {
    expect((await verifyAccessToken(mint(primary, claims({ iat: NOW + 30 })), options())).iat).toBe(NOW + 30);
    for (const iat of [NOW + 31, String(NOW)]) expect(await refusal(mint(primary, claims({ iat })))).toStrictEqual(invalid('access token "iat" is in the future'));
  });
});

describe('verifyAccessToken — RFC 9068 §2.2 claims', () => {
  it('aud: a string becomes a one-element list, an array is kept (the caller compares it to the resource)', async () => {
    expect((await verifyAccessToken(mint(primary, claims({ aud: RESOURCE })), options())).aud).toEqual([RESOURCE]);
    expect((await verifyAccessToken(mint(primary, claims({ aud: ['https://other.example', RESOURCE] })), options())).aud).toEqual(['https://other.example', RESOURCE]);
  });

  it('aud: missing, a number, or an array holding a non-string is refused', async () => {
    for (const aud of [undefined, 1, [RESOURCE, 1], { 0: RESOURCE }, null]) expect(await refusal(mint(primary, claims({ aud })))).toStrictEqual(invalid('access token has no valid "aud"'));
  });

  it('client_id is required; azp is accepted in its place', async () => {
    expect((await verifyAccessToken(mint(primary, claims({ client_id: undefined, azp: 'client-azp' })), options())).clientId).toBe('client-azp');
    expect(await refusal(mint(primary, claims({ client_id: undefined })))).toStrictEqual(invalid('access token has no "client_id"'));
    expect(await refusal(mint(primary, claims({ client_id: 7 })))).toStrictEqual(invalid('access token has no "client_id"'));
  });

  it('§2.2.3 scope: a space-separated string; missing means no scopes; "scp" arrays are read when there is no scope', async () => {
    expect((await verifyAccessToken(mint(primary, claims({ scope: ' mcp:tools  mcp:admin ' })), options())).scopes).toEqual(['mcp:tools', 'mcp:admin']);
    expect((await verifyAccessToken(mint(primary, claims({ scope: undefined })), options())).scopes).toEqual([]);
    expect((await verifyAccessToken(mint(primary, claims({ scope: undefined, scp: ['a', 'b'] })), options())).scopes).toEqual(['a', 'b']);
    expect((await verifyAccessToken(mint(primary, claims({ scope: undefined, scp: ['a', 1] })), options())).scopes).toEqual([]);
    expect((await verifyAccessToken(mint(primary, claims({ scope: 'a', scp: ['admin'] })), options())).scopes).toEqual(['a']);
  });

  it('§2.2.3 scope: an array (or any non-string) is refused', async () => {
    for (const scope of [['mcp:tools'], 1, null]) {
      expect(await refusal(mint(primary, claims({ scope })))).toStrictEqual(invalid('access token "scope" must be a space-separated string (RFC 9068 §2.2.3)'));
    }
  });

  it('sub and jti, when present, are strings', async () => {
    expect(await refusal(mint(primary, claims({ sub: 42 })))).toStrictEqual(invalid('access token "sub" must be a string'));
    expect(await refusal(mint(primary, claims({ jti: 42 })))).toStrictEqual(invalid('access token "jti" must be a string'));
  });
});

describe('verifyAccessToken — RFC 9449 §6 / RFC 7800 §3.1 confirmation (cnf)', () => {
  it('cnf.jkt binds the token to a DPoP key: returned as jkt', async () => {
    expect((await verifyAccessToken(mint(primary, claims({ cnf: { jkt: '0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I' } })), options())).jkt).toBe('0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I');
  });

  it('cnf must be an object, and cnf.jkt a non-empty string', async () => {
    for (const cnf of [null, 'jkt', ['jkt']]) expect(await refusal(mint(primary, claims({ cnf })))).toStrictEqual(invalid('access token "cnf" must be an object'));
    for (const jkt of ['', 5, null]) expect(await refusal(mint(primary, claims({ cnf: { jkt } })))).toStrictEqual(invalid('access token "cnf.jkt" must be a string'));
  });

  it('RFC 8705 §3.1: a token bound by another confirmation method (x5t#S256) is never treated as a bearer token', async () => {
    const why = 'access token is bound by a confirmation method this resource does not support (only cnf.jkt)';
    expect(await refusal(mint(primary, claims({ cnf: { 'x5t#S256': 'bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2' } })))).toStrictEqual(invalid(why));
    expect(await refusal(mint(primary, claims({ cnf: {} })))).toStrictEqual(invalid(why));
  });
});

/**
 * ID token validation (OpenID Connect Core 1.0 §3.1.3.7), each rule with a token that breaks
 * only it; tokens are signed with `jose` (the cross-check library), verified by Warden's own code.
 */
import { exportJWK, generateKeyPair, SignJWT, type JWTPayload } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { createLocalKeySource } from '../../jose/local-key-source.js';
import type { KeySource } from '../../jose/key-source.js';
import { IdTokenError, validateIdToken, type IdTokenExpectations } from './id-token.js';

const NOW = 1_700_000_000;
const ISSUER = 'https://idp.company.example';
let keys: KeySource;
let sign: (claims: JWTPayload, header?: Record<string, unknown>) => Promise<string>;
let signOther: (claims: JWTPayload) => Promise<string>;

const expectations = (): IdTokenExpectations => ({ issuer: ISSUER, clientId: 'warden', nonce: 'n-0S6_WzA2Mj', keys, now: NOW, skew: 30 });
const good: JWTPayload = { iss: ISSUER, sub: '248289761001', aud: 'warden', exp: NOW + 300, iat: NOW, nonce: 'n-0S6_WzA2Mj', groups: ['eng'] };

beforeAll(async () => {
  const pair = await generateKeyPair('RS256', { extractable: true });
  const other = await generateKeyPair('RS256', { extractable: true });
  keys = createLocalKeySource({ keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' }] });
  sign = (claims, header = {}) => new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'k1', ...header }).sign(pair.privateKey);
  signOther = (claims) => new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).sign(other.privateKey);
});

const refused = async (token: string, message: RegExp): Promise<void> => {
  const error = await validateIdToken(token, expectations()).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(IdTokenError);
  expect((error as Error).message).toMatch(message);
};

describe('validateIdToken (OpenID Connect Core 1.0 §3.1.3.7)', () => {
  it('§3.1.3.7: a token passing every rule yields its claims', async () => {
    expect(await validateIdToken(await sign(good), expectations())).toMatchObject({ sub: '248289761001', groups: ['eng'] });
  });

  it('§3.1.3.7 step 6-7: an unsigned token (alg none) is refused', async () => {
    const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url')}.${Buffer.from(JSON.stringify(good)).toString('base64url')}.`;
    await refused(unsigned, /not a signed JWT|accepted algorithm/);
    await refused(`${Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url')}.${Buffer.from(JSON.stringify(good)).toString('base64url')}.AA`, /accepted algorithm/);
  });

  it('§3.1.3.7 step 8: an HMAC token (the client secret as key) is refused', async () => {
    const hs = await new SignJWT(good).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode('x'.repeat(32)));
    await refused(hs, /accepted algorithm/);
  });

  it('§3.1.3.7 step 6: a signature by another key is refused', async () => {
    await refused(await signOther(good), /signature does not verify/);
  });

  it('§3.1.3.7 step 2: another issuer is refused', async () => {
    await refused(await sign({ ...good, iss: 'https://attacker.example' }), /issued by/);
  });

  it('§3.1.3.7 step 3-5: aud without our client id, a foreign azp, or several audiences without azp are refused', async () => {
    await refused(await sign({ ...good, aud: 'someone-else' }), /aud/);
    await refused(await sign({ ...good, azp: 'someone-else' }), /azp/);
    await refused(await sign({ ...good, aud: ['warden', 'other'] }), /several audiences/);
    expect(await validateIdToken(await sign({ ...good, aud: ['warden', 'other'], azp: 'warden' }), expectations())).toBeDefined();
  });

  it('§3.1.3.7 step 9-10: expired (beyond the skew) or issued in the future is refused; within the skew passes', async () => {
    await refused(await sign({ ...good, exp: NOW - 30 }), /expired/);
    expect(await validateIdToken(await sign({ ...good, exp: NOW - 29 }), expectations())).toBeDefined();
    await refused(await sign({ ...good, iat: NOW + 31 }), /future/);
    await refused(await sign({ ...good, exp: undefined }), /expired/);
  });

  it('§3.1.3.7 step 11: a missing or different nonce is refused', async () => {
    await refused(await sign({ ...good, nonce: 'other' }), /nonce/);
    await refused(await sign({ ...good, nonce: undefined }), /nonce/);
  });

  it('§2: a token without a subject is refused', async () => {
    await refused(await sign({ ...good, sub: undefined }), /subject/);
  });
});

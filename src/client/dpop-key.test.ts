import type { webcrypto } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateKeyPair as joseGenerateKeyPair, calculateJwkThumbprint, decodeProtectedHeader, decodeJwt } from 'jose';
import { generateDpopKey, importDpopKey } from './dpop-key.js';
import { verifyProof } from '../dpop/verify-proof.js';
import { accessTokenHash } from '../jose/thumbprint.js';
import { ProofKeyCache } from '../dpop/proof-key-cache.js';

const HTU = 'https://mcp.example.com/mcp';

/** The resource server's own proof verifier (RFC 9449 §4.3). */
async function verify(proof: string) {
  return verifyProof(proof, { method: 'POST', htu: HTU, algorithms: new Set(['ES256', 'EdDSA']), maxAgeSeconds: 60, skewSeconds: 5, now: Math.floor(Date.now() / 1000), keys: new ProofKeyCache() });
}

describe('DPoP key holder (RFC 9449 §2, §4.2)', () => {
  it.each(['ES256', 'EdDSA'] as const)('%s: proofs verify with the server-side verifier and carry typ, jwk, jti, htm, htu, iat', async (alg) => {
    const key = await generateDpopKey({ alg });
    const proof = await key.proof({ htm: 'post', htu: `${HTU}?x=1#frag` });
    const header = decodeProtectedHeader(proof);
    const payload = decodeJwt(proof);
    expect(header).toEqual({ typ: 'dpop+jwt', alg, jwk: key.publicJwk });
    expect(payload.htm).toBe('POST');
    expect(payload.htu).toBe(HTU);
    expect(typeof payload.jti).toBe('string');
    expect(Math.abs((payload.iat as number) - Date.now() / 1000)).toBeLessThan(5);
    expect(payload.ath).toBeUndefined();
    const verified = await verify(proof);
    expect(verified.jkt).toBe(key.thumbprint);
  });

  it('RFC 7638: the thumbprint matches an independent implementation (jose)', async () => {
    const key = await generateDpopKey();
    expect(key.thumbprint).toBe(await calculateJwkThumbprint(key.publicJwk as never));
  });

  it('RFC 9449 §4.2: ath is the SHA-256 of the access token; the nonce is carried', async () => {
    const key = await generateDpopKey();
    const proof = await key.proof({ htm: 'POST', htu: HTU, accessToken: 'tok.en.x', nonce: 'n-1' });
    expect(decodeJwt(proof)).toMatchObject({ ath: accessTokenHash('tok.en.x'), nonce: 'n-1' });
  });

  it('every proof has a fresh jti', async () => {
    const key = await generateDpopKey();
    const jtis = new Set<unknown>();
    for (let i = 0; i < 20; i++) jtis.add(decodeJwt(await key.proof({ htm: 'GET', htu: HTU })).jti);
    expect(jtis.size).toBe(20);
  });

  it('the private key cannot be exported, and only public members are published', async () => {
    const key = await generateDpopKey();
    expect(key.privateKey.extractable).toBe(false);
    await expect(crypto.subtle.exportKey('jwk', key.privateKey)).rejects.toThrow();
    expect(Object.keys(key.publicJwk).sort()).toEqual(['crv', 'kty', 'x', 'y']);
    expect(Object.isFrozen(key)).toBe(true);
    expect(JSON.stringify(key.publicJwk)).not.toMatch(/"d"/);
  });

  it('refuses to hold an extractable private key', async () => {
    const pair = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
    await expect(importDpopKey(pair)).rejects.toThrow(/non-extractable/);
  });

  it('imports a non-extractable pair and refuses other curves and algorithms', async () => {
    const pair = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
    const key = await importDpopKey(pair);
    expect((await verify(await key.proof({ htm: 'POST', htu: HTU }))).jkt).toBe(key.thumbprint);
    const p384 = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-384' }, false, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
    await expect(importDpopKey(p384)).rejects.toThrow(/unsupported DPoP key ECDSA P-384/);
    const rsa = await joseGenerateKeyPair('RS256', { extractable: false });
    await expect(importDpopKey(rsa as unknown as webcrypto.CryptoKeyPair)).rejects.toThrow(/unsupported DPoP key/);
    await expect(generateDpopKey({ alg: 'HS256' as never })).rejects.toThrow(/unsupported DPoP algorithm/);
  });
});

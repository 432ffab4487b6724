import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { accessTokenHash, jwkThumbprint } from '../jose/thumbprint.js';
import { htuComparisonForm } from '../oauth/canonical-uri.js';
import { ProofKeyCache } from './proof-key-cache.js';
import { verifyProof } from './verify-proof.js';

interface Vectors {
  jwkThumbprint: Array<{ source: string; jwk: Record<string, unknown>; thumbprint: string }>;
  accessTokenHash: Array<{ source: string; accessToken: string; ath: string }>;
  dpopProofs: Array<{ source: string; proof: string; method: string; url: string; accessToken?: string; clockSeconds: number; expectedThumbprint: string }>;
}

const vectors = JSON.parse(readFileSync(fileURLToPath(new URL('../../test/vectors/rfc-vectors.json', import.meta.url)), 'utf8')) as Vectors;
const algorithms = new Set(['ES256', 'EdDSA', 'RS256']);

describe('known-answer vectors from the RFCs', () => {
  for (const v of vectors.jwkThumbprint) {
    it(`${v.source}: JWK thumbprint`, () => {
      expect(jwkThumbprint(v.jwk)).toBe(v.thumbprint);
    });
  }

  for (const v of vectors.accessTokenHash) {
    it(`${v.source}: ath`, () => {
      expect(accessTokenHash(v.accessToken)).toBe(v.ath);
    });
  }

  for (const v of vectors.dpopProofs) {
    const base = {
      method: v.method,
      htu: htuComparisonForm(v.url) as string,
      algorithms,
      maxAgeSeconds: 60,
      skewSeconds: 5,
      keys: new ProofKeyCache(),
      ...(v.accessToken === undefined ? {} : { accessToken: v.accessToken, ath: accessTokenHash(v.accessToken) }),
    };

    it(`${v.source}: verifies at its own clock and yields the expected thumbprint (RFC 9449 §4.3)`, () => {
      const result = verifyProof(v.proof, { ...base, now: v.clockSeconds });
      expect(result.jkt).toBe(v.expectedThumbprint);
    });

    it(`${v.source}: refused an hour later (§4.3 step 11), for another method (step 8) and URL (step 9)`, () => {
      expect(() => verifyProof(v.proof, { ...base, now: v.clockSeconds + 3600 })).toThrow(/too old/);
      expect(() => verifyProof(v.proof, { ...base, now: v.clockSeconds, method: v.method === 'GET' ? 'POST' : 'GET' })).toThrow(/htm/);
      expect(() => verifyProof(v.proof, { ...base, now: v.clockSeconds, htu: 'https://elsewhere.example/x' })).toThrow(/htu/);
    });

    it(`${v.source}: a flipped signature bit is refused (§4.3 step 6)`, () => {
      const parts = v.proof.split('.');
      const sig = Buffer.from(parts[2] as string, 'base64url');
      sig[10] = (sig[10] as number) ^ 1;
      const tampered = `${parts[0]}.${parts[1]}.${sig.toString('base64url')}`;
      expect(() => verifyProof(tampered, { ...base, now: v.clockSeconds })).toThrow(/signature/);
    });
  }

  it('RFC 9449 figure 13 proof without its access token is refused: ath is only checked when a token is presented, and another token mismatches', () => {
    const v = vectors.dpopProofs.find((p) => p.accessToken !== undefined);
    if (v === undefined) throw new Error('vector missing');
    expect(() =>
      verifyProof(v.proof, { method: v.method, htu: htuComparisonForm(v.url) as string, algorithms, maxAgeSeconds: 60, skewSeconds: 5, keys: new ProofKeyCache(), now: v.clockSeconds, accessToken: 'other', ath: accessTokenHash('other') }),
    ).toThrow(/ath/);
  });
});

import { generateKeyPairSync, verify, type JsonWebKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { importPublicJwk, UnusableJwkError } from './import-jwk.js';

interface Vectors {
  jwkThumbprint: { source: string; jwk: Record<string, unknown> }[];
  dpopProofs: { source: string; proof: string }[];
}
const vectors = JSON.parse(readFileSync(new URL('../../test/vectors/rfc-vectors.json', import.meta.url), 'utf8')) as Vectors;

/** RFC 7517 Appendix A.1, first key (an EC key published for encryption). */
const RFC7517_A1_EC = {
  kty: 'EC',
  crv: 'P-256',
  x: 'MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4',
  y: '4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM',
  use: 'enc',
  kid: '1',
};
/** RFC 7517 Appendix A.1, second key. */
const RFC7517_A1_RSA = vectors.jwkThumbprint.find((v) => v.source.startsWith('RFC 7638'))!.jwk;
/** RFC 8037 Appendix A.1 (private) and A.2 (public). */
const RFC8037_A1_PRIVATE = {
  kty: 'OKP',
  crv: 'Ed25519',
  d: 'nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A',
  x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo',
};
const RFC8037_A2_PUBLIC = { kty: 'OKP', crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo' };
/** RFC 7515 Appendix A.3: ES256 example key (public part) and its JWS. */
const RFC7515_A3_PUBLIC = {
  kty: 'EC',
  crv: 'P-256',
  x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU',
  y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0',
};
const RFC7515_A3_JWS =
  'eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q';
const RFC8037_A4_JWS =
  'eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg';

function splitJws(jws: string): { input: Buffer; signature: Buffer } {
  const [h, p, s] = jws.split('.') as [string, string, string];
  return { input: Buffer.from(`${h}.${p}`), signature: Buffer.from(s, 'base64url') };
}

function publicJwk(type: 'ec' | 'rsa' | 'ed25519', opts: { namedCurve?: string; modulusLength?: number } = {}): JsonWebKey {
  const { publicKey } =
    type === 'ec'
      ? generateKeyPairSync('ec', { namedCurve: opts.namedCurve ?? 'P-256' })
      : type === 'rsa'
        ? generateKeyPairSync('rsa', { modulusLength: opts.modulusLength ?? 2048 })
        : generateKeyPairSync('ed25519');
  return publicKey.export({ format: 'jwk' });
}

function refusal(jwk: unknown): string {
  try {
    importPublicJwk(jwk);
  } catch (error) {
    expect(error).toBeInstanceOf(UnusableJwkError);
    return (error as Error).message;
  }
  throw new Error('expected the JWK to be refused');
}

describe('importPublicJwk — known-answer keys', () => {
  it('RFC 7517 §A.1: imports the example RSA public key with its kid and alg', () => {
    const key = importPublicJwk(RFC7517_A1_RSA);
    expect(key).toMatchObject({ kty: 'RSA', kid: '2011-04-29', alg: 'RS256' });
    expect(key.key.type).toBe('public');
    expect(key.key.asymmetricKeyDetails?.modulusLength).toBe(2048);
  });

  it('RFC 7517 §A.1 / §4.2: refuses the example EC key because its use is "enc"', () => {
    expect(refusal(RFC7517_A1_EC)).toMatch(/use "enc" is not "sig"/);
  });

  it('RFC 7517 §A.1: the same EC key without "use" imports as P-256', () => {
    const { use: _use, ...rest } = RFC7517_A1_EC;
    expect(importPublicJwk(rest)).toMatchObject({ kty: 'EC', crv: 'P-256', kid: '1' });
  });

  it('RFC 7515 §A.3: the imported ES256 key verifies the RFC example JWS', () => {
    const { key } = importPublicJwk(RFC7515_A3_PUBLIC);
    const { input, signature } = splitJws(RFC7515_A3_JWS);
    expect(verify('sha256', input, { key, dsaEncoding: 'ieee-p1363' }, signature)).toBe(true);
  });

  it('RFC 8037 §A.2 / §A.4: the imported Ed25519 key verifies the RFC example JWS', () => {
    const key = importPublicJwk(RFC8037_A2_PUBLIC);
    expect(key).toMatchObject({ kty: 'OKP', crv: 'Ed25519' });
    const { input, signature } = splitJws(RFC8037_A4_JWS);
    expect(verify(null, input, key.key, signature)).toBe(true);
  });

  it('RFC 9449 §4.1 figure 2: the proof key from the shared vectors verifies its proof', () => {
    const proof = vectors.dpopProofs[0]!.proof;
    const header = JSON.parse(Buffer.from(proof.split('.')[0]!, 'base64url').toString()) as { jwk: unknown };
    const { key } = importPublicJwk(header.jwk);
    const { input, signature } = splitJws(proof);
    expect(verify('sha256', input, { key, dsaEncoding: 'ieee-p1363' }, signature)).toBe(true);
  });

  it('RFC 7518 §6.2.1: imports generated P-384 and P-521 keys', () => {
    expect(importPublicJwk(publicJwk('ec', { namedCurve: 'P-384' })).crv).toBe('P-384');
    expect(importPublicJwk(publicJwk('ec', { namedCurve: 'P-521' })).crv).toBe('P-521');
  });

  it('RFC 7517 §4.4 / RFC 7518 §3.1: accepts alg that fits the key', () => {
    expect(importPublicJwk({ ...publicJwk('ec'), alg: 'ES256', use: 'sig', key_ops: ['verify'] }).alg).toBe('ES256');
    expect(importPublicJwk({ ...publicJwk('rsa'), alg: 'PS256' }).alg).toBe('PS256');
    expect(importPublicJwk({ ...RFC8037_A2_PUBLIC, alg: 'EdDSA' }).alg).toBe('EdDSA');
  });

  it('returns a frozen key that does not echo unknown members', () => {
    const key = importPublicJwk({ ...RFC8037_A2_PUBLIC, kid: 'k', x5c: ['bogus'], extra: 1 });
    expect(Object.isFrozen(key)).toBe(true);
    expect(Object.keys(key).sort()).toEqual(['crv', 'key', 'kid', 'kty']);
  });
});

describe('importPublicJwk — refusals', () => {
  it('RFC 8037 §A.1: refuses the example private Ed25519 key ("d")', () => {
    expect(refusal(RFC8037_A1_PRIVATE)).toMatch(/private or symmetric member "d"/);
  });

  it.each(['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'])('RFC 7518 §6.3.2: refuses a key carrying private member "%s"', (member) => {
    expect(refusal({ ...RFC7517_A1_RSA, [member]: 'AQAB' })).toMatch(new RegExp(`"${member}"`));
  });

  it('RFC 7518 §6.3.2: the message never echoes private key material', () => {
    const message = refusal(RFC8037_A1_PRIVATE);
    expect(message).not.toContain(RFC8037_A1_PRIVATE.d);
  });

  it('RFC 7518 §6.4: refuses a symmetric "oct" key', () => {
    expect(refusal({ kty: 'oct', k: 'AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow' })).toMatch(/"k"/);
    expect(refusal({ kty: 'oct' })).toMatch(/symmetric/);
  });

  it('RFC 7518 §3.3: refuses an RSA key with a 1024-bit modulus', () => {
    expect(refusal(publicJwk('rsa', { modulusLength: 1024 }))).toMatch(/1024 bits; at least 2048/);
  });

  it('RFC 7518 §6.3.1.2: refuses an RSA public exponent of 1 or an even exponent', () => {
    expect(refusal({ ...RFC7517_A1_RSA, e: 'AQ' })).toMatch(/exponent/);
    expect(refusal({ ...RFC7517_A1_RSA, e: 'AQAC' })).toMatch(/exponent/);
  });

  it('RFC 7518 §6.2.1: refuses an EC point that is not on the curve', () => {
    const { x, y } = RFC7515_A3_PUBLIC;
    const flipped = y.slice(0, 10) + (y[10] === 'A' ? 'B' : 'A') + y.slice(11);
    expect(refusal({ kty: 'EC', crv: 'P-256', x, y: flipped })).toMatch(/not a valid EC public key/);
  });

  it('RFC 7518 §6.2.1.2: refuses coordinates of the wrong length', () => {
    expect(refusal({ ...RFC7515_A3_PUBLIC, x: RFC7515_A3_PUBLIC.x.slice(0, 42) })).toMatch(/x must encode exactly 32 bytes/);
    expect(refusal({ ...RFC7515_A3_PUBLIC, crv: 'P-384' })).toMatch(/48 bytes/);
  });

  it('RFC 7518 §6.2.1.1 / RFC 8037 §2: refuses unsupported curves', () => {
    expect(refusal({ ...RFC7515_A3_PUBLIC, crv: 'secp256k1' })).toMatch(/crv must be/);
    expect(refusal({ ...RFC8037_A2_PUBLIC, crv: 'X25519' })).toMatch(/Ed25519/);
    expect(refusal({ ...RFC8037_A2_PUBLIC, crv: 'Ed448' })).toMatch(/Ed25519/);
  });

  it('RFC 7517 §4.1: refuses a missing or unknown kty', () => {
    expect(refusal({ crv: 'Ed25519', x: RFC8037_A2_PUBLIC.x })).toMatch(/kty must be/);
    expect(refusal({ ...RFC8037_A2_PUBLIC, kty: 'ec' })).toMatch(/kty must be/);
  });

  it('RFC 7517 §4.2 / §4.3: refuses use other than "sig" and key_ops without "verify"', () => {
    expect(refusal({ ...RFC8037_A2_PUBLIC, use: 'enc' })).toMatch(/use/);
    expect(refusal({ ...RFC8037_A2_PUBLIC, use: 1 })).toMatch(/use must be/);
    expect(refusal({ ...RFC8037_A2_PUBLIC, key_ops: ['encrypt'] })).toMatch(/verify/);
    expect(refusal({ ...RFC8037_A2_PUBLIC, key_ops: 'verify' })).toMatch(/array/);
  });

  it('RFC 7517 §4.4 / RFC 7518 §3.1: refuses an alg that is not an asymmetric signature alg, or does not fit', () => {
    expect(refusal({ ...RFC8037_A2_PUBLIC, alg: 'HS256' })).toMatch(/not an asymmetric signature/);
    expect(refusal({ ...RFC8037_A2_PUBLIC, alg: 'none' })).toMatch(/not an asymmetric signature/);
    expect(refusal({ ...RFC7515_A3_PUBLIC, alg: 'ES384' })).toMatch(/does not fit a EC P-256 key/);
    expect(refusal({ ...RFC7517_A1_RSA, alg: 'ES256' })).toMatch(/does not fit/);
  });

  it('RFC 7517 §4.5: refuses a non-string or empty kid', () => {
    expect(refusal({ ...RFC8037_A2_PUBLIC, kid: 7 })).toMatch(/kid must be/);
    expect(refusal({ ...RFC8037_A2_PUBLIC, kid: '' })).toMatch(/kid must be/);
  });

  it('RFC 7515 §2: refuses members that are not unpadded base64url', () => {
    expect(refusal({ ...RFC8037_A2_PUBLIC, x: `${RFC8037_A2_PUBLIC.x}=` })).toMatch(/base64url/);
    expect(refusal({ ...RFC8037_A2_PUBLIC, x: RFC8037_A2_PUBLIC.x.replace('_', '/') })).toMatch(/base64url/);
    expect(refusal({ ...RFC7517_A1_RSA, n: 42 })).toMatch(/n must be/);
    expect(refusal({ kty: 'RSA', e: 'AQAB' })).toMatch(/n must be/);
  });

  it('RFC 7517 §4: refuses values that are not JSON objects', () => {
    for (const value of [null, undefined, 'jwk', 42, [RFC8037_A2_PUBLIC]]) {
      expect(refusal(value)).toMatch(/JSON object/);
    }
  });

  it('reads own members only: an inherited x or kty is ignored', () => {
    const proto = { ...RFC8037_A2_PUBLIC };
    expect(refusal(Object.create(proto) as unknown)).toMatch(/kty must be/);
  });

  it('a JSON "__proto__" member does not change what is imported', () => {
    const parsed = JSON.parse(`{"kty":"OKP","crv":"Ed25519","x":"${RFC8037_A2_PUBLIC.x}","__proto__":{"d":"AAAA","kty":"oct"}}`) as unknown;
    expect(importPublicJwk(parsed).kty).toBe('OKP');
  });
});

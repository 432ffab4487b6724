import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createLocalKeySource } from './local-key-source.js';

function ecJwk(kid?: string): Record<string, unknown> {
  const jwk = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' });
  return kid === undefined ? { ...jwk } : { ...jwk, kid };
}

describe('createLocalKeySource', () => {
  it('RFC 7517 §4.5: resolve(kid) returns the keys with that kid', async () => {
    const a = ecJwk('a');
    const source = createLocalKeySource({ keys: [a, ecJwk('b')] });
    const keys = await source.resolve('a');
    expect(keys).toHaveLength(1);
    expect(keys[0]!.kid).toBe('a');
    expect(keys[0]!.key.export({ format: 'jwk' })).toEqual({ kty: 'EC', crv: 'P-256', x: a.x, y: a.y });
  });

  it('RFC 7517 §4.5: keys sharing a kid (e.g. different kty) are all candidates', async () => {
    const rsa = { ...generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'jwk' }), kid: 'same' };
    const source = createLocalKeySource({ keys: [ecJwk('same'), rsa] });
    expect((await source.resolve('same')).map((k) => k.kty)).toEqual(['EC', 'RSA']);
  });

  it('RFC 7515 §4.1.4: a token without kid gets every key, kid-less keys included', async () => {
    const source = createLocalKeySource({ keys: [ecJwk('a'), ecJwk()] });
    expect(await source.resolve(undefined)).toHaveLength(2);
  });

  it('RFC 7515 §4.1.4: an unknown kid resolves [] (→ invalid_token), and a kid-less key does not match a kid', async () => {
    const source = createLocalKeySource({ keys: [ecJwk('a'), ecJwk()] });
    expect(await source.resolve('zzz')).toEqual([]);
    expect(await source.resolve('')).toEqual([]);
  });

  it('RFC 7517 §5: imports keys once; the same key objects are returned on every call', async () => {
    const source = createLocalKeySource({ keys: [ecJwk('a')] });
    const [first] = await source.resolve('a');
    const [second] = await source.resolve('a');
    expect(first).toBe(second);
  });

  it('RFC 7517 §5: skips unusable members and reports them', async () => {
    const source = createLocalKeySource({ keys: [{ kty: 'oct', k: 'c2VjcmV0', kid: 'hmac' }, ecJwk('a'), { ...ecJwk('enc'), use: 'enc' }] });
    expect(await source.resolve(undefined)).toHaveLength(1);
    expect(source.skipped.map((s) => [s.index, s.kid])).toEqual([
      [0, 'hmac'],
      [2, 'enc'],
    ]);
    expect(source.skipped[0]!.reason).toMatch(/"k"/);
  });

  it('RFC 7517 §5: throws a TypeError naming each refused key when no key is usable', () => {
    const rsa1024 = { ...generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'jwk' }), kid: 'old' };
    expect(() => createLocalKeySource({ keys: [rsa1024, { kty: 'oct', k: 'c2VjcmV0' }] })).toThrow(TypeError);
    expect(() => createLocalKeySource({ keys: [rsa1024, { kty: 'oct', k: 'c2VjcmV0' }] })).toThrow(
      /no usable verification key[\s\S]*keys\[0\] \(kid "old"\): RSA JWK modulus is 1024 bits[\s\S]*keys\[1\]: JWK carries the private or symmetric member "k"/,
    );
  });

  it('RFC 7517 §5: throws a TypeError for an empty or malformed JWKS', () => {
    expect(() => createLocalKeySource({ keys: [] })).toThrow(/"keys" array is empty/);
    expect(() => createLocalKeySource({} as { keys: unknown[] })).toThrow(/"keys" array/);
    expect(() => createLocalKeySource(null as unknown as { keys: unknown[] })).toThrow(TypeError);
  });
});

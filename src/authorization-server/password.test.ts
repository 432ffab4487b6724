import { describe, expect, it } from 'vitest';
import { hashClientSecret, hashSecret, verifyClientSecret, verifySecret } from './password.js';

describe('secret hashing', () => {
  it('user passwords: scrypt, parameters stored with the hash, constant-time verify', async () => {
    const hash = await hashSecret('correct horse battery staple');
    expect(hash).toMatch(/^scrypt\$16384\$8\$1\$[A-Za-z0-9_-]+\$[A-Za-z0-9_-]{43}$/);
    expect(await verifySecret('correct horse battery staple', hash)).toBe(true);
    expect(await verifySecret('correct horse battery stapl', hash)).toBe(false);
    expect(await verifySecret('anything', undefined)).toBe(false);
    expect(await verifySecret('x', 'scrypt$99999999$8$1$AA$AA')).toBe(false);
  });

  it('client secrets: SHA-256 of a ≥ 32-character secret; short secrets are refused at hashing', async () => {
    const secret = 'a'.repeat(40);
    const hash = hashClientSecret(secret);
    expect(hash).toMatch(/^sha256\$[A-Za-z0-9_-]{43}$/);
    expect(await verifyClientSecret(secret, hash)).toBe(true);
    expect(await verifyClientSecret(`${secret}b`, hash)).toBe(false);
    expect(await verifyClientSecret(secret, undefined)).toBe(false);
    expect(await verifyClientSecret(secret, 'sha256$short')).toBe(false);
    expect(() => hashClientSecret('short-secret')).toThrow(/at least 32/);
  });

  it('client secrets stored as scrypt hashes (older rows) still verify', async () => {
    const secret = 'b'.repeat(40);
    expect(await verifyClientSecret(secret, await hashSecret(secret))).toBe(true);
  });
});

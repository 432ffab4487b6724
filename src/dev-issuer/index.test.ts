import { mkdtemp, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { ISSUER_KEY_FILE, generateIssuerKey, issuerJwks, loadOrCreateIssuerKey, mintAccessToken, readIssuerKey } from './index.js';

const base = { issuer: 'http://localhost:4000', audience: 'http://localhost:4000/mcp', scope: 'mcp:tools', subject: 'demo-user', clientId: 'demo-cli', lifetimeSeconds: 600 };

describe('development issuer key', () => {
  it('is created once, with file mode 0600, and reused', async () => {
    const dir = join(await mkdtemp(join(tmpdir(), 'warden-issuer-')), 'state');
    const first = await loadOrCreateIssuerKey(dir);
    const file = join(dir, ISSUER_KEY_FILE);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    const again = await loadOrCreateIssuerKey(dir);
    expect(again.kid).toBe(first.kid);
    expect((await readIssuerKey(dir))!.kid).toBe(first.kid);
  });

  it('ends up with one key when several processes create it at once', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'warden-issuer-'));
    const keys = await Promise.all(Array.from({ length: 8 }, () => loadOrCreateIssuerKey(dir)));
    const onDisk = await readIssuerKey(dir);
    expect(new Set(keys.map((k) => k.kid))).toEqual(new Set([onDisk!.kid]));
  });

  it('publishes only the public key (RFC 7517), kid = RFC 7638 thumbprint', async () => {
    const key = await generateIssuerKey();
    const jwks = issuerJwks(key);
    expect(jwks.keys).toHaveLength(1);
    expect(Object.keys(jwks.keys[0]!).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y']);
    expect(jwks.keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig', kid: key.kid });
    expect(key.kid).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('reads nothing from a directory without a key', async () => {
    expect(await readIssuerKey(await mkdtemp(join(tmpdir(), 'warden-issuer-')))).toBeUndefined();
  });
});

describe('mintAccessToken (RFC 9068)', () => {
  it('RFC 9068 §2.1-2.2: typ at+jwt, kid, and every required claim', async () => {
    const key = await generateIssuerKey();
    const now = 1_700_000_000;
    const token = await mintAccessToken({ ...base, key, scope: ['mcp:tools', 'mcp:admin'], now: () => now });
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'ES256', typ: 'at+jwt', kid: key.kid });
    const { payload } = await jwtVerify(token, createLocalJWKSet({ keys: [...issuerJwks(key).keys] as never }), {
      issuer: base.issuer,
      audience: base.audience,
      typ: 'at+jwt',
      currentDate: new Date(now * 1000),
    });
    expect(payload).toMatchObject({ iss: base.issuer, sub: 'demo-user', aud: base.audience, client_id: 'demo-cli', scope: 'mcp:tools mcp:admin', iat: now, exp: now + 600 });
    expect(payload.jti).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(payload.cnf).toBeUndefined();
  });

  it('RFC 9449 §6.1: binds to a DPoP key with cnf.jkt', async () => {
    const key = await generateIssuerKey();
    const jkt = '0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I';
    const token = await mintAccessToken({ ...base, key, jkt });
    const { payload } = await jwtVerify(token, createLocalJWKSet({ keys: [...issuerJwks(key).keys] as never }));
    expect(payload.cnf).toEqual({ jkt });
  });

  it('signs with the key kept in the state directory', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'warden-issuer-'));
    const key = await loadOrCreateIssuerKey(dir);
    const token = await mintAccessToken({ ...base, stateDir: dir });
    expect(decodeProtectedHeader(token).kid).toBe(key.kid);
    await expect(mintAccessToken({ ...base, stateDir: join(dir, 'missing') })).rejects.toThrow(/no issuer key/);
  });

  it('gives every token a fresh jti', async () => {
    const key = await generateIssuerKey();
    const [a, b] = await Promise.all([mintAccessToken({ ...base, key }), mintAccessToken({ ...base, key })]);
    expect(JSON.parse(Buffer.from(a.split('.')[1]!, 'base64url').toString()).jti).not.toBe(JSON.parse(Buffer.from(b.split('.')[1]!, 'base64url').toString()).jti);
  });

  it('rejects bad options with a message naming them', async () => {
    const key = await generateIssuerKey();
    await expect(mintAccessToken({ ...base, key, jkt: 'short' })).rejects.toThrow(/^jkt:/);
    await expect(mintAccessToken({ ...base, key, lifetimeSeconds: 0 })).rejects.toThrow(/^lifetimeSeconds:/);
    await expect(mintAccessToken({ ...base, key, scope: ['a b"'] })).rejects.toThrow(/^scope:/);
    await expect(mintAccessToken({ ...base, key, audience: [] })).rejects.toThrow(/^audience:/);
  });

  it('never writes the private key anywhere but the key file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'warden-issuer-'));
    const key = await loadOrCreateIssuerKey(dir);
    const file = JSON.parse(await readFile(join(dir, ISSUER_KEY_FILE), 'utf8')) as { privateJwk: { d: string } };
    expect(JSON.stringify(issuerJwks(key))).not.toContain(file.privateJwk.d);
    expect(JSON.stringify(key.publicJwk)).not.toContain(file.privateJwk.d);
  });
});

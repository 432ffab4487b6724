import { decodeJwt, decodeProtectedHeader } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { expectError, BACKENDS, basic, callResource, REDIRECT_URI, RESOURCE, SECRETS, startHarness, type Harness } from '../../../test/helpers/as-harness.js';
import { createDpopKey } from '../../../test/helpers/test-issuer.js';

let h: Harness;


describe.each(BACKENDS)('authorization_code grant (OAuth 2.1 §4.1.3) [%s stores]', (backend) => {
  const start = (overrides: Parameters<typeof startHarness>[0] = {}): Promise<Harness> => startHarness(overrides, { store: backend });
  beforeEach(async () => {
    h = await start();
  });
  afterEach(async () => {
    await h.close();
  });

  it('OAuth 2.1 §4.1.3 / RFC 9068: a public client redeems its code with PKCE for an audience-bound JWT and a refresh token', async () => {
    const seeded = await h.seedCode();
    const response = await h.redeem(seeded);
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('pragma')).toBe('no-cache');
    expect(response.body).toMatchObject({ token_type: 'Bearer', expires_in: 600, scope: 'mcp:tools' });
    expect(typeof response.body.refresh_token).toBe('string');
    expect(response.body.refresh_token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const token = response.body.access_token as string;
    expect(decodeProtectedHeader(token).typ).toBe('at+jwt');
    expect(decodeJwt(token)).toMatchObject({ iss: h.issuer, sub: 'alice', aud: RESOURCE, client_id: 'public-app', scope: 'mcp:tools' });
    expect(decodeJwt(token).cnf).toBeUndefined();
    const verified = await callResource(await h.resourceServer(), token);
    expect(verified.ok).toBe(true);
  });

  it('RFC 9449 §5: with a DPoP proof the token is DPoP-bound (token_type DPoP, cnf.jkt) and verifies only with that key', async () => {
    const key = await createDpopKey();
    const response = await h.redeem(await h.seedCode(), { dpop: key });
    expect(response.status).toBe(200);
    expect(response.body.token_type).toBe('DPoP');
    const token = response.body.access_token as string;
    expect(decodeJwt(token).cnf).toEqual({ jkt: key.jkt });
    const rs = await h.resourceServer();
    expect((await callResource(rs, token, key)).ok).toBe(true);
    expect((await callResource(rs, token, await createDpopKey())).ok).toBe(false);
    expect((await callResource(rs, token)).ok).toBe(false);
  });

  it('OAuth 2.1 §4.3: a client not registered for refresh_token gets no refresh token', async () => {
    const response = await h.redeem(await h.seedCode({ clientId: 'public-norefresh' }), { clientId: 'public-norefresh' });
    expect(response.status).toBe(200);
    expect(response.body.refresh_token).toBeUndefined();
  });

  it('RFC 6749 §2.3.1: a confidential client redeems with client_secret_basic', async () => {
    const response = await h.redeem(await h.seedCode({ clientId: 'conf-app' }), { auth: basic('conf-app', SECRETS.conf) });
    expect(response.status).toBe(200);
    expect(decodeJwt(response.body.access_token as string).client_id).toBe('conf-app');
  });

  it('RFC 6749 §5.2: an unknown code is invalid_grant', async () => {
    expectError(await h.redeem({ code: 'not-a-code', verifier: 'a'.repeat(43) }), 400, 'invalid_grant');
  });

  it('RFC 6749 §4.1.2: an expired code is invalid_grant', async () => {
    const seeded = await h.seedCode();
    h.advance(61);
    expectError(await h.redeem(seeded), 400, 'invalid_grant');
  });

  describe('code reuse (OAuth 2.1 §4.1.3, RFC 9700 §4.5.3)', () => {
    for (const delay of [0, 1]) {
      it(`a second redemption ${delay === 0 ? 'at once' : '1 s later'} is invalid_grant and revokes the refresh family and access token the first issued`, async () => {
        const seeded = await h.seedCode();
        const first = await h.redeem(seeded);
        expect(first.status).toBe(200);
        h.advance(delay);
        expectError(await h.redeem(seeded), 400, 'invalid_grant');

        const jti = decodeJwt(first.body.access_token as string).jti as string;
        expect(await h.as.context.stores.grants.isAccessTokenDenied(jti, h.now())).toBe(true);
        expect((await callResource(await h.resourceServer(), first.body.access_token as string)).ok).toBe(false);
        expectError(await h.refresh(first.body.refresh_token as string), 400, 'invalid_grant');
        expect(h.audit.filter((e) => e.type === 'code.reuse_detected')).toHaveLength(1);
      });
    }

    it('20 concurrent redemptions: exactly one succeeds, the others are invalid_grant, and its tokens are revoked', async () => {
      const seeded = await h.seedCode();
      const responses = await Promise.all(Array.from({ length: 20 }, () => h.redeem(seeded)));
      const ok = responses.filter((r) => r.status === 200);
      expect(ok).toHaveLength(1);
      for (const r of responses.filter((x) => x.status !== 200)) expectError(r, 400, 'invalid_grant');
      const winner = ok[0] as (typeof responses)[number];
      const jti = decodeJwt(winner.body.access_token as string).jti as string;
      expect(await h.as.context.stores.grants.isAccessTokenDenied(jti, h.now())).toBe(true);
      expectError(await h.refresh(winner.body.refresh_token as string), 400, 'invalid_grant');
    });

    it('RFC 9449 §11.1 / RFC 6749 §4.1.2: an exact replay of the redeeming request (same DPoP proof) is 400 invalid_dpop_proof and leaves the grant alone', async () => {
      const key = await createDpopKey();
      const seeded = await h.seedCode();
      const form = { grant_type: 'authorization_code', code: seeded.code, redirect_uri: REDIRECT_URI, code_verifier: seeded.verifier, client_id: 'public-app' };
      const headers = { DPoP: await h.proof(key) };
      const first = await h.post(h.tokenUrl, form, headers);
      expect(first.status).toBe(200);
      // The replay comes 1 s later, well inside the proof's iat window: only its jti gives it away.
      h.advance(1);
      expectError(await h.post(h.tokenUrl, form, headers), 400, 'invalid_dpop_proof');

      expect((await h.as.context.stores.grants.getGrant(seeded.grantId))?.revokedAt).toBeUndefined();
      const jti = decodeJwt(first.body.access_token as string).jti as string;
      expect(await h.as.context.stores.grants.isAccessTokenDenied(jti, h.now())).toBe(false);
      expect((await callResource(await h.resourceServer(), first.body.access_token as string, key)).ok).toBe(true);
      expect((await h.refresh(first.body.refresh_token as string, { dpop: key })).status).toBe(200);
      expect(h.audit.filter((e) => e.type === 'code.reuse_detected')).toHaveLength(0);
    });

    it('RFC 9449 §11.1 / RFC 6749 §4.1.2: two concurrent copies of the redeeming request (one proof) get one token response and one invalid_dpop_proof; nothing is revoked', async () => {
      const key = await createDpopKey();
      const seeded = await h.seedCode();
      const form = { grant_type: 'authorization_code', code: seeded.code, redirect_uri: REDIRECT_URI, code_verifier: seeded.verifier, client_id: 'public-app' };
      const headers = { DPoP: await h.proof(key) };
      const responses = await Promise.all([h.post(h.tokenUrl, form, headers), h.post(h.tokenUrl, form, headers)]);
      const ok = responses.filter((r) => r.status === 200);
      expect(ok).toHaveLength(1);
      for (const r of responses.filter((x) => x.status !== 200)) expectError(r, 400, 'invalid_dpop_proof');
      expect((await h.as.context.stores.grants.getGrant(seeded.grantId))?.revokedAt).toBeUndefined();
      expect((await h.refresh((ok[0] as (typeof responses)[number]).body.refresh_token as string, { dpop: key })).status).toBe(200);
    });

    it('RFC 6749 §4.1.2 / OAuth 2.1 §4.1.3: a second redemption with a fresh DPoP proof is invalid_grant and revokes what the first issued', async () => {
      const key = await createDpopKey();
      const seeded = await h.seedCode();
      const first = await h.redeem(seeded, { dpop: key });
      expect(first.status).toBe(200);
      expectError(await h.redeem(seeded, { dpop: key }), 400, 'invalid_grant');
      expect((await h.as.context.stores.grants.getGrant(seeded.grantId))?.revokedAt).toBeTypeOf('number');
      const jti = decodeJwt(first.body.access_token as string).jti as string;
      expect(await h.as.context.stores.grants.isAccessTokenDenied(jti, h.now())).toBe(true);
      expectError(await h.refresh(first.body.refresh_token as string, { dpop: key }), 400, 'invalid_grant');
      expect(h.audit.filter((e) => e.type === 'code.reuse_detected')).toHaveLength(1);
    });

    it('a redemption that failed its checks still burns the code; the legitimate retry is reuse', async () => {
      const seeded = await h.seedCode();
      expectError(await h.redeem({ code: seeded.code, verifier: 'b'.repeat(43) }), 400, 'invalid_grant');
      expectError(await h.redeem(seeded), 400, 'invalid_grant');
      // The reuse left a revoked grant in place of the one the first redemption never created.
      expect((await h.as.context.stores.grants.getGrant(seeded.grantId))?.revokedAt).toBeTypeOf('number');
    });

    it('a redemption that finds its grant already revoked by a concurrent reuse still answers once, with tokens born revoked', async () => {
      const seeded = await h.seedCode();
      // What a second redemption racing ahead of the first leaves behind.
      await h.as.context.stores.grants.createGrant({ grantId: seeded.grantId, clientId: 'public-app', subject: 'alice', scopes: ['mcp:tools'], resources: [RESOURCE], createdAt: h.now(), revokedAt: h.now() });
      const response = await h.redeem(seeded);
      expect(response.status).toBe(200);
      const jti = decodeJwt(response.body.access_token as string).jti as string;
      expect(await h.as.context.stores.grants.isAccessTokenDenied(jti, h.now())).toBe(true);
      expectError(await h.refresh(response.body.refresh_token as string), 400, 'invalid_grant');
    });
  });

  describe('PKCE (RFC 7636 §4.5, §4.6)', () => {
    it('RFC 7636 §4.6: a wrong code_verifier is invalid_grant', async () => {
      const seeded = await h.seedCode();
      expectError(await h.redeem({ code: seeded.code, verifier: `${seeded.verifier.slice(0, -2)}xx` }), 400, 'invalid_grant');
    });

    it('OAuth 2.1 §4.1.3: a missing code_verifier is invalid_request and does not consume the code', async () => {
      const seeded = await h.seedCode();
      expectError(await h.post(h.tokenUrl, { grant_type: 'authorization_code', code: seeded.code, redirect_uri: REDIRECT_URI, client_id: 'public-app' }), 400, 'invalid_request');
      expect((await h.redeem(seeded)).status).toBe(200);
    });

    it('RFC 7636 §4.1: a malformed code_verifier (too short, bad characters) is invalid_request', async () => {
      const seeded = await h.seedCode();
      expectError(await h.redeem({ code: seeded.code, verifier: 'short' }), 400, 'invalid_request');
      expectError(await h.redeem({ code: seeded.code, verifier: `${'a'.repeat(42)}+` }), 400, 'invalid_request');
    });

    it('RFC 9700 §4.8: PKCE downgrade — the challenge sent as a "plain" verifier is invalid_grant', async () => {
      const seeded = await h.seedCode();
      const { createHash } = await import('node:crypto');
      const challenge = createHash('sha256').update(seeded.verifier).digest('base64url');
      expectError(await h.redeem({ code: seeded.code, verifier: challenge }), 400, 'invalid_grant');
    });
  });

  describe('binding to client, redirect URI and resource', () => {
    it('RFC 6749 §5.2: a code issued to another client is invalid_grant', async () => {
      const seeded = await h.seedCode({ clientId: 'public-app' });
      expectError(await h.redeem(seeded, { auth: basic('conf-app', SECRETS.conf) }), 400, 'invalid_grant');
    });

    for (const [name, uri] of [
      ['trailing slash', `${REDIRECT_URI}/`],
      ['case', REDIRECT_URI.toUpperCase()],
      ['extra query', `${REDIRECT_URI}?x=1`],
      ['fragment', `${REDIRECT_URI}#x`],
      ['dot segment', 'https://app.example.com/x/../callback'],
      ['userinfo', 'https://evil@app.example.com/callback'],
      ['suffix domain', 'https://app.example.com.evil.example/callback'],
      ['http', 'http://app.example.com/callback'],
    ] as const) {
      it(`OAuth 2.1 §4.1.3: a redirect_uri near-miss (${name}) is invalid_grant`, async () => {
        const seeded = await h.seedCode();
        expectError(await h.redeem(seeded, { form: { redirect_uri: uri } }), 400, 'invalid_grant');
      });
    }

    it('RFC 8707 §2.2: a resource other than the authorization request\'s is invalid_target', async () => {
      await h.close();
      h = await start({
        resources: [
          { uri: RESOURCE, name: 'demo', scopes: ['mcp:tools', 'mcp:admin'], defaultScopes: ['mcp:tools'] },
          { uri: 'https://other.example.com/mcp', name: 'other', scopes: ['mcp:tools'] },
        ],
      });
      expectError(await h.redeem(await h.seedCode(), { form: { resource: 'https://other.example.com/mcp' } }), 400, 'invalid_target');
      expect((await h.redeem(await h.seedCode(), { form: { resource: RESOURCE } })).status).toBe(200);
    });

    it('RFC 8707 §2: an unregistered, relative or fragment resource is invalid_target', async () => {
      for (const resource of ['https://unknown.example.com/mcp', '/mcp', `${RESOURCE}#frag`]) {
        expectError(await h.redeem(await h.seedCode(), { form: { resource } }), 400, 'invalid_target');
      }
    });

    it('RFC 9449 §10: a code bound with dpop_jkt refuses a proof by another key, and a missing proof (invalid_grant)', async () => {
      const key = await createDpopKey();
      expectError(await h.redeem(await h.seedCode({ dpopJkt: key.jkt }), { dpop: await createDpopKey() }), 400, 'invalid_grant');
      expectError(await h.redeem(await h.seedCode({ dpopJkt: key.jkt })), 400, 'invalid_grant');
      const ok = await h.redeem(await h.seedCode({ dpopJkt: key.jkt }), { dpop: key });
      expect(ok.status).toBe(200);
      expect(decodeJwt(ok.body.access_token as string).cnf).toEqual({ jkt: key.jkt });
    });
  });

  it('RFC 9449 §5: a resource with DPoP required gets no Bearer token (invalid_dpop_proof)', async () => {
    await h.close();
    h = await start({ resources: [{ uri: RESOURCE, name: 'demo', scopes: ['mcp:tools'], dpop: 'required' }] });
    expectError(await h.redeem(await h.seedCode()), 400, 'invalid_dpop_proof');
    expect((await h.redeem(await h.seedCode(), { dpop: await createDpopKey() })).body.token_type).toBe('DPoP');
  });

  it('audit events name client, grant type, resource, scopes and key, never a token or code', async () => {
    const key = await createDpopKey();
    const seeded = await h.seedCode();
    const response = await h.redeem(seeded, { dpop: key });
    const issued = h.audit.find((e) => e.type === 'token.issued');
    expect(issued).toMatchObject({ clientId: 'public-app', grantType: 'authorization_code', resource: RESOURCE, scopes: ['mcp:tools'], jkt: key.jkt });
    const logged = JSON.stringify(h.audit);
    for (const secret of [seeded.code, seeded.verifier, response.body.access_token as string, response.body.refresh_token as string]) expect(logged).not.toContain(secret);
  });
});

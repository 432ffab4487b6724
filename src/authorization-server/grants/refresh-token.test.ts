import { decodeJwt } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { expectError, BACKENDS, basic, callResource, RESOURCE, SECRETS, startHarness, type Harness } from '../../../test/helpers/as-harness.js';
import { createDpopKey, type TestDpopKey } from '../../../test/helpers/test-issuer.js';
import { sha256Base64url } from '../pkce.js';

let h: Harness;

type Response = Awaited<ReturnType<Harness['post']>>;


/** Redeems a fresh code; returns the token response. */
async function login(options: { clientId?: string; dpop?: TestDpopKey; scopes?: string[] } = {}): Promise<Response> {
  const clientId = options.clientId ?? 'public-app';
  const seeded = await h.seedCode({ clientId, ...(options.scopes !== undefined && { scopes: options.scopes }) });
  const auth = clientId === 'conf-app' ? { auth: basic('conf-app', SECRETS.conf) } : { clientId };
  const response = await h.redeem(seeded, { ...auth, ...(options.dpop !== undefined && { dpop: options.dpop }) });
  expect(response.status).toBe(200);
  return response;
}

const jtiOf = (r: Response): string => decodeJwt(r.body.access_token as string).jti as string;

describe.each(BACKENDS)('refresh_token grant (OAuth 2.1 §4.3, RFC 9700 §4.14.2) [%s stores]', (backend) => {
  const start = (overrides: Parameters<typeof startHarness>[0] = {}): Promise<Harness> => startHarness(overrides, { store: backend });
  beforeEach(async () => {
    h = await start();
  });
  afterEach(async () => {
    await h.close();
  });

  it('OAuth 2.1 §4.3.1: every use rotates: a new refresh token and a new access token, no-store', async () => {
    const first = await login();
    const r1 = await h.refresh(first.body.refresh_token as string);
    expect(r1.status).toBe(200);
    expect(r1.headers.get('cache-control')).toBe('no-store');
    expect(r1.body).toMatchObject({ token_type: 'Bearer', scope: 'mcp:tools', expires_in: 600 });
    expect(r1.body.refresh_token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(r1.body.refresh_token).not.toBe(first.body.refresh_token);
    expect(decodeJwt(r1.body.access_token as string)).toMatchObject({ sub: 'alice', aud: RESOURCE, client_id: 'public-app' });
    const r2 = await h.refresh(r1.body.refresh_token as string);
    expect(r2.status).toBe(200);
    expect(h.audit.filter((e) => e.type === 'token.refreshed')).toHaveLength(2);
  });

  it('RFC 9700 §4.14.2: reuse of a rotated token revokes the whole family and its access tokens', async () => {
    const first = await login();
    const r1 = await h.refresh(first.body.refresh_token as string);
    const r2 = await h.refresh(r1.body.refresh_token as string);
    expect(r2.status).toBe(200);
    // The first token comes back after its successor was itself used: not a lost-response retry.
    expectError(await h.refresh(first.body.refresh_token as string), 400, 'invalid_grant');
    expectError(await h.refresh(r2.body.refresh_token as string), 400, 'invalid_grant');
    for (const r of [first, r1, r2]) expect(await h.as.context.stores.grants.isAccessTokenDenied(jtiOf(r), h.now())).toBe(true);
    expect((await callResource(await h.resourceServer(), r2.body.access_token as string)).ok).toBe(false);
    expect(h.audit.filter((e) => e.type === 'refresh.reuse_detected')).toHaveLength(1);
  });

  it('RFC 9700 §4.14.2: 20 concurrent refreshes of one token by the same client and key all get the same successor', async () => {
    const key = await createDpopKey();
    const first = await login({ dpop: key });
    const responses = await Promise.all(Array.from({ length: 20 }, () => h.refresh(first.body.refresh_token as string, { dpop: key })));
    for (const r of responses) expect(r.status).toBe(200);
    const successors = new Set(responses.map((r) => r.body.refresh_token));
    expect(successors.size).toBe(1);
    const successor = [...successors][0] as string;
    // Exactly one successor exists, and the session survives: it refreshes, and its tokens work.
    const record = await h.as.context.stores.grants.getRefreshToken(sha256Base64url(first.body.refresh_token as string));
    expect(record?.successorHash).toBe(sha256Base64url(successor));
    const rs = await h.resourceServer();
    for (const r of responses) expect((await callResource(rs, r.body.access_token as string, key)).ok).toBe(true);
    expect((await h.refresh(successor, { dpop: key })).status).toBe(200);
  });

  it('RFC 9700 §4.14.2: a retry of the same request after the grace window is reuse: the family is revoked', async () => {
    const first = await login();
    const r1 = await h.refresh(first.body.refresh_token as string);
    h.advance(11);
    expectError(await h.refresh(first.body.refresh_token as string), 400, 'invalid_grant');
    expectError(await h.refresh(r1.body.refresh_token as string), 400, 'invalid_grant');
    expect(await h.as.context.stores.grants.isAccessTokenDenied(jtiOf(r1), h.now())).toBe(true);
  });

  it('M2 / RFC 9700 §4.14.2: a public client without DPoP has no grace window: a thief replaying the rotated token 3 s later gets 400 invalid_grant and the family is revoked', async () => {
    const first = await login();
    const r1 = await h.refresh(first.body.refresh_token as string);
    expect(r1.status).toBe(200);
    h.advance(3);
    // The thief sends exactly what the client sent (same client_id, no DPoP, no scope/resource): same fingerprint.
    const replay = await h.refresh(first.body.refresh_token as string);
    expectError(replay, 400, 'invalid_grant');
    expect(replay.body.refresh_token).toBeUndefined();
    expect(replay.body.access_token).toBeUndefined();
    // The family is revoked: the legitimate successor is dead, and so are the access tokens.
    expectError(await h.refresh(r1.body.refresh_token as string), 400, 'invalid_grant');
    for (const r of [first, r1]) expect(await h.as.context.stores.grants.isAccessTokenDenied(jtiOf(r), h.now())).toBe(true);
    expect(h.audit.filter((e) => e.type === 'refresh.reuse_detected')).toEqual([expect.objectContaining({ clientId: 'public-app', subject: 'alice' })]);
  });

  it('M2 / RFC 9700 §4.14.2 + RFC 9449 §5: a DPoP-bound public client retrying within the grace window gets the same successor', async () => {
    const key = await createDpopKey();
    const first = await login({ dpop: key });
    const r1 = await h.refresh(first.body.refresh_token as string, { dpop: key });
    expect(r1.status).toBe(200);
    h.advance(3);
    const retry = await h.refresh(first.body.refresh_token as string, { dpop: key });
    expect(retry.status).toBe(200);
    expect(retry.body.refresh_token).toBe(r1.body.refresh_token);
    expect(h.audit.filter((e) => e.type === 'refresh.reuse_detected')).toHaveLength(0);
    expect((await h.refresh(r1.body.refresh_token as string, { dpop: key })).status).toBe(200);
  });

  it('M2 / RFC 9700 §4.14.2: a confidential client keeps the grace window (its authentication makes the retry its own)', async () => {
    const auth = basic('conf-app', SECRETS.conf);
    const first = await login({ clientId: 'conf-app' });
    const r1 = await h.refresh(first.body.refresh_token as string, { auth });
    expect(r1.status).toBe(200);
    h.advance(3);
    const retry = await h.refresh(first.body.refresh_token as string, { auth });
    expect(retry.status).toBe(200);
    expect(retry.body.refresh_token).toBe(r1.body.refresh_token);
    expect(h.audit.filter((e) => e.type === 'refresh.reuse_detected')).toHaveLength(0);
  });

  it('RFC 9700 §4.14.2: inside the grace window, a different request (other parameters) is reuse, not a retry', async () => {
    const first = await login({ scopes: ['mcp:tools', 'mcp:admin'] });
    const r1 = await h.refresh(first.body.refresh_token as string);
    expect(r1.status).toBe(200);
    expectError(await h.refresh(first.body.refresh_token as string, { form: { scope: 'mcp:tools' } }), 400, 'invalid_grant');
    expectError(await h.refresh(r1.body.refresh_token as string), 400, 'invalid_grant');
  });

  it('OAuth 2.1 §4.3.1: scope widening is invalid_scope, and the token is not rotated', async () => {
    const first = await login();
    expectError(await h.refresh(first.body.refresh_token as string, { form: { scope: 'mcp:tools mcp:admin' } }), 400, 'invalid_scope');
    expectError(await h.refresh(first.body.refresh_token as string, { form: { scope: '' } }), 400, 'invalid_scope');
    expect((await h.refresh(first.body.refresh_token as string)).status).toBe(200);
  });

  it('RFC 6749 §6: scope may narrow the access token; the successor keeps the original scope', async () => {
    const first = await login({ scopes: ['mcp:tools', 'mcp:admin'] });
    const narrowed = await h.refresh(first.body.refresh_token as string, { form: { scope: 'mcp:tools' } });
    expect(narrowed.status).toBe(200);
    expect(narrowed.body.scope).toBe('mcp:tools');
    const full = await h.refresh(narrowed.body.refresh_token as string, { form: { scope: 'mcp:admin mcp:tools' } });
    expect(full.status).toBe(200);
    expect(full.body.scope).toBe('mcp:admin mcp:tools');
  });

  it('RFC 9449 §5: a public client\'s DPoP-bound refresh token refuses another key and no proof (invalid_grant), without rotating', async () => {
    const key = await createDpopKey();
    const first = await login({ dpop: key });
    expectError(await h.refresh(first.body.refresh_token as string, { dpop: await createDpopKey() }), 400, 'invalid_grant');
    expectError(await h.refresh(first.body.refresh_token as string), 400, 'invalid_grant');
    const ok = await h.refresh(first.body.refresh_token as string, { dpop: key });
    expect(ok.status).toBe(200);
    expect(ok.body.token_type).toBe('DPoP');
    expect(decodeJwt(ok.body.access_token as string).cnf).toEqual({ jkt: key.jkt });
  });

  it('RFC 9449 §5: a confidential client may bind each refresh to a new key (its authentication binds the refresh token)', async () => {
    const first = await login({ clientId: 'conf-app', dpop: await createDpopKey() });
    const next = await createDpopKey();
    const r1 = await h.refresh(first.body.refresh_token as string, { auth: basic('conf-app', SECRETS.conf), dpop: next });
    expect(r1.status).toBe(200);
    expect(decodeJwt(r1.body.access_token as string).cnf).toEqual({ jkt: next.jkt });
  });

  it('RFC 6749 §5.2: a refresh token presented by another client is invalid_grant, and not rotated', async () => {
    const first = await login();
    expectError(await h.refresh(first.body.refresh_token as string, { auth: basic('conf-app', SECRETS.conf) }), 400, 'invalid_grant');
    expectError(await h.refresh(first.body.refresh_token as string, { clientId: 'public-norefresh' }), 400, 'unauthorized_client');
    expect((await h.refresh(first.body.refresh_token as string)).status).toBe(200);
  });

  it('RFC 8707 §2.2: resource only among the grant\'s resources (invalid_target)', async () => {
    await h.close();
    h = await start({
      resources: [
        { uri: RESOURCE, name: 'demo', scopes: ['mcp:tools', 'mcp:admin'] },
        { uri: 'https://other.example.com/mcp', name: 'other', scopes: ['mcp:tools'] },
      ],
    });
    const first = await login();
    expectError(await h.refresh(first.body.refresh_token as string, { form: { resource: 'https://other.example.com/mcp' } }), 400, 'invalid_target');
    expectError(await h.refresh(first.body.refresh_token as string, { form: { resource: 'https://unknown.example.com/mcp' } }), 400, 'invalid_target');
    const ok = await h.refresh(first.body.refresh_token as string, { form: { resource: RESOURCE } });
    expect(ok.status).toBe(200);
    expect(decodeJwt(ok.body.access_token as string).aud).toBe(RESOURCE);
  });

  it('OAuth 2.1 §4.3: sliding expiry — each rotation extends the family; an idle token expires (invalid_grant)', async () => {
    const first = await login();
    h.advance(6 * 86_400);
    const r1 = await h.refresh(first.body.refresh_token as string);
    expect(r1.status).toBe(200);
    h.advance(6 * 86_400);
    const r2 = await h.refresh(r1.body.refresh_token as string);
    expect(r2.status).toBe(200);
    h.advance(7 * 86_400 + 1);
    expectError(await h.refresh(r2.body.refresh_token as string), 400, 'invalid_grant');
  });

  it('RFC 6749 §5.2: an unknown or missing refresh token is refused', async () => {
    expectError(await h.refresh('x'.repeat(43)), 400, 'invalid_grant');
    expectError(await h.post(h.tokenUrl, { grant_type: 'refresh_token', client_id: 'public-app' }), 400, 'invalid_request');
  });

  it('audit events never contain a refresh or access token', async () => {
    const first = await login();
    const r1 = await h.refresh(first.body.refresh_token as string);
    await h.refresh(first.body.refresh_token as string, { form: { scope: 'mcp:tools' } });
    const logged = JSON.stringify(h.audit);
    for (const secret of [first.body.refresh_token, r1.body.refresh_token, r1.body.access_token] as string[]) expect(logged).not.toContain(secret);
  });
});

import { decodeJwt } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { expectError, basic, callResource, RESOURCE, SECRETS, startHarness, type Harness } from '../../../test/helpers/as-harness.js';
import { createDpopKey, createTestIssuer, type TestDpopKey } from '../../../test/helpers/test-issuer.js';
import { ACCESS_TOKEN_TYPE, MAX_EXCHANGE_DEPTH, TOKEN_EXCHANGE_GRANT_TYPE } from './token-exchange.js';


let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await h.close();
});

type Response = Awaited<ReturnType<Harness['post']>>;


/** A subject token: client_credentials for `machine` with both scopes (DPoP-bound with `key`). */
async function subjectToken(key?: TestDpopKey): Promise<string> {
  const headers: Record<string, string> = key === undefined ? {} : { DPoP: await h.proof(key) };
  const response = await h.post(h.tokenUrl, { grant_type: 'client_credentials', client_id: 'machine', client_secret: SECRETS.machine, resource: RESOURCE, scope: 'mcp:tools mcp:admin' }, headers);
  expect(response.status).toBe(200);
  return response.body.access_token as string;
}

async function exchange(form: Record<string, string>, options: { key?: TestDpopKey; clientId?: string; secret?: string } = {}): Promise<Response> {
  const headers: Record<string, string> = basic(options.clientId ?? 'exchanger', options.secret ?? SECRETS.exchanger);
  if (options.key !== undefined) headers.DPoP = await h.proof(options.key);
  return h.post(h.tokenUrl, { grant_type: TOKEN_EXCHANGE_GRANT_TYPE, subject_token_type: ACCESS_TOKEN_TYPE, resource: RESOURCE, ...form }, headers);
}

describe('token exchange (RFC 8693)', () => {
  it('RFC 8693 §2.2.1 / §4.1: a token is narrowed; sub preserved, client_id = requester, act names it, never outliving the subject', async () => {
    const subject = await subjectToken();
    h.advance(100);
    const response = await exchange({ subject_token: subject, scope: 'mcp:tools' });
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.body).toMatchObject({ issued_token_type: ACCESS_TOKEN_TYPE, token_type: 'Bearer', scope: 'mcp:tools' });
    expect(response.body.refresh_token).toBeUndefined();
    const claims = decodeJwt(response.body.access_token as string);
    expect(claims).toMatchObject({ sub: 'machine', client_id: 'exchanger', aud: RESOURCE, scope: 'mcp:tools', act: { sub: 'exchanger' } });
    expect(claims.exp).toBeLessThanOrEqual(decodeJwt(subject).exp as number);
    expect(response.body.expires_in).toBeLessThanOrEqual(500);
    expect((await callResource(await h.resourceServer(), response.body.access_token as string)).ok).toBe(true);
  });

  it('RFC 8693 §4.1: no act when the subject token\'s own client exchanges it', async () => {
    const own = await h.post(h.tokenUrl, { grant_type: 'client_credentials', resource: RESOURCE }, basic('exchanger', SECRETS.exchanger));
    const response = await exchange({ subject_token: own.body.access_token as string });
    expect(response.status).toBe(200);
    expect(decodeJwt(response.body.access_token as string).act).toBeUndefined();
  });

  it('RFC 8693 §2.2.2: scope beyond the subject token is invalid_scope', async () => {
    const own = await h.post(h.tokenUrl, { grant_type: 'client_credentials', resource: RESOURCE }, basic('exchanger', SECRETS.exchanger));
    expectError(await exchange({ subject_token: own.body.access_token as string, scope: 'mcp:tools mcp:admin' }), 400, 'invalid_scope');
  });

  it('RFC 8693 §2.2.2: a resource that is not an audience of the subject token is invalid_target', async () => {
    await h.close();
    h = await startHarness({
      resources: [
        { uri: RESOURCE, name: 'demo', scopes: ['mcp:tools', 'mcp:admin'] },
        { uri: 'https://other.example.com/mcp', name: 'other', scopes: ['mcp:tools'] },
      ],
    });
    const subject = await subjectToken();
    expectError(await exchange({ subject_token: subject, resource: 'https://other.example.com/mcp' }), 400, 'invalid_target');
    expectError(await exchange({ subject_token: subject, resource: 'https://unknown.example.com/mcp' }), 400, 'invalid_target');
    expectError(await exchange({ subject_token: subject, audience: 'other' }), 400, 'invalid_target');
  });

  it('RFC 8693 §2.2.2: an invalid, forged, expired or revoked subject token is invalid_request', async () => {
    expectError(await exchange({ subject_token: 'garbage' }), 400, 'invalid_request');
    const forger = await createTestIssuer({ issuer: h.issuer, audience: RESOURCE });
    expectError(await exchange({ subject_token: await forger.mint({ client_id: 'machine', sub: 'machine' }) }), 400, 'invalid_request');

    const subject = await subjectToken();
    const { jti, exp } = decodeJwt(subject) as { jti: string; exp: number };
    await h.as.context.stores.grants.denyAccessToken(jti, exp);
    expectError(await exchange({ subject_token: subject }), 400, 'invalid_request');

    const later = await subjectToken();
    h.advance(700);
    expectError(await exchange({ subject_token: later }), 400, 'invalid_request');
  });

  it('RFC 8693 §2.1: another subject_token_type, actor tokens or requested_token_type are invalid_request', async () => {
    const subject = await subjectToken();
    expectError(await exchange({ subject_token: subject, subject_token_type: 'urn:ietf:params:oauth:token-type:refresh_token' }), 400, 'invalid_request');
    expectError(await exchange({ subject_token: subject, actor_token: subject, actor_token_type: ACCESS_TOKEN_TYPE }), 400, 'invalid_request');
    expectError(await exchange({ subject_token: subject, requested_token_type: 'urn:ietf:params:oauth:token-type:id_token' }), 400, 'invalid_request');
    expectError(await exchange({ subject_token: '' }), 400, 'invalid_request');
  });

  it('RFC 9449 §6: a DPoP-bound subject token needs a proof by its key; the new token is bound to it', async () => {
    const key = await createDpopKey();
    const subject = await subjectToken(key);
    expectError(await exchange({ subject_token: subject }), 400, 'invalid_request');
    expectError(await exchange({ subject_token: subject }, { key: await createDpopKey() }), 400, 'invalid_request');
    const response = await exchange({ subject_token: subject, scope: 'mcp:tools' }, { key });
    expect(response.status).toBe(200);
    expect(response.body.token_type).toBe('DPoP');
    expect(decodeJwt(response.body.access_token as string).cnf).toEqual({ jkt: key.jkt });
  });

  it('RFC 6749 §5.2: a client without the token-exchange grant is unauthorized_client; a public client is invalid_client', async () => {
    const subject = await subjectToken();
    expectError(await exchange({ subject_token: subject }, { clientId: 'conf-app', secret: SECRETS.conf }), 400, 'unauthorized_client');
    const response = await h.post(h.tokenUrl, { grant_type: TOKEN_EXCHANGE_GRANT_TYPE, client_id: 'public-app', subject_token: subject, subject_token_type: ACCESS_TOKEN_TYPE, resource: RESOURCE });
    expectError(response, 401, 'invalid_client');
  });

  it.each(['registered', 'metadata-document'] as const)(
    'C1 / RFC 8693 §2.1 + RFC 6749 §5.2: a %s (self-declared) client whose stored record claims token exchange is unauthorized_client',
    async (source) => {
      const subject = await subjectToken();
      const stored = await h.as.context.stores.clients.get('exchanger');
      await h.as.context.stores.clients.put({ ...stored!, source });
      const response = await exchange({ subject_token: subject });
      expectError(response, 400, 'unauthorized_client');
      expect(response.body.error_description).toContain('configured by the operator');
      expect(response.body.access_token).toBeUndefined();
    },
  );
});

describe('token exchange: revoking what a token was exchanged from revokes it (RFC 8693 + RFC 7009)', () => {
  /** Asserts a resource server built on the AS's revocation list refuses `token` as revoked (RFC 6750 §3.1). */
  async function expectDenied(token: string): Promise<void> {
    const result = await callResource(await h.resourceServer(), token);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.status).toBe(401);
    expect(result.headers['WWW-Authenticate'] ?? result.headers['www-authenticate']).toMatch(/error="invalid_token"/);
    expect((await h.post(h.introspectUrl, { token }, basic('other-app', SECRETS.other))).body).toEqual({ active: false });
  }
  async function expectAccepted(token: string): Promise<void> {
    expect((await callResource(await h.resourceServer(), token)).ok).toBe(true);
  }
  /** A user's token (public-app, authorization code) and its refresh token and grant. */
  async function userToken(): Promise<{ access: string; refresh: string; grantId: string; seeded: Awaited<ReturnType<Harness['seedCode']>> }> {
    const seeded = await h.seedCode();
    const issued = await h.redeem(seeded);
    expect(issued.status).toBe(200);
    return { access: issued.body.access_token as string, refresh: issued.body.refresh_token as string, grantId: seeded.grantId, seeded };
  }
  async function exchanged(subject: string): Promise<string> {
    const response = await exchange({ subject_token: subject });
    expect(response.status).toBe(200);
    return response.body.access_token as string;
  }

  it('RFC 7009 §2.1: revoking the grant (the user\'s refresh token) denies the tokens exchanged from its access token', async () => {
    const user = await userToken();
    const derived = await exchanged(user.access);
    await expectAccepted(derived);
    expect(h.audit.find((e) => e.grantType === TOKEN_EXCHANGE_GRANT_TYPE)?.grantId).toBe(user.grantId);
    expect((await h.post(h.revokeUrl, { token: user.refresh, client_id: 'public-app' })).status).toBe(200);
    await expectDenied(derived);
    expectError(await exchange({ subject_token: user.access }), 400, 'invalid_request');
  });

  it('RFC 7009 §2.1: revoking the subject access token denies what was exchanged from it, down the chain', async () => {
    const subject = await subjectToken();
    const first = await exchanged(subject);
    const second = await exchanged(first);
    await expectAccepted(second);
    const revoked = await h.post(h.revokeUrl, { token: subject, client_id: 'machine', client_secret: SECRETS.machine });
    expect(revoked.status).toBe(200);
    await expectDenied(subject);
    await expectDenied(first);
    await expectDenied(second);
  });

  it('RFC 7009 §2.1: revoking a token in the middle of a chain denies what came after it, not what came before', async () => {
    const subject = await subjectToken();
    const first = await exchanged(subject);
    const second = await exchanged(first);
    expect((await h.post(h.revokeUrl, { token: first }, basic('exchanger', SECRETS.exchanger))).status).toBe(200);
    await expectAccepted(subject);
    await expectDenied(first);
    await expectDenied(second);
  });

  it('RFC 9700 §4.14.2: refresh-token reuse revokes the family, and with it the tokens exchanged from its access tokens', async () => {
    const user = await userToken();
    const rotated = await h.refresh(user.refresh);
    expect(rotated.status).toBe(200);
    const fromFirst = await exchanged(user.access);
    const fromSecond = await exchanged(rotated.body.access_token as string);
    await expectAccepted(fromSecond);
    h.advance(20);
    expectError(await h.refresh(user.refresh), 400, 'invalid_grant');
    await expectDenied(fromFirst);
    await expectDenied(fromSecond);
  });

  it('OAuth 2.1 §4.1.3 / RFC 9700 §4.5.3: authorization-code reuse revokes the tokens exchanged from what the code issued', async () => {
    const user = await userToken();
    const derived = await exchanged(user.access);
    await expectAccepted(derived);
    expectError(await h.redeem(user.seeded), 400, 'invalid_grant');
    await expectDenied(derived);
  });

  it(`RFC 8693 §2.2.2: a chain of more than ${MAX_EXCHANGE_DEPTH} exchanges is invalid_request`, async () => {
    let token = await subjectToken();
    for (let i = 0; i < MAX_EXCHANGE_DEPTH; i += 1) token = await exchanged(token);
    const refused = await exchange({ subject_token: token });
    expectError(refused, 400, 'invalid_request');
    expect(refused.body.error_description).toContain(`at most ${MAX_EXCHANGE_DEPTH}`);
  });

  it('RFC 8693: a client_credentials subject token has no grant; its exchanged token still follows its revocation', async () => {
    const subject = await subjectToken();
    const derived = await exchanged(subject);
    const { jti } = decodeJwt(derived) as { jti: string };
    expect(await h.as.context.stores.grants.getAccessTokenLineage(jti)).toEqual({ exchangedFrom: [decodeJwt(subject).jti] });
    await h.as.context.stores.grants.denyAccessToken(decodeJwt(subject).jti as string, decodeJwt(subject).exp as number);
    await expectDenied(derived);
  });
});

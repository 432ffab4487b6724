import { randomUUID } from 'node:crypto';
import { decodeJwt, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { basic, callResource, expectError, RESOURCE, SECRETS, startHarness, type Harness } from '../../../test/helpers/as-harness.js';
import { createDpopKey } from '../../../test/helpers/test-issuer.js';
import { hashSecret } from '../password.js';
import { JWT_BEARER_GRANT_TYPE } from './jwt-bearer.js';

const IDP = 'https://idp.acme.example';
const K8S = 'https://kubernetes.default.svc';
const ENTERPRISE_SECRET = 'enterprise-secret-0123456789';

interface Signer {
  privateKey: CryptoKey;
  publicJwk: JWK;
}
async function signer(kid: string): Promise<Signer> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  return { privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' } };
}

let h: Harness;
let idp: Signer;
let k8s: Signer;

beforeEach(async () => {
  idp = await signer('idp-1');
  k8s = await signer('k8s-1');
  h = await startHarness({
    jwtBearer: {
      enterpriseIdps: [{ id: 'acme', issuer: IDP, jwks: { keys: [idp.publicJwk] } }],
      workloads: [{ id: 'k8s', issuer: K8S, jwks: { keys: [k8s.publicJwk] }, rules: [{ subject: 'system:serviceaccount:ci:*', clientId: 'ci-runner' }] }],
    },
  });
  const base = { redirectUris: [], responseTypes: [], source: 'configured' as const, createdAt: h.now() };
  await h.as.context.stores.clients.put({ ...base, clientId: 'enterprise-app', tokenEndpointAuthMethod: 'client_secret_basic', secretHash: await hashSecret(ENTERPRISE_SECRET), grantTypes: [JWT_BEARER_GRANT_TYPE] });
  await h.as.context.stores.clients.put({ ...base, clientId: 'ci-runner', tokenEndpointAuthMethod: 'none', grantTypes: [JWT_BEARER_GRANT_TYPE], scope: 'mcp:tools' });
});
afterEach(async () => {
  await h.close();
});

/** An ID-JAG as the IdP's token exchange issues it (draft-ietf-oauth-identity-assertion-authz-grant §3). */
async function idJag(claims: JWTPayload = {}, header: Record<string, unknown> = {}, key: Signer = idp): Promise<string> {
  const now = h.now();
  const payload: JWTPayload = { iss: IDP, sub: 'alice', aud: h.issuer, client_id: 'enterprise-app', resource: RESOURCE, scope: 'mcp:tools', jti: randomUUID(), iat: now, exp: now + 300, ...claims };
  for (const [name, value] of Object.entries(payload)) if (value === undefined) delete payload[name];
  return new SignJWT(payload).setProtectedHeader({ alg: 'ES256', kid: key.publicJwk.kid as string, typ: 'oauth-id-jag+jwt', ...header }).sign(key.privateKey);
}

/** A Kubernetes projected service-account token (no typ, no jti needed). */
async function workloadToken(claims: JWTPayload = {}, key: Signer = k8s): Promise<string> {
  const now = h.now();
  const payload: JWTPayload = { iss: K8S, sub: 'system:serviceaccount:ci:builder', aud: h.issuer, iat: now, nbf: now, exp: now + 3600, ...claims };
  for (const [name, value] of Object.entries(payload)) if (value === undefined) delete payload[name];
  return new SignJWT(payload).setProtectedHeader({ alg: 'ES256', kid: key.publicJwk.kid as string }).sign(key.privateKey);
}

const enterprise = basic('enterprise-app', ENTERPRISE_SECRET);
const redeem = (assertion: string, form: Record<string, string> = {}, headers: Record<string, string> = enterprise) =>
  h.post(h.tokenUrl, { grant_type: JWT_BEARER_GRANT_TYPE, assertion, ...form }, headers);

describe('jwt-bearer grant with an ID-JAG (RFC 7523 §2.1, SEP-990 enterprise-managed authorization)', () => {
  it('SEP-990: an authenticated client redeems its ID-JAG for an access token for the user, without a refresh token', async () => {
    const response = await redeem(await idJag());
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ token_type: 'Bearer', scope: 'mcp:tools' });
    expect(response.body.refresh_token).toBeUndefined();
    const token = response.body.access_token as string;
    expect(decodeJwt(token)).toMatchObject({ iss: h.issuer, sub: 'acme:alice', client_id: 'enterprise-app', aud: RESOURCE, scope: 'mcp:tools' });
    const verified = await callResource(await h.resourceServer(), token);
    expect(verified.ok && verified.auth.extra.subject).toBe('acme:alice');
    expect(h.audit.at(-1)).toMatchObject({ type: 'token.issued', grantType: JWT_BEARER_GRANT_TYPE, subject: 'acme:alice' });
  });

  it('RFC 9449 §5: with a DPoP proof the token is bound to the proof key', async () => {
    const key = await createDpopKey();
    const response = await redeem(await idJag(), {}, { ...enterprise, DPoP: await h.proof(key) });
    expect(response.status).toBe(200);
    expect(response.body.token_type).toBe('DPoP');
    expect(decodeJwt(response.body.access_token as string).cnf).toEqual({ jkt: key.jkt });
  });

  it('RFC 7523 §3 item 7: an ID-JAG is redeemed once — the replay is invalid_grant', async () => {
    const once = await idJag();
    expect((await redeem(once)).status).toBe(200);
    expectError(await redeem(once), 400, 'invalid_grant');
  });

  it('draft-ietf-oauth-identity-assertion-authz-grant §4: an ID-JAG issued to another client is invalid_grant, and is not consumed', async () => {
    const jti = randomUUID();
    expectError(await redeem(await idJag({ client_id: 'someone-else', jti })), 400, 'invalid_grant');
    expect((await redeem(await idJag({ jti }))).status).toBe(200);
  });

  it.each([
    ['aud = the token endpoint URL', (): JWTPayload => ({ aud: `${h.issuer}/token` })],
    ['aud of another authorization server', (): JWTPayload => ({ aud: 'https://as.other.example' })],
    ['expired', (): JWTPayload => ({ exp: h.now() - 60 })],
    ['exp an hour ahead', (): JWTPayload => ({ exp: h.now() + 3600 })],
    ['no jti', (): JWTPayload => ({ jti: undefined })],
    ['no client_id claim', (): JWTPayload => ({ client_id: undefined })],
    ['no sub', (): JWTPayload => ({ sub: undefined })],
    ['an issuer that is not a trusted IdP', (): JWTPayload => ({ iss: 'https://idp.evil.example' })],
  ])('RFC 7523 §3.1: an ID-JAG with %s → 400 invalid_grant', async (_name, claims) => {
    expectError(await redeem(await idJag(claims())), 400, 'invalid_grant');
  });

  it('RFC 7523 §3.1: an ID-JAG signed by another key, or by the workload platform, → 400 invalid_grant', async () => {
    expectError(await redeem(await idJag({}, {}, await signer('idp-1'))), 400, 'invalid_grant');
    expectError(await redeem(await idJag({}, {}, k8s)), 400, 'invalid_grant');
  });

  it('RFC 8725 §3.11: a token of the IdP without the ID-JAG typ (an ID token) is not an ID-JAG → 400 invalid_grant', async () => {
    expectError(await redeem(await idJag({}, { typ: 'JWT' })), 400, 'invalid_grant');
  });

  it('RFC 8707: the resource must be registered and one the ID-JAG names → 400 invalid_target', async () => {
    expectError(await redeem(await idJag({ resource: 'https://unregistered.example/mcp' })), 400, 'invalid_target');
    expectError(await redeem(await idJag({ resource: undefined })), 400, 'invalid_target');
    expect((await redeem(await idJag({ resource: undefined }), { resource: RESOURCE })).status).toBe(200);
    expectError(await redeem(await idJag({ resource: 'https://other.example/mcp' }), { resource: RESOURCE }), 400, 'invalid_target');
  });

  it('RFC 6749 §3.3: scopes stay within the ID-JAG and what the resource accepts → 400 invalid_scope', async () => {
    expectError(await redeem(await idJag(), { scope: 'mcp:admin' }), 400, 'invalid_scope');
    expectError(await redeem(await idJag({ scope: 'mcp:tools files:delete' })), 400, 'invalid_scope');
    const narrowed = await redeem(await idJag({ scope: 'mcp:tools mcp:admin' }), { scope: 'mcp:admin' });
    expect(narrowed.status).toBe(200);
    expect(narrowed.body.scope).toBe('mcp:admin');
  });

  it('SEP-990: an ID-JAG needs client authentication (401 invalid_client), and a client registered for the grant (400 unauthorized_client)', async () => {
    expectError(await redeem(await idJag(), { client_id: 'enterprise-app' }, {}), 401, 'invalid_client');
    expectError(await redeem(await idJag(), {}, basic('enterprise-app', 'wrong-secret-0123456789')), 401, 'invalid_client');
    expectError(await redeem(await idJag({ client_id: 'machine' }), { client_id: 'machine', client_secret: SECRETS.machine }, {}), 400, 'unauthorized_client');
  });

  it('RFC 7523 §2.1: the assertion parameter is required → 400 invalid_request; garbage is invalid_grant', async () => {
    expectError(await h.post(h.tokenUrl, { grant_type: JWT_BEARER_GRANT_TYPE }, enterprise), 400, 'invalid_request');
    expectError(await redeem('not-a-jwt'), 400, 'invalid_grant');
  });
});

describe('jwt-bearer grant with a workload token (RFC 7523 §2.1, SEP-1933 workload identity)', () => {
  it('SEP-1933: a platform token, no client secret anywhere, gets a token for the client its subject maps to; the token is reusable until it expires', async () => {
    const token = await workloadToken();
    for (let i = 0; i < 2; i += 1) {
      const response = await h.post(h.tokenUrl, { grant_type: JWT_BEARER_GRANT_TYPE, assertion: token, resource: RESOURCE });
      expect(response.status).toBe(200);
      expect(response.body.refresh_token).toBeUndefined();
      expect(decodeJwt(response.body.access_token as string)).toMatchObject({ sub: 'ci-runner', client_id: 'ci-runner', aud: RESOURCE, scope: 'mcp:tools' });
    }
    expect(h.audit.at(-1)?.detail).toBe('workload system:serviceaccount:ci:builder of k8s');
  });

  it('SEP-1933: a client_id sent along must be the mapped client → 400 invalid_grant', async () => {
    expect((await h.post(h.tokenUrl, { grant_type: JWT_BEARER_GRANT_TYPE, assertion: await workloadToken(), resource: RESOURCE, client_id: 'ci-runner' })).status).toBe(200);
    expectError(await h.post(h.tokenUrl, { grant_type: JWT_BEARER_GRANT_TYPE, assertion: await workloadToken(), resource: RESOURCE, client_id: 'public-app' }), 400, 'invalid_grant');
  });

  it.each([
    ['a subject no rule maps', (): JWTPayload => ({ sub: 'system:serviceaccount:prod:api' })],
    ['a subject that only starts like a rule', (): JWTPayload => ({ sub: 'xsystem:serviceaccount:ci:builder' })],
    ['aud of another service', (): JWTPayload => ({ aud: 'https://vault.example' })],
    ['expired', (): JWTPayload => ({ exp: h.now() - 60 })],
    ['exp beyond the domain cap (24 h)', (): JWTPayload => ({ exp: h.now() + 2 * 86_400 })],
    ['an untrusted issuer', (): JWTPayload => ({ iss: 'https://kubernetes.evil.example' })],
  ])('RFC 7523 §3.1: a workload token with %s → 400 invalid_grant', async (_name, claims) => {
    expectError(await h.post(h.tokenUrl, { grant_type: JWT_BEARER_GRANT_TYPE, assertion: await workloadToken(claims()), resource: RESOURCE }), 400, 'invalid_grant');
  });

  it('RFC 7523 §3.1: a workload token signed by the enterprise IdP key → 400 invalid_grant', async () => {
    expectError(await h.post(h.tokenUrl, { grant_type: JWT_BEARER_GRANT_TYPE, assertion: await workloadToken({}, idp), resource: RESOURCE }), 400, 'invalid_grant');
  });

  it('RFC 6749 §3.3: the mapped client gets only its registered scopes → 400 invalid_scope', async () => {
    expectError(await h.post(h.tokenUrl, { grant_type: JWT_BEARER_GRANT_TYPE, assertion: await workloadToken(), resource: RESOURCE, scope: 'mcp:admin' }), 400, 'invalid_scope');
  });

  it('RFC 8414 §2: metadata lists the jwt-bearer grant only when someone is trusted; otherwise it is unsupported_grant_type', async () => {
    expect(h.as.metadata().grant_types_supported).toContain(JWT_BEARER_GRANT_TYPE);
    const plain = await startHarness();
    try {
      expect(plain.as.metadata().grant_types_supported).not.toContain(JWT_BEARER_GRANT_TYPE);
      expectError(await plain.post(plain.tokenUrl, { grant_type: JWT_BEARER_GRANT_TYPE, assertion: await workloadToken(), resource: RESOURCE }), 400, 'unsupported_grant_type');
    } finally {
      await plain.close();
    }
  });

  it('fails at start when a trust entry is wrong', async () => {
    const start = (jwtBearer: object) => startHarness({ jwtBearer } as never);
    await expect(start({ workloads: [{ id: 'k8s', issuer: K8S, jwks: { keys: [k8s.publicJwk] }, rules: [{ subject: '*', clientId: 'ci-runner' }] }] })).rejects.toThrow(/narrower than "\*"/);
    await expect(start({ enterpriseIdps: [{ id: 'a', issuer: IDP }] })).rejects.toThrow(/exactly one of jwks and jwksUri/);
    await expect(start({ enterpriseIdps: [{ id: 'a', issuer: IDP, jwks: { keys: [idp.publicJwk] } }], workloads: [{ id: 'b', issuer: IDP, jwks: { keys: [idp.publicJwk] }, rules: [{ subject: 'x', clientId: 'y' }] }] })).rejects.toThrow(/listed twice/);
  });
});

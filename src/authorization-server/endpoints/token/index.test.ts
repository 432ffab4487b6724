import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { expectError, basic, REDIRECT_URI, RESOURCE, SECRETS, startHarness, type Harness } from '../../../../test/helpers/as-harness.js';
import { createDpopKey, type TestDpopKey } from '../../../../test/helpers/test-issuer.js';
import { decodeJwt } from 'jose';
import { replayKey } from '../../../dpop/replay-key.js';
import { MemoryReplayStore } from '../../../stores/memory/replay-store.js';
import { ACCESS_TOKEN_TYPE, TOKEN_EXCHANGE_GRANT_TYPE } from '../../grants/token-exchange.js';


let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await h.close();
});



const machine = { grant_type: 'client_credentials', client_id: 'machine', client_secret: SECRETS.machine, resource: RESOURCE };

describe('token endpoint (OAuth 2.1 §3.2)', () => {
  it('RFC 6749 §5.2: a missing grant_type is invalid_request', async () => {
    expectError(await h.post(h.tokenUrl, { client_id: 'public-app' }), 400, 'invalid_request');
  });

  for (const grantType of ['password', 'implicit', 'urn:ietf:params:oauth:grant-type:saml2-bearer', 'urn:ietf:params:oauth:grant-type:jwt-bearer', '__proto__', 'constructor']) {
    it(`RFC 6749 §5.2: grant_type "${grantType}" is unsupported_grant_type`, async () => {
      expectError(await h.post(h.tokenUrl, { grant_type: grantType, client_id: 'public-app' }), 400, 'unsupported_grant_type');
    });
  }

  it('RFC 6749 §3.1: a duplicated parameter is invalid_request', async () => {
    const seeded = await h.seedCode();
    const body = new URLSearchParams({ grant_type: 'authorization_code', code: seeded.code, redirect_uri: REDIRECT_URI, code_verifier: seeded.verifier, client_id: 'public-app' });
    body.append('code', seeded.code);
    expectError(await h.post(h.tokenUrl, body.toString()), 400, 'invalid_request');
    expectError(await h.post(h.tokenUrl, 'grant_type=client_credentials&grant_type=authorization_code&client_id=machine'), 400, 'invalid_request');
    // The code was not touched by the refused requests.
    expect((await h.redeem(seeded)).status).toBe(200);
  });

  it('RFC 6749 §3.2: a body that is not form-urlencoded is invalid_request', async () => {
    const response = await fetch(h.tokenUrl, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(machine) });
    expect(response.status).toBe(400);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(((await response.json()) as { error: string }).error).toBe('invalid_request');
  });

  it('RFC 6749 §2.3: no client authentication at all is invalid_client (401)', async () => {
    expectError(await h.post(h.tokenUrl, { grant_type: 'client_credentials', resource: RESOURCE }), 401, 'invalid_client');
  });

  it('RFC 6749 §5.2: an unknown client is invalid_client', async () => {
    expectError(await h.post(h.tokenUrl, { grant_type: 'authorization_code', client_id: 'nobody', code: 'x', redirect_uri: REDIRECT_URI, code_verifier: 'a'.repeat(43) }), 401, 'invalid_client');
  });

  it('RFC 6749 §2.3.1: a wrong Basic secret is 401 invalid_client with a Basic challenge', async () => {
    const response = await h.post(h.tokenUrl, { grant_type: 'client_credentials', resource: RESOURCE }, basic('other-app', 'wrong'));
    expectError(response, 401, 'invalid_client');
    expect(response.headers.get('www-authenticate')).toMatch(/^Basic /);
  });

  it('RFC 6749 §2.3: two authentication methods at once is invalid_request', async () => {
    expectError(await h.post(h.tokenUrl, { grant_type: 'client_credentials', resource: RESOURCE, client_secret: SECRETS.other }, basic('other-app', SECRETS.other)), 400, 'invalid_request');
  });

  it('RFC 6749 §2.3: a confidential client may not drop to "none"', async () => {
    expectError(await h.post(h.tokenUrl, { grant_type: 'refresh_token', refresh_token: 'x', client_id: 'conf-app' }), 401, 'invalid_client');
  });

  it('RFC 6749 §5.2: a grant type the client is not registered for is unauthorized_client', async () => {
    expectError(await h.post(h.tokenUrl, { grant_type: 'refresh_token', refresh_token: 'x', client_id: 'public-norefresh' }), 400, 'unauthorized_client');
  });

  it('RFC 9449 §5: an invalid DPoP proof is 400 invalid_dpop_proof with a DPoP challenge', async () => {
    const key = await createDpopKey();
    const wrongHtu = await key.proof({ htm: 'POST', htu: `${h.issuer}/other` });
    const response = await h.post(h.tokenUrl, machine, { DPoP: wrongHtu });
    expectError(response, 400, 'invalid_dpop_proof');
    expect(response.headers.get('www-authenticate')).toMatch(/^DPoP error="invalid_dpop_proof"/);
    expectError(await h.post(h.tokenUrl, machine, { DPoP: 'not.a.proof' }), 400, 'invalid_dpop_proof');
  });

  it('RFC 9449 §11.1: a replayed proof is invalid_dpop_proof', async () => {
    const proof = await h.proof(await createDpopKey());
    expect((await h.post(h.tokenUrl, machine, { DPoP: proof })).status).toBe(200);
    expectError(await h.post(h.tokenUrl, machine, { DPoP: proof }), 400, 'invalid_dpop_proof');
  });

  it('RFC 9449 §8: with nonces required, a proof without one gets use_dpop_nonce and DPoP-Nonce; success carries a fresh nonce', async () => {
    await h.close();
    h = await startHarness({ dpop: { requireNonce: true } });
    const key = await createDpopKey();
    const first = await h.post(h.tokenUrl, machine, { DPoP: await h.proof(key) });
    expectError(first, 400, 'use_dpop_nonce');
    const nonce = first.headers.get('dpop-nonce');
    expect(nonce).toBeTruthy();
    const second = await h.post(h.tokenUrl, machine, { DPoP: await h.proof(key, nonce as string) });
    expect(second.status).toBe(200);
    expect(second.body.token_type).toBe('DPoP');
    expect(second.headers.get('dpop-nonce')).toBeTruthy();
  });

  it('RFC 6749 §3.2: only POST (405 otherwise)', async () => {
    const response = await fetch(h.tokenUrl);
    expect(response.status).toBe(405);
  });

  it('RFC 6749 §5.1: a successful response is JSON with no-store and no-cache', async () => {
    const response = await h.post(h.tokenUrl, machine);
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('pragma')).toBe('no-cache');
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  });

  it('an unreachable store answers 503 temporarily_unavailable with Retry-After, never 500', async () => {
    const { StoreUnavailableError } = await import('../../../stores/contracts.js');
    const codes = h.as.context.stores.codes;
    const original = codes.consume.bind(codes);
    codes.consume = () => Promise.reject(new StoreUnavailableError('down'));
    try {
      const response = await h.redeem(await h.seedCode());
      expectError(response, 503, 'temporarily_unavailable');
      expect(response.headers.get('retry-after')).toBe('1');
    } finally {
      codes.consume = original;
    }
  });
});

const decodeProtectedJwt = (jwt: string): { jti: string } => decodeJwt(jwt) as { jti: string };

describe('token endpoint: when the DPoP proof jti is claimed (RFC 9449 §11.1)', () => {
  /** A replay store that records every claim. */
  const spyStore = (): MemoryReplayStore & { claims: string[] } => {
    const store = new MemoryReplayStore() as MemoryReplayStore & { claims: string[] };
    store.claims = [];
    const claim = store.claim.bind(store);
    store.claim = (key, ttl) => {
      store.claims.push(key);
      return claim(key, ttl);
    };
    return store;
  };
  let spy: ReturnType<typeof spyStore>;
  let key: TestDpopKey;
  beforeEach(async () => {
    await h.close();
    spy = spyStore();
    h = await startHarness({ replayStore: spy });
    key = await createDpopKey();
  });

  it('RFC 9449 §11.1: a request failing client authentication claims nothing; the same proof then works once', async () => {
    const proof = await h.proof(key);
    const refused = await h.post(h.tokenUrl, { grant_type: 'client_credentials', resource: RESOURCE }, { ...basic('other-app', 'wrong-secret-0123456789'), DPoP: proof });
    expectError(refused, 401, 'invalid_client');
    expectError(await h.post(h.tokenUrl, { ...machine, client_secret: 'wrong' }, { DPoP: proof }), 401, 'invalid_client');
    expectError(await h.post(h.tokenUrl, { grant_type: 'refresh_token', refresh_token: 'x', client_id: 'public-norefresh' }, { DPoP: proof }), 400, 'unauthorized_client');
    expectError(await h.post(h.tokenUrl, { grant_type: 'password', client_id: 'public-app' }, { DPoP: proof }), 400, 'unsupported_grant_type');
    expect(spy.claims).toEqual([]);
    const ok = await h.post(h.tokenUrl, machine, { DPoP: proof });
    expect(ok.status).toBe(200);
    expect(spy.claims).toHaveLength(1);
    const { jti } = decodeProtectedJwt(proof);
    expect(spy.claims[0]).toBe(replayKey(key.jkt, jti));
    expectError(await h.post(h.tokenUrl, machine, { DPoP: proof }), 400, 'invalid_dpop_proof');
  });

  it('RFC 9449 §11.1 / RFC 6749 §5.2: a request failing the authorization_code grant claims nothing; the owner\'s request with that proof succeeds', async () => {
    const seeded = await h.seedCode();
    const proof = await h.proof(key);
    const post = (form: Record<string, string>) => h.post(h.tokenUrl, { grant_type: 'authorization_code', client_id: 'public-app', code: seeded.code, redirect_uri: REDIRECT_URI, code_verifier: seeded.verifier, ...form }, { DPoP: proof });
    expectError(await post({ code: 'not-a-code' }), 400, 'invalid_grant');
    expectError(await post({ code_verifier: 'short' }), 400, 'invalid_request');
    expectError(await post({ code: '' }), 400, 'invalid_request');
    expect(spy.claims).toEqual([]);
    const ok = await post({});
    expect(ok.status).toBe(200);
    expect(ok.body.token_type).toBe('DPoP');
    expect(spy.claims).toHaveLength(1);
  });

  it('RFC 9449 §11.1 / RFC 6749 §5.2: a code redemption failing after consumption (wrong redirect_uri) claims nothing', async () => {
    const seeded = await h.seedCode();
    const proof = await h.proof(key);
    const form = { grant_type: 'authorization_code', client_id: 'public-app', code: seeded.code, code_verifier: seeded.verifier };
    expectError(await h.post(h.tokenUrl, { ...form, redirect_uri: 'https://app.example.com/other' }, { DPoP: proof }), 400, 'invalid_grant');
    const wrongVerifier = await h.seedCode();
    expectError(await h.post(h.tokenUrl, { ...form, code: wrongVerifier.code, redirect_uri: REDIRECT_URI }, { DPoP: proof }), 400, 'invalid_grant');
    expect(spy.claims).toEqual([]);
    expect((await h.post(h.tokenUrl, machine, { DPoP: proof })).status).toBe(200);
    expect(spy.claims).toHaveLength(1);
  });

  it('RFC 9449 §11.1 / OAuth 2.1 §4.3: a refresh failing its checks claims nothing; a successful one claims exactly once', async () => {
    const issued = await h.redeem(await h.seedCode(), { dpop: key });
    expect(spy.claims).toHaveLength(1);
    const refresh = issued.body.refresh_token as string;
    const proof = await h.proof(key);
    const post = (form: Record<string, string>) => h.post(h.tokenUrl, { grant_type: 'refresh_token', client_id: 'public-app', refresh_token: refresh, ...form }, { DPoP: proof });
    expectError(await post({ refresh_token: 'unknown' }), 400, 'invalid_grant');
    expectError(await post({ scope: 'mcp:admin' }), 400, 'invalid_scope');
    expectError(await post({ resource: 'https://other.example.com/mcp' }), 400, 'invalid_target');
    expectError(await h.post(h.tokenUrl, { grant_type: 'refresh_token', client_id: 'public-app', refresh_token: refresh }, { DPoP: await h.proof(await createDpopKey()) }), 400, 'invalid_grant');
    expect(spy.claims).toHaveLength(1);
    const ok = await post({});
    expect(ok.status).toBe(200);
    expect(spy.claims).toHaveLength(2);
  });

  it('RFC 9449 §11.1 / RFC 8693 §2.2.2: client_credentials and token exchange failing their checks claim nothing', async () => {
    const proof = await h.proof(key);
    expectError(await h.post(h.tokenUrl, { ...machine, scope: 'mcp:unknown' }, { DPoP: proof }), 400, 'invalid_scope');
    expectError(await h.post(h.tokenUrl, { ...machine, resource: 'https://unknown.example.com/mcp' }, { DPoP: proof }), 400, 'invalid_target');
    const exchange = { grant_type: TOKEN_EXCHANGE_GRANT_TYPE, subject_token_type: ACCESS_TOKEN_TYPE, resource: RESOURCE };
    expectError(await h.post(h.tokenUrl, { ...exchange, subject_token: 'garbage' }, { ...basic('exchanger', SECRETS.exchanger), DPoP: proof }), 400, 'invalid_request');
    expect(spy.claims).toEqual([]);
    const subject = await h.post(h.tokenUrl, machine, { DPoP: proof });
    expect(subject.status).toBe(200);
    const exchanged = await h.post(h.tokenUrl, { ...exchange, subject_token: subject.body.access_token as string }, { ...basic('exchanger', SECRETS.exchanger), DPoP: await h.proof(key) });
    expect(exchanged.status).toBe(200);
    expect(spy.claims).toHaveLength(2);
  });
});

describe('token endpoint: password checks in flight are capped', () => {
  it('RFC 6749 §5.2: a client secret stored as a scrypt hash beyond the cap → 503 temporarily_unavailable with Retry-After, never queued', async () => {
    // The harness stores conf-app's secret as a scrypt hash (older stores did).
    const held: Array<() => void> = [];
    for (let release = h.as.context.login.passwordChecks.tryAcquire(); release !== undefined; release = h.as.context.login.passwordChecks.tryAcquire()) held.push(release);
    const seeded = await h.seedCode({ clientId: 'conf-app' });
    const busy = await h.redeem(seeded, { auth: basic('conf-app', SECRETS.conf) });
    expectError(busy, 503, 'temporarily_unavailable');
    expect(busy.headers.get('retry-after')).toBe('1');
    for (const release of held) release();
    // Refused before the code was looked at: it still redeems.
    expect((await h.redeem(seeded, { auth: basic('conf-app', SECRETS.conf) })).status).toBe(200);
  });
});

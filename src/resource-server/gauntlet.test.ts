import { createHash, createHmac, createPublicKey, KeyObject, randomBytes, randomUUID, sign } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { SignJWT, generateKeyPair, exportJWK } from 'jose';
import { createResourceServer, type ResourceServer, type ResourceServerOptions } from './index.js';
import { StoreUnavailableError, type ReplayStore } from '../stores/contracts.js';
import { replayKey } from '../dpop/replay-key.js';
import { createDpopKey, createTestIssuer, parseChallenges, type TestDpopKey, type TestIssuer } from '../../test/helpers/test-issuer.js';

const RESOURCE = 'https://mcp.example.com/mcp';
const HTU = RESOURCE;
const servers: ResourceServer[] = [];

async function setup(overrides: Partial<ResourceServerOptions> = {}) {
  const issuer = await createTestIssuer({ audience: RESOURCE });
  const key = await createDpopKey();
  const rs = createResourceServer({
    resource: RESOURCE,
    trust: { issuer: issuer.issuer, jwks: issuer.jwks },
    scopes: { default: ['mcp:tools'], tools: { admin_reset: ['mcp:admin'] } },
    ...overrides,
  });
  servers.push(rs);
  return { issuer, key, rs };
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** Signs a JWS by hand, for headers `jose` refuses to produce. */
function signRaw(k: TestDpopKey, header: Record<string, unknown>, payload: Record<string, unknown>): string {
  const b = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const input = `${b(header)}.${b(payload)}`;
  const sig = sign('sha256', Buffer.from(input), { key: KeyObject.from(k.privateKey as never), dsaEncoding: 'ieee-p1363' });
  return `${input}.${sig.toString('base64url')}`;
}

const call = (name: string, id: number | string = 1) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: {} } });

async function dpopRequest(issuer: TestIssuer, key: TestDpopKey, opts: { claims?: Record<string, unknown>; body?: unknown; proof?: Parameters<TestDpopKey['proof']>[0]; url?: string; method?: string } = {}) {
  const token = await issuer.mint({ cnf: { jkt: key.jkt }, ...opts.claims });
  const proof = await key.proof(opts.proof ?? { htm: opts.method ?? 'POST', htu: HTU, accessToken: token });
  return {
    token,
    proof,
    request: {
      method: opts.method ?? 'POST',
      url: opts.url ?? '/mcp',
      headers: { authorization: `DPoP ${token}`, dpop: proof, 'content-type': 'application/json' },
      body: opts.body ?? call('echo'),
    },
  };
}

function expectFailure(result: Awaited<ReturnType<ResourceServer['verify']>>, status: number, error?: string) {
  expect(result.ok).toBe(false);
  if (result.ok) throw new Error('unreachable');
  expect(result.status).toBe(status);
  const challenges = parseChallenges(result.headers['WWW-Authenticate']);
  if (error !== undefined) expect(challenges.some((c) => c.params.error === error)).toBe(true);
  return { ...result, challenges, json: JSON.parse(result.body) as Record<string, unknown> };
}

describe('RFC 6750 §3 challenges and RFC 9728 §5.1 discovery', () => {
  it('no credentials → 401 without error, Bearer first then DPoP (allowed), resource_metadata and scope', async () => {
    const { rs } = await setup();
    const r = expectFailure(await rs.verify({ method: 'POST', url: '/mcp', headers: {} }), 401);
    expect(r.challenges.map((c) => c.scheme)).toEqual(['Bearer', 'DPoP']);
    for (const c of r.challenges) {
      expect(c.params.error).toBeUndefined();
      expect(c.params.resource_metadata).toBe('https://mcp.example.com/.well-known/oauth-protected-resource/mcp');
      expect(c.params.scope).toBe('mcp:tools');
    }
    expect(r.challenges[1]?.params.algs).toBe('ES256 ES384 ES512 EdDSA RS256 PS256');
  });

  it('an unsupported scheme (Basic) counts as no credentials: 401 without error', async () => {
    const { rs } = await setup();
    const r = expectFailure(await rs.verify({ method: 'POST', url: '/mcp', headers: { authorization: 'Basic dXNlcjpwYXNz' } }), 401);
    expect(r.challenges.every((c) => c.params.error === undefined)).toBe(true);
  });

  it('dpop "required" → only a DPoP challenge; "disabled" → only Bearer', async () => {
    const req = await setup({ dpop: 'required' });
    expect(expectFailure(await req.rs.verify({ method: 'GET', url: '/mcp', headers: {} }), 401).challenges.map((c) => c.scheme)).toEqual(['DPoP']);
    const dis = await setup({ dpop: 'disabled' });
    expect(expectFailure(await dis.rs.verify({ method: 'GET', url: '/mcp', headers: {} }), 401).challenges.map((c) => c.scheme)).toEqual(['Bearer']);
  });

  it('errors answer as JSON-RPC errors, with the request id, when the request was JSON-RPC', async () => {
    const { rs } = await setup();
    const r = expectFailure(await rs.verify({ method: 'POST', url: '/mcp', headers: {}, body: call('echo', 42) }), 401);
    expect(r.json).toMatchObject({ jsonrpc: '2.0', id: 42, error: { code: -32001 } });
    const plain = expectFailure(await rs.verify({ method: 'GET', url: '/mcp', headers: {} }), 401);
    expect(plain.json).toMatchObject({ error: 'unauthorized' });
  });

  it('metadata() is the RFC 9728 document, with RFC 9449 §5.2 DPoP members', async () => {
    const { rs, issuer } = await setup({ dpop: 'required' });
    expect(rs.metadata()).toEqual({
      resource: RESOURCE,
      authorization_servers: [issuer.issuer],
      scopes_supported: ['mcp:tools', 'mcp:admin'],
      bearer_methods_supported: ['header'],
      dpop_signing_alg_values_supported: ['ES256', 'ES384', 'ES512', 'EdDSA', 'RS256', 'PS256'],
      dpop_bound_access_tokens_required: true,
    });
    expect(rs.metadataPaths).toEqual(['/.well-known/oauth-protected-resource/mcp', '/.well-known/oauth-protected-resource']);
  });
});

describe('gauntlet step 1: request shape (RFC 6750 §2, RFC 9449 §4.3 step 1)', () => {
  it('a malformed Authorization header → 400 invalid_request', async () => {
    const { rs, issuer } = await setup();
    const token = await issuer.mint();
    for (const authorization of ['Bearer', 'Bearer  ', `Bearer ${token} extra`, 'Bearer a"b', `DPoP ${token},${token}`]) {
      expectFailure(await rs.verify({ method: 'POST', url: '/mcp', headers: { authorization } }), 400, 'invalid_request');
    }
  });

  it('an oversized Authorization header → 400 invalid_request', async () => {
    const { rs } = await setup();
    expectFailure(await rs.verify({ method: 'POST', url: '/mcp', headers: { authorization: `Bearer ${'a'.repeat(9000)}` } }), 400, 'invalid_request');
  });

  it('two Authorization headers → 400 invalid_request', async () => {
    const { rs, issuer } = await setup();
    const token = await issuer.mint();
    expectFailure(await rs.verify({ method: 'POST', url: '/mcp', headers: { authorization: [`Bearer ${token}`, `Bearer ${token}`] } }), 400, 'invalid_request');
  });

  it('two DPoP headers (array or comma-joined) → 401 invalid_dpop_proof', async () => {
    const { rs, issuer, key } = await setup();
    const { request, proof } = await dpopRequest(issuer, key);
    expectFailure(await rs.verify({ ...request, headers: { ...request.headers, dpop: [proof, proof] } }), 401, 'invalid_dpop_proof');
    expectFailure(await rs.verify({ ...request, headers: { ...request.headers, dpop: `${proof}, ${proof}` } }), 401, 'invalid_dpop_proof');
  });

  it('an oversized DPoP header → 401 invalid_dpop_proof', async () => {
    const { rs, issuer, key } = await setup();
    const { request } = await dpopRequest(issuer, key);
    expectFailure(await rs.verify({ ...request, headers: { ...request.headers, dpop: 'a'.repeat(9000) } }), 401, 'invalid_dpop_proof');
  });

  it('a token in the query string → 400 invalid_request, even without an Authorization header', async () => {
    const { rs, issuer } = await setup();
    const token = await issuer.mint();
    expectFailure(await rs.verify({ method: 'GET', url: `/mcp?access_token=${token}`, headers: {} }), 400, 'invalid_request');
    expectFailure(await rs.verify({ method: 'GET', url: `/mcp?access_token=${token}`, headers: { authorization: `Bearer ${token}` } }), 400, 'invalid_request');
  });

  it('a token in a form body → 400 invalid_request', async () => {
    const { rs, issuer } = await setup();
    const token = await issuer.mint();
    expectFailure(
      await rs.verify({ method: 'POST', url: '/mcp', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `access_token=${token}` }),
      400,
      'invalid_request',
    );
  });

  it('header names are case-insensitive in plain records and Web Headers work', async () => {
    const { rs, issuer } = await setup();
    const token = await issuer.mint();
    expect((await rs.verify({ method: 'POST', url: '/mcp', headers: { Authorization: `bearer ${token}` }, body: call('echo') })).ok).toBe(true);
    expect((await rs.verify({ method: 'POST', url: '/mcp', headers: new Headers({ authorization: `Bearer ${token}` }), body: call('echo') })).ok).toBe(true);
  });
});

describe('gauntlet step 2: access token (RFC 9068 §4, RFC 8725)', () => {
  it('a valid Bearer token passes and yields the SDK AuthInfo shape', async () => {
    const { rs, issuer } = await setup();
    const token = await issuer.mint({ scope: 'mcp:tools other' });
    const r = await rs.verify({ method: 'POST', url: '/mcp', headers: { authorization: `Bearer ${token}` }, body: call('echo') });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.auth).toMatchObject({ token, clientId: 'client-1', scopes: ['mcp:tools', 'other'], extra: { subject: 'user-1', issuer: issuer.issuer, tokenType: 'Bearer' } });
    expect(r.auth.resource?.href).toBe(RESOURCE);
    expect(typeof r.auth.expiresAt).toBe('number');
    expect(r.auth.extra.jkt).toBeUndefined();
  });

  it('alg "none" → 401 invalid_token', async () => {
    const { rs } = await setup();
    const b = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const now = Math.floor(Date.now() / 1000);
    const token = `${b({ alg: 'none', typ: 'at+jwt' })}.${b({ iss: 'https://issuer.test', aud: RESOURCE, exp: now + 60, client_id: 'c', scope: 'mcp:tools' })}.`;
    expectFailure(await rs.verify({ method: 'POST', url: '/mcp', headers: { authorization: `Bearer ${token}x` } }), 401, 'invalid_token');
    // The unsigned form (empty signature) does not even parse as a token68 JWS.
    const r = await rs.verify({ method: 'POST', url: '/mcp', headers: { authorization: `Bearer ${token}` } });
    expect(r.ok).toBe(false);
  });

  it('HS256 signed with the issuer public key as the HMAC secret (key confusion) → 401 invalid_token', async () => {
    const { rs, issuer } = await setup();
    const pem = createPublicKey({ key: issuer.publicJwk as never, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
    const b = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const now = Math.floor(Date.now() / 1000);
    const input = `${b({ alg: 'HS256', typ: 'at+jwt', kid: issuer.kid })}.${b({ iss: issuer.issuer, aud: RESOURCE, exp: now + 60, client_id: 'c', scope: 'mcp:tools' })}`;
    const token = `${input}.${createHmac('sha256', pem).update(input).digest('base64url')}`;
    const r = expectFailure(await rs.verify({ method: 'POST', url: '/mcp', headers: { authorization: `Bearer ${token}` } }), 401, 'invalid_token');
    expect(r.challenges[0]?.params.error_description).toMatch(/alg/);
  });

  it('wrong typ → 401 invalid_token (RFC 9068 §4 step 1)', async () => {
    const { rs, issuer } = await setup();
    const token = await issuer.mint({}, { typ: 'JWT' });
    expectFailure(await rs.verify({ method: 'POST', url: '/mcp', headers: { authorization: `Bearer ${token}` } }), 401, 'invalid_token');
  });

  it('signature by another key (same kid) → 401 invalid_token', async () => {
    const { rs, issuer } = await setup();
    const other = await createTestIssuer({ audience: RESOURCE, kid: issuer.kid });
    const token = await other.mint();
    expectFailure(await rs.verify({ method: 'POST', url: '/mcp', headers: { authorization: `Bearer ${token}` } }), 401, 'invalid_token');
  });

  it('an unknown kid → 401 invalid_token; a token-supplied jwk/jku is never used', async () => {
    const { rs } = await setup();
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const jwk = await exportJWK(publicKey);
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({ iss: 'https://issuer.test', aud: RESOURCE, exp: now + 60, client_id: 'c', scope: 'mcp:tools' })
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: 'attacker', jwk, jku: 'http://127.0.0.1:9/jwks' } as never)
      .sign(privateKey);
    expectFailure(await rs.verify({ method: 'POST', url: '/mcp', headers: { authorization: `Bearer ${token}` } }), 401, 'invalid_token');
  });

  it('wrong or missing iss → 401 invalid_token', async () => {
    const { rs, issuer } = await setup();
    for (const iss of ['https://evil.test', 'https://issuer.test/', undefined]) {
      const token = await issuer.mint({ iss });
      expectFailure(await rs.verify({ method: 'POST', url: '/mcp', headers: { authorization: `Bearer ${token}` } }), 401, 'invalid_token');
    }
  });

  it('expired (beyond skew), not-yet-valid and future-iat tokens → 401 invalid_token; within skew passes', async () => {
    const { rs, issuer } = await setup({ clockSkewSeconds: 30 });
    const now = Math.floor(Date.now() / 1000);
    for (const claims of [{ exp: now - 31 }, { nbf: now + 60 }, { iat: now + 60 }, { exp: undefined }, { exp: 'soon' }]) {
      const token = await issuer.mint(claims as never);
      expectFailure(await rs.verify({ method: 'POST', url: '/mcp', headers: { authorization: `Bearer ${token}` }, body: call('echo') }), 401, 'invalid_token');
    }
    const ok = await issuer.mint({ exp: now - 10 });
    expect((await rs.verify({ method: 'POST', url: '/mcp', headers: { authorization: `Bearer ${ok}` }, body: call('echo') })).ok).toBe(true);
  });

  it('garbage tokens never throw: 400 or 401, never anything else', async () => {
    const { rs } = await setup();
    const samples = ['a.b.c', 'e30.e30.e30', 'W10.W10.AA', 'bnVsbA.bnVsbA.AA', '...', 'a..b', `${'A'.repeat(100)}.${'B'.repeat(100)}.${'C'.repeat(100)}`, 'eyJhbGciOiJFUzI1NiJ9.%%%.abc'];
    for (let i = 0; i < 200; i++) samples.push(Buffer.from(randomUUID() + i).toString('base64url') + '.' + Buffer.from(String(Math.random())).toString('base64url') + '.' + 'x'.repeat(i % 90));
    for (const t of samples) {
      const r = await rs.verify({ method: 'POST', url: '/mcp', headers: { authorization: `Bearer ${t}`, dpop: t } });
      expect(r.ok).toBe(false);
      if (!r.ok) expect([400, 401]).toContain(r.status);
    }
  });
});

describe('gauntlet step 3: audience (RFC 8707 §2)', () => {
  it("a token for another MCP server → 401 invalid_token naming the expected audience", async () => {
    const { rs, issuer } = await setup();
    const token = await issuer.mint({ aud: 'https://other.example.com/mcp' });
    const r = expectFailure(await rs.verify({ method: 'POST', url: '/mcp', headers: { authorization: `Bearer ${token}` } }), 401, 'invalid_token');
    expect(r.challenges[0]?.params.error_description).toContain(RESOURCE);
  });

  it('aud as an array containing the resource passes; a non-canonical spelling of it passes', async () => {
    const { rs, issuer } = await setup();
    for (const aud of [['x', RESOURCE], 'HTTPS://MCP.EXAMPLE.COM:443/mcp/']) {
      const token = await issuer.mint({ aud });
      expect((await rs.verify({ method: 'POST', url: '/mcp', headers: { authorization: `Bearer ${token}` }, body: call('echo') })).ok).toBe(true);
    }
  });

  it('a prefix or suffix of the resource does not pass', async () => {
    const { rs, issuer } = await setup();
    for (const aud of ['https://mcp.example.com', 'https://mcp.example.com/mcp2', 'https://mcp.example.com.evil/mcp']) {
      const token = await issuer.mint({ aud });
      expectFailure(await rs.verify({ method: 'POST', url: '/mcp', headers: { authorization: `Bearer ${token}` } }), 401, 'invalid_token');
    }
  });
});

describe('gauntlet steps 4–6: DPoP proof, binding, replay (RFC 9449 §4.3, §7)', () => {
  it('a valid DPoP-bound request passes and reports the key thumbprint', async () => {
    const { rs, issuer, key } = await setup();
    const { request } = await dpopRequest(issuer, key);
    const r = await rs.verify(request);
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.auth.extra).toMatchObject({ jkt: key.jkt, tokenType: 'DPoP' });
  });

  it('EdDSA and RS256 proof keys are accepted', async () => {
    for (const alg of ['EdDSA', 'RS256']) {
      const { rs, issuer } = await setup();
      const key = await createDpopKey(alg);
      const { request } = await dpopRequest(issuer, key);
      expect((await rs.verify(request)).ok).toBe(true);
    }
  });

  it('replay: the same proof twice → second is 401 invalid_dpop_proof (§11.1)', async () => {
    const { rs, issuer, key } = await setup();
    const { request } = await dpopRequest(issuer, key);
    expect((await rs.verify(request)).ok).toBe(true);
    const r = expectFailure(await rs.verify(request), 401, 'invalid_dpop_proof');
    expect(r.challenges.find((c) => c.scheme === 'DPoP')?.params.error_description).toMatch(/already been used/);
  });

  it('a DPoP-bound token sent as Bearer → 401 invalid_token (§7.2)', async () => {
    const { rs, issuer, key } = await setup();
    const { token, proof } = await dpopRequest(issuer, key);
    expectFailure(await rs.verify({ method: 'POST', url: '/mcp', headers: { authorization: `Bearer ${token}`, dpop: proof } }), 401, 'invalid_token');
  });

  it('an unbound token with the DPoP scheme → 401 invalid_token (§7.1)', async () => {
    const { rs, issuer, key } = await setup();
    const token = await issuer.mint();
    const proof = await key.proof({ htm: 'POST', htu: HTU, accessToken: token });
    expectFailure(await rs.verify({ method: 'POST', url: '/mcp', headers: { authorization: `DPoP ${token}`, dpop: proof } }), 401, 'invalid_token');
  });

  it('DPoP scheme without a proof → 401 invalid_dpop_proof', async () => {
    const { rs, issuer, key } = await setup();
    const { token } = await dpopRequest(issuer, key);
    expectFailure(await rs.verify({ method: 'POST', url: '/mcp', headers: { authorization: `DPoP ${token}` } }), 401, 'invalid_dpop_proof');
  });

  it('cnf.jkt of another key → 401 invalid_dpop_proof (§6.1 binding)', async () => {
    const { rs, issuer, key } = await setup();
    const other = await createDpopKey();
    const token = await issuer.mint({ cnf: { jkt: other.jkt } });
    const proof = await key.proof({ htm: 'POST', htu: HTU, accessToken: token });
    expectFailure(await rs.verify({ method: 'POST', url: '/mcp', headers: { authorization: `DPoP ${token}`, dpop: proof } }), 401, 'invalid_dpop_proof');
  });

  const proofCases: Array<[string, (k: TestDpopKey, token: string) => Promise<string>]> = [
    ['typ is not dpop+jwt (step 4)', (k, t) => k.proof({ htm: 'POST', htu: HTU, accessToken: t, header: { typ: 'JWT' } })],
    ['jwk holds private members (step 7)', async (k, t) => k.proof({ htm: 'POST', htu: HTU, accessToken: t, header: { jwk: { ...k.publicJwk, d: 'AAAA' } } })],
    ['jwk is symmetric (step 7)', (k, t) => k.proof({ htm: 'POST', htu: HTU, accessToken: t, header: { jwk: { kty: 'oct', k: 'c2VjcmV0' } } })],
    ['jwk missing (step 3)', (k, t) => k.proof({ htm: 'POST', htu: HTU, accessToken: t, header: { jwk: undefined } })],
    ['signed by another key than its jwk (step 6)', async (k, t) => (await createDpopKey()).proof({ htm: 'POST', htu: HTU, accessToken: t, header: { jwk: k.publicJwk } })],
    ['htm mismatch (step 8)', (k, t) => k.proof({ htm: 'GET', htu: HTU, accessToken: t })],
    ['htu of another server (step 9)', (k, t) => k.proof({ htm: 'POST', htu: 'https://other.example.com/mcp', accessToken: t })],
    ['htu of another path (step 9)', (k, t) => k.proof({ htm: 'POST', htu: 'https://mcp.example.com/other', accessToken: t })],
    ['htu with http instead of https (step 9)', (k, t) => k.proof({ htm: 'POST', htu: 'http://mcp.example.com/mcp', accessToken: t })],
    ['iat too old (step 11)', (k, t) => k.proof({ htm: 'POST', htu: HTU, accessToken: t, claims: { iat: Math.floor(Date.now() / 1000) - 120 } })],
    ['iat in the future (step 11)', (k, t) => k.proof({ htm: 'POST', htu: HTU, accessToken: t, claims: { iat: Math.floor(Date.now() / 1000) + 120 } })],
    ['iat not a number (step 3)', (k, t) => k.proof({ htm: 'POST', htu: HTU, accessToken: t, claims: { iat: 'now' } })],
    ['jti missing (step 3)', (k, t) => k.proof({ htm: 'POST', htu: HTU, accessToken: t, claims: { jti: undefined } })],
    ['jti oversized', (k, t) => k.proof({ htm: 'POST', htu: HTU, accessToken: t, claims: { jti: 'j'.repeat(300) } })],
    ['ath missing (§7.1)', (k) => k.proof({ htm: 'POST', htu: HTU })],
    ['ath of another token (§7.1)', (k) => k.proof({ htm: 'POST', htu: HTU, accessToken: 'another-token' })],
    ['crit header (RFC 7515 §4.1.11)', async (k, t) => signRaw(k, { typ: 'dpop+jwt', alg: 'ES256', jwk: k.publicJwk, crit: ['exp'], exp: 1 }, { jti: 'c', htm: 'POST', htu: HTU, iat: Math.floor(Date.now() / 1000), ath: createHash('sha256').update(t).digest('base64url') })],
  ];
  for (const [name, make] of proofCases) {
    it(`${name} → 401 invalid_dpop_proof`, async () => {
      const { rs, issuer, key } = await setup();
      const token = await issuer.mint({ cnf: { jkt: key.jkt } });
      const proof = await make(key, token).catch(() => undefined);
      if (proof === undefined) throw new Error('could not build the hostile proof');
      expectFailure(await rs.verify({ method: 'POST', url: '/mcp', headers: { authorization: `DPoP ${token}`, dpop: proof }, body: call('echo') }), 401, 'invalid_dpop_proof');
    });
  }

  it('alg "none" and HS256 proofs → 401 invalid_dpop_proof (step 5)', async () => {
    const { rs, issuer, key } = await setup();
    const token = await issuer.mint({ cnf: { jkt: key.jkt } });
    const b = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const claims = b({ jti: 'x', htm: 'POST', htu: HTU, iat: Math.floor(Date.now() / 1000), ath: 'x' });
    for (const alg of ['none', 'HS256']) {
      const input = `${b({ typ: 'dpop+jwt', alg, jwk: key.publicJwk })}.${claims}`;
      const proof = `${input}.${createHmac('sha256', JSON.stringify(key.publicJwk)).update(input).digest('base64url')}`;
      expectFailure(await rs.verify({ method: 'POST', url: '/mcp', headers: { authorization: `DPoP ${token}`, dpop: proof } }), 401, 'invalid_dpop_proof');
    }
  });

  it('htu normalisation: case, default port, query and fragment, dot segments, percent-encoding still match (§4.3 step 9, RFC 3986 §6.2)', async () => {
    const { rs, issuer, key } = await setup();
    for (const htu of ['HTTPS://MCP.Example.COM/mcp', 'https://mcp.example.com:443/mcp', 'https://mcp.example.com/mcp?x=1#frag', 'https://mcp.example.com/a/../mcp', 'https://mcp.example.com/%6Dcp']) {
      const token = await issuer.mint({ cnf: { jkt: key.jkt } });
      const proof = await key.proof({ htm: 'POST', htu, accessToken: token });
      const r = await rs.verify({ method: 'POST', url: '/mcp?session=1', headers: { authorization: `DPoP ${token}`, dpop: proof }, body: call('echo') });
      expect(r.ok, htu).toBe(true);
    }
  });

  it('htu is built from the configured public URL, never from Host or X-Forwarded-*', async () => {
    const { rs, issuer, key } = await setup();
    const token = await issuer.mint({ cnf: { jkt: key.jkt } });
    const spoofed = await key.proof({ htm: 'POST', htu: 'http://internal:8080/mcp', accessToken: token });
    const headers = { authorization: `DPoP ${token}`, dpop: spoofed, host: 'internal:8080', 'x-forwarded-host': 'internal:8080', 'x-forwarded-proto': 'http' };
    expectFailure(await rs.verify({ method: 'POST', url: 'http://internal:8080/mcp', headers }), 401, 'invalid_dpop_proof');
    // A request path like //evil.example/mcp stays a path on the configured host.
    const evil = await key.proof({ htm: 'POST', htu: 'https://evil.example/mcp', accessToken: token });
    expectFailure(await rs.verify({ method: 'POST', url: '//evil.example/mcp', headers: { authorization: `DPoP ${token}`, dpop: evil } }), 401, 'invalid_dpop_proof');
  });

  it('dpop "required": an unbound Bearer token → 401 invalid_token with a DPoP challenge', async () => {
    const { rs, issuer } = await setup({ dpop: 'required' });
    const token = await issuer.mint();
    const r = expectFailure(await rs.verify({ method: 'POST', url: '/mcp', headers: { authorization: `Bearer ${token}` } }), 401, 'invalid_token');
    expect(r.challenges.map((c) => c.scheme)).toEqual(['DPoP']);
  });

  it('dpop "disabled": the DPoP scheme → 401 invalid_token; unbound Bearer passes', async () => {
    const { rs, issuer, key } = await setup({ dpop: 'disabled' });
    const { request } = await dpopRequest(issuer, key);
    expectFailure(await rs.verify(request), 401, 'invalid_token');
    const token = await issuer.mint();
    expect((await rs.verify({ method: 'POST', url: '/mcp', headers: { authorization: `Bearer ${token}` }, body: call('echo') })).ok).toBe(true);
  });

  it('no failed check consumes a jti: the replay store is only called once every other check passed', async () => {
    const claims: string[] = [];
    const store: ReplayStore = { claim: async (k) => (claims.push(k), true), close: async () => {} };
    const { rs, issuer, key } = await setup({ replayStore: store });
    const bad = await dpopRequest(issuer, key, { claims: { aud: 'https://other.example.com/mcp' } });
    await rs.verify(bad.request);
    const noScope = await dpopRequest(issuer, key, { claims: { scope: 'mcp:tools' }, body: call('admin_reset') });
    expectFailure(await rs.verify(noScope.request), 403, 'insufficient_scope');
    const wrongHtm = await dpopRequest(issuer, key, { method: 'GET', proof: undefined });
    await rs.verify({ ...wrongHtm.request, method: 'POST' });
    expect(claims).toEqual([]);
    const good = await dpopRequest(issuer, key);
    expect((await rs.verify(good.request)).ok).toBe(true);
    expect(claims).toHaveLength(1);
    expect(claims[0]).toBe(replayKey(key.jkt, JSON.parse(Buffer.from(good.proof.split('.')[1] as string, 'base64url').toString()).jti));
  });

  it('a replay store that cannot answer → 503 with Retry-After, never a pass (fail closed)', async () => {
    const store: ReplayStore = { claim: async () => { throw new StoreUnavailableError('down', { retryAfterSeconds: 2 }); }, close: async () => {} };
    const { rs, issuer, key } = await setup({ replayStore: store });
    const { request } = await dpopRequest(issuer, key);
    const r = await rs.verify(request);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.status).toBe(503);
    expect(r.headers['Retry-After']).toBe('2');
    expect(JSON.parse(r.body)).toMatchObject({ error: { data: { error: 'temporarily_unavailable' } } });
  });
});

describe('server nonces (RFC 9449 §8–9)', () => {
  const secret = 'n'.repeat(48);

  it('a proof without a nonce → 401 use_dpop_nonce with a DPoP-Nonce header; with it → passes', async () => {
    const { rs, issuer, key } = await setup({ nonce: { secret } });
    const first = await dpopRequest(issuer, key);
    const r = expectFailure(await rs.verify(first.request), 401, 'use_dpop_nonce');
    const nonce = r.headers['DPoP-Nonce'];
    expect(nonce).toMatch(/^[A-Za-z0-9_-]{30}$/);
    expect(r.challenges.find((c) => c.params.error === 'use_dpop_nonce')?.scheme).toBe('DPoP');
    const token = await issuer.mint({ cnf: { jkt: key.jkt } });
    const proof = await key.proof({ htm: 'POST', htu: HTU, accessToken: token, nonce });
    expect((await rs.verify({ method: 'POST', url: '/mcp', headers: { authorization: `DPoP ${token}`, dpop: proof }, body: call('echo') })).ok).toBe(true);
  });

  it('a forged or foreign-context nonce → 401 use_dpop_nonce; another instance with the same secret accepts ours', async () => {
    const a = await setup({ nonce: { secret } });
    const b = createResourceServer({ resource: RESOURCE, trust: { issuer: a.issuer.issuer, jwks: a.issuer.jwks }, nonce: { secret }, scopes: { default: ['mcp:tools'] } });
    servers.push(b);
    const other = createResourceServer({ resource: 'https://other.example.com/mcp', trust: { issuer: a.issuer.issuer, jwks: a.issuer.jwks }, nonce: { secret } });
    servers.push(other);
    const noncesFrom = async (rs: ResourceServer) => {
      const r = await rs.verify({ method: 'POST', url: '/mcp', headers: {} });
      return r.ok ? '' : (r.headers['DPoP-Nonce'] as string);
    };
    const nonceA = await noncesFrom(a.rs);
    const foreign = await noncesFrom(other);
    for (const [nonce, ok] of [[nonceA, true], [foreign, false], ['A'.repeat(30), false]] as const) {
      const token = await a.issuer.mint({ cnf: { jkt: a.key.jkt } });
      const proof = await a.key.proof({ htm: 'POST', htu: HTU, accessToken: token, nonce });
      const r = await b.verify({ method: 'POST', url: '/mcp', headers: { authorization: `DPoP ${token}`, dpop: proof }, body: call('echo') });
      if (ok) expect(r.ok).toBe(true);
      else expectFailure(r, 401, 'use_dpop_nonce');
    }
  });
});

describe('authorization: scopes per tool (MCP step-up, RFC 6750 §3.1 insufficient_scope)', () => {
  it('admin_reset without mcp:admin → 403 insufficient_scope with scope listing everything needed', async () => {
    const { rs, issuer } = await setup();
    const token = await issuer.mint({ scope: 'mcp:tools' });
    const r = expectFailure(await rs.verify({ method: 'POST', url: '/mcp', headers: { authorization: `Bearer ${token}` }, body: call('admin_reset', 7) }), 403, 'insufficient_scope');
    expect(r.challenges[0]?.params.scope).toBe('mcp:tools mcp:admin');
    expect(r.json).toMatchObject({ id: 7, error: { code: -32003 } });
  });

  it('a batch is authorised as a whole: one admin call in it needs mcp:admin', async () => {
    const { rs, issuer } = await setup();
    const token = await issuer.mint({ scope: 'mcp:tools' });
    const body = [call('echo', 1), call('admin_reset', 2)];
    expectFailure(await rs.verify({ method: 'POST', url: '/mcp', headers: { authorization: `Bearer ${token}` }, body }), 403, 'insufficient_scope');
    const admin = await issuer.mint({ scope: 'mcp:tools mcp:admin' });
    expect((await rs.verify({ method: 'POST', url: '/mcp', headers: { authorization: `Bearer ${admin}` }, body })).ok).toBe(true);
  });

  it('other methods need the default scopes; a raw JSON body is parsed too', async () => {
    const { rs, issuer } = await setup();
    const none = await issuer.mint({ scope: 'other' });
    expectFailure(await rs.verify({ method: 'POST', url: '/mcp', headers: { authorization: `Bearer ${none}` }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }) }), 403, 'insufficient_scope');
    const admin = await issuer.mint({ scope: 'mcp:admin' });
    expectFailure(await rs.verify({ method: 'POST', url: '/mcp', headers: { authorization: `Bearer ${admin}` }, body: Buffer.from(JSON.stringify(call('admin_reset'))) }), 403, 'insufficient_scope');
  });

  it('a tool named __proto__ or constructor does not reach Object.prototype', async () => {
    const { rs, issuer } = await setup();
    const token = await issuer.mint({ scope: 'mcp:tools' });
    for (const name of ['__proto__', 'constructor', 'toString']) {
      expect((await rs.verify({ method: 'POST', url: '/mcp', headers: { authorization: `Bearer ${token}` }, body: call(name) })).ok).toBe(true);
    }
  });

  it('a revoked token (deny-list) → 401 invalid_token', async () => {
    const revoked = new Set<string>();
    const { rs, issuer } = await setup({ revocation: { isRevoked: async (jti) => revoked.has(jti) } });
    const token = await issuer.mint({ jti: 'revoked-1' });
    expect((await rs.verify({ method: 'POST', url: '/mcp', headers: { authorization: `Bearer ${token}` }, body: call('echo') })).ok).toBe(true);
    revoked.add('revoked-1');
    expectFailure(await rs.verify({ method: 'POST', url: '/mcp', headers: { authorization: `Bearer ${token}` }, body: call('echo') }), 401, 'invalid_token');
  });
});

describe('options are validated at construction', () => {
  const base = { resource: RESOURCE, trust: { issuer: 'https://issuer.test', jwks: { keys: [] as never[] } } };
  it.each([
    [{ resource: 'not a url' }, /resource/],
    [{ resource: 'https://x.test/mcp#frag' }, /fragment/],
    [{ dpop: 'yes' }, /dpop/],
    [{ dpopAlgorithms: ['HS256'] }, /HS256/],
    [{ dpopAlgorithms: ['none'] }, /none/],
    [{ nonce: { secret: 'short' } }, /32 bytes/],
    [{ scopes: { default: ['bad scope'] } }, /scope/],
  ])('%j is refused with a message that says what to fix', async (override, message) => {
    const issuer = await createTestIssuer({ audience: RESOURCE });
    expect(() => createResourceServer({ ...base, trust: { issuer: issuer.issuer, jwks: issuer.jwks }, ...(override as object) } as ResourceServerOptions)).toThrow(message);
  });
  it('a JWKS with no usable key is refused', () => {
    expect(() => createResourceServer(base as ResourceServerOptions)).toThrow(/trust/);
  });
});

describe('confirmation methods (RFC 8705 / RFC 9449 §6)', () => {
  it('a token bound by a method other than cnf.jkt (x5t#S256) is never accepted as a bearer token', async () => {
    const { rs, issuer } = await setup();
    const token = await issuer.mint({ cnf: { 'x5t#S256': 'abc' } });
    expectFailure(await rs.verify({ method: 'POST', url: '/mcp', headers: { authorization: `Bearer ${token}` }, body: call('echo') }), 401, 'invalid_token');
  });
});

describe('a body every parser reads alike: refused when another parser could read a different call (RFC 7493 I-JSON, GHSA-wvj2-96wp-fq3f)', () => {
  const adminCall = JSON.stringify(call('admin_reset'));
  const raw = (text: string) => Buffer.from(text, 'utf8');
  const refused: Array<[string, unknown, number, Record<string, string>?]> = [
    ['a UTF-8 BOM before the JSON (RFC 8259 §8.1)', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(adminCall)]), -32700],
    ['UTF-16LE JSON', Buffer.from(`\ufeff${adminCall}`, 'utf16le'), -32700],
    ['invalid UTF-8 bytes', Buffer.concat([Buffer.from('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo\xff'), Buffer.from([0xff]), Buffer.from('"}}')]), -32700],
    ['truncated JSON', Buffer.from(adminCall.slice(0, -3)), -32700],
    ['case-variant member names (Go encoding/json matches case-insensitively)', { jsonrpc: '2.0', id: 1, Method: 'tools/call', Params: { Name: 'admin_reset' } }, -32600],
    ['a case-variant tool name member beside the real one', { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', Name: 'admin_reset' } }, -32600],
    ['"paramſ" (U+017F folds to s in Go) beside params', raw('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo"},"paramſ":{"name":"admin_reset"}}'), -32600],
    ['"param\\u017f" written as an escape', raw('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo"},"param\\u017f":{"name":"admin_reset"}}'), -32600],
    ['"jſonrpc": no jsonrpc member to Warden, a message to Go', raw('{"jſonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"admin_reset"}}'), -32600],
    ['a Kelvin sign K (U+212A) in a params member', raw('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{},"\u212aey":1,"nAme":"admin_reset"}}'), -32600],
    ['a member name with a trailing NUL (C decoders stop there)', raw('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo"},"params\\u0000":{"name":"admin_reset"}}'), -32600],
    ['a member name with a trailing space', raw('{"jsonrpc":"2.0","id":1,"method":"tools/call","params ":{"name":"admin_reset"},"params":{"name":"echo"}}'), -32600],
    ['a member name with a BOM inside', raw('{"jsonrpc":"2.0","id":1,"method":"tools/call","\ufeffparams":{"name":"admin_reset"}}'), -32600],
    ['duplicate params: JSON.parse keeps the last, others the first (RFC 7493 §2.3)', raw('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"admin_reset"},"params":{"name":"echo"}}'), -32600],
    ['duplicate name inside params', raw('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"admin_reset","name":"echo"}}'), -32600],
    ['a lone surrogate (RFC 7493 §2.1)', raw('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo\\ud800"}}'), -32600],
    ['an integer beyond 2^53 (RFC 7493 §2.2)', raw('{"jsonrpc":"2.0","id":9007199254740993,"method":"tools/call","params":{"name":"echo"}}'), -32600],
    ['a number that overflows a double', raw('{"jsonrpc":"2.0","id":1e400,"method":"tools/call","params":{"name":"echo"}}'), -32600],
    ['tools/call without a string tool name', { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: ['admin_reset'] } }, -32600],
    ['a case-variant method value', { jsonrpc: '2.0', id: 1, method: 'Tools/Call', params: { name: 'admin_reset' } }, -32600],
    ['a method value with a trailing NUL', { jsonrpc: '2.0', id: 1, method: 'tools/call\u0000', params: { name: 'admin_reset' } }, -32600],
    ['a tool name that folds to a policy tool (ADMIN_RESET)', call('ADMIN_RESET'), -32600],
    ['a tool name with a trailing space', call('admin_reset '), -32600],
    ['a message without "jsonrpc" (lax upstreams ignore it)', { id: 1, method: 'tools/call', params: { name: 'admin_reset' } }, -32600],
    ['positional params', { jsonrpc: '2.0', id: 1, method: 'tools/call', params: ['admin_reset'] }, -32600],
    ['a batch with one malformed element', [call('echo'), { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { Name: 'admin_reset' } }], -32600],
  ];
  for (const [name, body, code] of refused) {
    it(`${name} → 400 with a JSON-RPC ${code} error and no challenge`, async () => {
      const { rs, issuer } = await setup();
      const token = await issuer.mint({ scope: 'mcp:tools mcp:admin' });
      const r = await rs.verify({ method: 'POST', url: '/mcp', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body });
      if (r.ok) throw new Error('accepted');
      expect(r.status).toBe(400);
      expect(r.headers['WWW-Authenticate']).toBeUndefined();
      const answer = JSON.parse(r.body);
      expect(answer).toMatchObject({ jsonrpc: '2.0', error: { code } });
      // The request's id once the message was read; null when the body itself was refused.
      expect([null, 1]).toContain(answer.id);
    });
  }

  it.each([
    ['charset=utf-7 (the MCP SDK v1 SSE transport decodes it)', { 'content-type': 'application/json; charset=utf-7' }],
    ['charset=utf-16', { 'content-type': 'application/json; charset="UTF-16"' }],
    ['Content-Encoding: gzip (express.json inflates it)', { 'content-type': 'application/json', 'content-encoding': 'gzip' }],
  ])('%s → 415 (RFC 9110 §15.5.16), before the token is even looked at', async (_name, headers) => {
    const { rs } = await setup();
    const r = await rs.verify({ method: 'POST', url: '/mcp', headers: { authorization: 'Bearer x', ...headers }, body: Buffer.from(JSON.stringify(call('echo'))) });
    if (r.ok) throw new Error('accepted');
    expect(r.status).toBe(415);
    expect(JSON.parse(r.body)).toMatchObject({ error: { code: -32600 } });
  });

  it('charset=utf-8 and a JSON body with non-ASCII text pass; so do other content types that are not JSON at all', async () => {
    const { rs, issuer } = await setup();
    const token = await issuer.mint({ scope: 'mcp:tools' });
    const ok = await rs.verify({ method: 'POST', url: '/mcp', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json; charset=UTF-8' }, body: Buffer.from(JSON.stringify({ ...call('echo'), params: { name: 'echo', arguments: { text: 'héllo ſ' } } })) });
    expect(ok.ok).toBe(true);
    if (ok.ok) expect(ok.parsedBody).toMatchObject({ params: { arguments: { text: 'héllo ſ' } } });
    const form = await rs.verify({ method: 'POST', url: '/mcp', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-www-form-urlencoded' }, body: Buffer.from('a=1&b=2') });
    // Not JSON under another declared type: passes, but needs every scope (a decoder ignoring types finds no cheaper call).
    expectFailure(form, 403, 'insufficient_scope');
  });

  it('a JSON body sent as text/plain is read as JSON all the same (Go\'s json.NewDecoder ignores content types)', async () => {
    const { rs, issuer } = await setup();
    const token = await issuer.mint({ scope: 'mcp:tools' });
    const r = expectFailure(await rs.verify({ method: 'POST', url: '/mcp', headers: { authorization: `Bearer ${token}`, 'content-type': 'text/plain' }, body: Buffer.from(adminCall) }), 403, 'insufficient_scope');
    expect(r.challenges[0]?.params.scope).toBe('mcp:tools mcp:admin');
  });

  it('with strictMessages: false the same bodies pass the shape check but need every tool scope (fail closed)', async () => {
    const { rs, issuer } = await setup({ strictMessages: false });
    const token = await issuer.mint({ scope: 'mcp:tools' });
    for (const body of [raw('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo"},"paramſ":{"name":"admin_reset"}}'), call('ADMIN_RESET'), Buffer.from(adminCall.slice(0, -3))]) {
      const r = expectFailure(await rs.verify({ method: 'POST', url: '/mcp', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body }), 403, 'insufficient_scope');
      expect(r.challenges[0]?.params.scope).toBe('mcp:tools mcp:admin');
    }
  });

  it('well-formed requests are judged exactly: echo passes with mcp:tools, and so does a GET without a body', async () => {
    const { rs, issuer } = await setup();
    const token = await issuer.mint({ scope: 'mcp:tools' });
    expect((await rs.verify({ method: 'POST', url: '/mcp', headers: { authorization: `Bearer ${token}` }, body: Buffer.from(JSON.stringify(call('echo'))) })).ok).toBe(true);
    expect((await rs.verify({ method: 'GET', url: '/mcp', headers: { authorization: `Bearer ${token}` } })).ok).toBe(true);
  });

  it('a refused body never reaches the replay store', async () => {
    let claims = 0;
    const replayStore: ReplayStore = { claim: async () => (claims++, true), close: async () => undefined };
    const { rs, issuer, key } = await setup({ replayStore });
    const { request } = await dpopRequest(issuer, key, { body: raw('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo"},"Params":{}}') });
    expect((await rs.verify(request)).ok).toBe(false);
    expect(claims).toBe(0);
  });
});

describe('checks: extra checks run after authentication and before the replay claim', () => {
  it('a check that throws an OAuthError refuses with it and consumes no jti; a passing check sees the caller and the messages', async () => {
    let claims = 0;
    const seen: string[] = [];
    const replayStore: ReplayStore = { claim: async () => (claims++, true), close: async () => undefined };
    const { InsufficientScopeError } = await import('../oauth/errors.js');
    const { rs, issuer, key } = await setup({
      replayStore,
      checks: [
        ({ auth, messages }) => {
          seen.push(`${auth.clientId}:${messages.map((m) => (m.kind === 'response' ? 'response' : m.method)).join(',')}`);
          if (messages.some((m) => m.kind === 'request' && m.params?.name === 'add')) throw new InsufficientScopeError('policy says no', { scope: ['mcp:tools'] });
        },
      ],
    });
    const refused = await dpopRequest(issuer, key, { body: call('add') });
    expectFailure(await rs.verify(refused.request), 403, 'insufficient_scope');
    expect(claims).toBe(0);
    const allowed = await dpopRequest(issuer, key, { body: call('echo') });
    expect((await rs.verify(allowed.request)).ok).toBe(true);
    expect(claims).toBe(1);
    expect(seen).toHaveLength(2);
    expect(seen[1]).toMatch(/:tools\/call$/);
  });

  it('a check that throws anything else fails closed with 503', async () => {
    const { rs, issuer } = await setup({ checks: [() => { throw new Error('store down'); }] });
    const token = await issuer.mint({ scope: 'mcp:tools' });
    const r = await rs.verify({ method: 'POST', url: '/mcp', headers: { authorization: `Bearer ${token}` }, body: call('echo') });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.status).toBe(503);
  });
});

describe('proof keys with a bounded verification cost', () => {
  it('an RSA proof key with an oversized modulus or exponent → 401 invalid_dpop_proof, before any signature work', async () => {
    const { rs, issuer } = await setup();
    const big = randomBytes(1024); // an 8192-bit modulus: only its size matters here
    big[0] = (big[0] as number) | 0x80;
    big[1023] = (big[1023] as number) | 1;
    const n2048 = randomBytes(256);
    n2048[0] = (n2048[0] as number) | 0x80;
    n2048[255] = (n2048[255] as number) | 1;
    const e = (hex: string) => Buffer.from(hex, 'hex').toString('base64url');
    for (const jwk of [
      { kty: 'RSA', n: big.toString('base64url'), e: e('010001') },
      { kty: 'RSA', n: n2048.toString('base64url'), e: e('0200000001') },
    ]) {
      const { calculateJwkThumbprint } = await import('jose');
      const token = await issuer.mint({ cnf: { jkt: await calculateJwkThumbprint(jwk) } });
      const b = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
      const proof = `${b({ typ: 'dpop+jwt', alg: 'RS256', jwk })}.${b({ jti: randomUUID(), htm: 'POST', htu: HTU, iat: Math.floor(Date.now() / 1000), ath: createHash('sha256').update(token).digest('base64url') })}.${randomBytes(256).toString('base64url')}`;
      const r = expectFailure(await rs.verify({ method: 'POST', url: '/mcp', headers: { authorization: `DPoP ${token}`, dpop: proof }, body: call('echo') }), 401, 'invalid_dpop_proof');
      expect(r.challenges.find((c) => c.params.error)?.params.error_description).toMatch(/RSA/);
    }
  });
});

describe('Mcp-Method / Mcp-Name must mirror the body in the library too (MCP SEP-2243)', () => {
  it('a mismatch is 400 with JSON-RPC -32020 before the token is looked at; matching headers pass', async () => {
    const { rs, issuer } = await setup();
    const token = await issuer.mint({ scope: 'mcp:tools' });
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const bad = await rs.verify({ method: 'POST', url: '/mcp', headers: { ...headers, 'mcp-name': 'admin_reset' }, body: Buffer.from(JSON.stringify(call('echo'))) });
    expect(bad.ok).toBe(false);
    if (!bad.ok) {
      expect(bad.status).toBe(400);
      expect(JSON.parse(bad.body)).toMatchObject({ error: { code: -32020 } });
    }
    const good = await rs.verify({ method: 'POST', url: '/mcp', headers: { ...headers, 'mcp-method': 'tools/call', 'mcp-name': 'echo' }, body: Buffer.from(JSON.stringify(call('echo'))) });
    expect(good.ok).toBe(true);
  });
});

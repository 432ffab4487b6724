import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeJwt } from 'jose';
import { createDpopFetch, type FetchLike } from './dpop-fetch.js';
import { generateDpopKey } from './dpop-key.js';
import { createResourceServer, type ResourceServer } from '../resource-server/index.js';
import { createTestIssuer, parseChallenges } from '../../test/helpers/test-issuer.js';
import { SECRETS, startHarness, type Harness } from '../../test/helpers/as-harness.js';
import { accessTokenHash } from '../jose/thumbprint.js';

const RESOURCE = 'https://mcp.example.com/mcp';
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

interface Seen {
  method: string;
  url: string;
  authorization: string | null;
  dpop: string | null;
  body: string;
}

/** A fetch that hands requests to a real resource server's Web gate and records what it was sent. */
function gateFetch(rs: ResourceServer, seen: Seen[]): FetchLike {
  const gate = rs.web();
  return async (input, init) => {
    const request = new Request(input, init);
    seen.push({ method: request.method, url: request.url, authorization: request.headers.get('authorization'), dpop: request.headers.get('dpop'), body: await request.clone().text() });
    const result = await gate(request);
    if (result instanceof Response) return result;
    return Response.json({ jkt: result.extra.jkt, scheme: result.extra.tokenType });
  };
}

async function resource(options: { nonce?: boolean; dpop?: 'allowed' | 'required' } = {}) {
  const issuer = await createTestIssuer({ audience: RESOURCE });
  const rs = createResourceServer({
    resource: RESOURCE,
    trust: { issuer: issuer.issuer, jwks: issuer.jwks },
    dpop: options.dpop ?? 'required',
    ...(options.nonce && { nonce: { secret: randomBytes(32).toString('base64url') } }),
  });
  closers.push(() => rs.close());
  return { issuer, rs };
}

const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
const post = (token: string, scheme = 'DPoP'): RequestInit => ({ method: 'POST', headers: { authorization: `${scheme} ${token}`, 'content-type': 'application/json' }, body });

describe('createDpopFetch at a resource server (RFC 9449 §7, §9)', () => {
  it('§7.1: signs a fresh proof per request, with ath, htm and htu (no query)', async () => {
    const { issuer, rs } = await resource();
    const key = await generateDpopKey();
    const token = await issuer.mint({ cnf: { jkt: key.thumbprint } });
    const seen: Seen[] = [];
    const dpopFetch = createDpopFetch(gateFetch(rs, seen), key);
    for (let i = 0; i < 2; i++) {
      const response = await dpopFetch(`${RESOURCE}?session=1`, post(token));
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ jkt: key.thumbprint, scheme: 'DPoP' });
    }
    expect(seen).toHaveLength(2);
    const [a, b] = seen.map((s) => decodeJwt(s.dpop as string));
    expect(a).toMatchObject({ htm: 'POST', htu: RESOURCE, ath: accessTokenHash(token) });
    expect(a?.jti).not.toBe(b?.jti);
  });

  it('§9: answers use_dpop_nonce with exactly one retry carrying the nonce, then reuses the nonce', async () => {
    const { issuer, rs } = await resource({ nonce: true });
    const key = await generateDpopKey();
    const token = await issuer.mint({ cnf: { jkt: key.thumbprint } });
    const seen: Seen[] = [];
    const dpopFetch = createDpopFetch(gateFetch(rs, seen), key);
    const first = await dpopFetch(RESOURCE, post(token));
    expect(first.status).toBe(200);
    expect(seen).toHaveLength(2);
    expect(decodeJwt(seen[0]?.dpop as string).nonce).toBeUndefined();
    const nonce = decodeJwt(seen[1]?.dpop as string).nonce;
    expect(typeof nonce).toBe('string');
    expect(seen[1]?.body).toBe(body);
    const second = await dpopFetch(RESOURCE, post(token));
    expect(second.status).toBe(200);
    expect(seen).toHaveLength(3);
    expect(decodeJwt(seen[2]?.dpop as string).nonce).toBe(nonce);
  });

  it('retries once only: a server that keeps asking gets its 401 back', async () => {
    const key = await generateDpopKey();
    let calls = 0;
    const stubborn: FetchLike = async () => {
      calls++;
      return new Response(null, { status: 401, headers: { 'www-authenticate': 'DPoP error="use_dpop_nonce", algs="ES256"', 'dpop-nonce': `n-${calls}` } });
    };
    const response = await createDpopFetch(stubborn, key)(RESOURCE, post('t'));
    expect(response.status).toBe(401);
    expect(calls).toBe(2);
  });

  it('§7.1: a Bearer token the caller says is bound is sent with the DPoP scheme; an unbound one goes out untouched', async () => {
    const { issuer, rs } = await resource({ dpop: 'allowed' });
    const key = await generateDpopKey();
    const bound = await issuer.mint({ cnf: { jkt: key.thumbprint } });
    const plain = await issuer.mint();
    const seen: Seen[] = [];
    const dpopFetch = createDpopFetch(gateFetch(rs, seen), key, { isBound: (t) => t === bound });
    expect((await dpopFetch(RESOURCE, post(bound, 'Bearer'))).status).toBe(200);
    expect(seen[0]?.authorization).toBe(`DPoP ${bound}`);
    expect((await dpopFetch(RESOURCE, post(plain, 'Bearer'))).status).toBe(200);
    expect(seen[1]).toMatchObject({ authorization: `Bearer ${plain}`, dpop: null });
  });

  it('a captured request cannot be replayed: the resource refuses the same proof (§11.1)', async () => {
    const { issuer, rs } = await resource();
    const key = await generateDpopKey();
    const token = await issuer.mint({ cnf: { jkt: key.thumbprint } });
    const seen: Seen[] = [];
    const inner = gateFetch(rs, seen);
    expect((await createDpopFetch(inner, key)(RESOURCE, post(token))).status).toBe(200);
    const captured = seen[0] as Seen;
    const replay = await inner(RESOURCE, { method: 'POST', headers: { authorization: captured.authorization as string, dpop: captured.dpop as string, 'content-type': 'application/json' }, body });
    expect(replay.status).toBe(401);
    expect(parseChallenges(replay.headers.get('www-authenticate')).find((c) => c.scheme === 'DPoP')?.params.error).toBe('invalid_dpop_proof');
  });

  it('takes a Request object, keeps its body for the retry, and leaves GETs without a token alone', async () => {
    const { issuer, rs } = await resource({ nonce: true });
    const key = await generateDpopKey();
    const token = await issuer.mint({ cnf: { jkt: key.thumbprint } });
    const seen: Seen[] = [];
    const dpopFetch = createDpopFetch(gateFetch(rs, seen), key);
    const response = await dpopFetch(new Request(RESOURCE, post(token)));
    expect(response.status).toBe(200);
    expect(seen.map((s) => s.body)).toEqual([body, body]);
    await dpopFetch(`${RESOURCE}/.well-known/x`, { method: 'GET' });
    expect(seen[2]?.dpop).toBeNull();
  });

  it('refuses to be built without a fetch or a key holder', async () => {
    expect(() => createDpopFetch(undefined as never, {} as never)).toThrow(TypeError);
    expect(() => createDpopFetch(fetch, {} as never)).toThrow(/key holder/);
  });
});

describe('createDpopFetch at a token endpoint (RFC 9449 §5, §8)', () => {
  let harness: Harness;
  afterEach(async () => harness?.close());

  it('§8: binds a client_credentials token, answering the 400 use_dpop_nonce once', async () => {
    harness = await startHarness({ dpop: { requireNonce: true } });
    const key = await generateDpopKey();
    let calls = 0;
    const counting: FetchLike = (input, init) => {
      calls++;
      return fetch(input, init);
    };
    const dpopFetch = createDpopFetch(counting, key);
    const response = await dpopFetch(harness.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: 'machine', client_secret: SECRETS.machine, resource: RESOURCE, scope: 'mcp:tools' }),
    });
    expect(response.status).toBe(200);
    expect(calls).toBe(2);
    const tokens = (await response.json()) as { token_type: string; access_token: string };
    expect(tokens.token_type).toBe('DPoP');
    expect(decodeJwt(tokens.access_token).cnf).toEqual({ jkt: key.thumbprint });
  });

  it('§5: keeps Basic client authentication and still adds the proof', async () => {
    harness = await startHarness();
    const key = await generateDpopKey({ alg: 'EdDSA' });
    const response = await createDpopFetch(fetch, key)(harness.tokenUrl, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`other-app:${SECRETS.other}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', resource: RESOURCE, scope: 'mcp:tools' }).toString(),
    });
    expect(response.status).toBe(200);
    const tokens = (await response.json()) as { token_type: string; access_token: string };
    expect(tokens.token_type).toBe('DPoP');
    expect(decodeJwt(tokens.access_token).cnf).toEqual({ jkt: key.thumbprint });
  });
});

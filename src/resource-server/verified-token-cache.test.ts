import { afterEach, describe, expect, it } from 'vitest';
import { createLocalKeySource } from '../jose/local-key-source.js';
import type { KeySource } from '../jose/key-source.js';
import { createTestIssuer } from '../../test/helpers/test-issuer.js';
import { createResourceServer, type ResourceServer, type ResourceServerOptions } from './index.js';

const RESOURCE = 'https://mcp.example.com/mcp';
const servers: ResourceServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** A resource server whose key source counts lookups (one per signature verification). */
async function setup(options: Partial<ResourceServerOptions> = {}) {
  const issuer = await createTestIssuer({ audience: RESOURCE });
  const local = createLocalKeySource(issuer.jwks);
  let lookups = 0;
  const keySource: KeySource = { resolve: (kid) => (lookups++, local.resolve(kid)) };
  let clock = Math.floor(Date.now() / 1000);
  const rs = createResourceServer({ resource: RESOURCE, trust: { issuer: issuer.issuer, keySource }, scopes: { default: ['mcp:tools'] }, now: () => clock, ...options });
  servers.push(rs);
  const call = (token: string) => rs.verify({ method: 'POST', url: '/mcp', headers: { authorization: `Bearer ${token}` }, body: { jsonrpc: '2.0', id: 1, method: 'tools/list' } });
  return { issuer, rs, call, lookups: () => lookups, advance: (s: number) => void (clock += s) };
}

describe('verified-token cache (RFC 9068 §4: the signature once, the time claims every request)', () => {
  it('a reused token is verified once; every request still passes audience, scope and time checks', async () => {
    const { issuer, call, lookups } = await setup();
    const token = await issuer.mint();
    for (let i = 0; i < 5; i++) expect((await call(token)).ok).toBe(true);
    expect(lookups()).toBe(1);
  });

  it('a cached token that expires is refused at once (RFC 9068 §4 exp), with the usual reason', async () => {
    const { issuer, call, advance } = await setup();
    const token = await issuer.mint({ exp: Math.floor(Date.now() / 1000) + 60 });
    expect((await call(token)).ok).toBe(true);
    advance(60 + 31);
    const r = await call(token);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.headers['WWW-Authenticate']).toMatch(/error="invalid_token", error_description="access token has expired"/);
  });

  it('a token that differs in one byte is never a hit: a payload swapped under a cached signature fails', async () => {
    const { issuer, call } = await setup();
    const token = await issuer.mint({ scope: 'mcp:tools' });
    expect((await call(token)).ok).toBe(true);
    const [h, p, s] = token.split('.') as [string, string, string];
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...payload, scope: 'mcp:tools mcp:admin' })).toString('base64url')}.${s}`;
    const r = await call(forged);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toBe('invalid_token');
  });

  it('an entry lives at most maxSeconds: then the signature is verified again (a withdrawn key stops vouching)', async () => {
    const { issuer, call, lookups, advance } = await setup({ tokenCache: { maxSeconds: 30 } });
    const token = await issuer.mint();
    await call(token);
    advance(29);
    await call(token);
    expect(lookups()).toBe(1);
    advance(2);
    await call(token);
    expect(lookups()).toBe(2);
  });

  it('bounded: beyond maxEntries the oldest token is verified again; tokenCache: false verifies every time', async () => {
    const bounded = await setup({ tokenCache: { maxEntries: 2 } });
    const [a, b, c] = await Promise.all([bounded.issuer.mint(), bounded.issuer.mint(), bounded.issuer.mint()]);
    for (const t of [a, b, c, c, b]) await bounded.call(t);
    expect(bounded.lookups()).toBe(3);
    await bounded.call(a);
    expect(bounded.lookups()).toBe(4);

    const off = await setup({ tokenCache: false });
    const token = await off.issuer.mint();
    for (let i = 0; i < 3; i++) await off.call(token);
    expect(off.lookups()).toBe(3);
  });

  it('options are validated at set-up', async () => {
    await expect(setup({ tokenCache: { maxEntries: -1 } })).rejects.toThrow(/tokenCache\.maxEntries/);
    await expect(setup({ tokenCache: { maxSeconds: 0 } })).rejects.toThrow(/tokenCache\.maxSeconds/);
  });
});

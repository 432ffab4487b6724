import { afterEach, describe, expect, it } from 'vitest';
import { createResourceServer, type ResourceServer } from './index.js';
import { createTestIssuer } from '../../test/helpers/test-issuer.js';

const RESOURCE = 'https://mcp.example.com/mcp';
const servers: ResourceServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe('tokens of a trusted issuer verified through its remote JWKS', () => {
  it('a flood of unknown kids causes at most one JWKS refetch per interval and answers 401 invalid_token', async () => {
    const issuer = await createTestIssuer({ audience: RESOURCE });
    let fetches = 0;
    const rs = createResourceServer({
      resource: RESOURCE,
      trust: {
        issuer: issuer.issuer,
        jwksUri: `${issuer.issuer}/jwks`,
        refetchIntervalSeconds: 60,
        fetch: async () => {
          fetches++;
          return new Response(JSON.stringify(issuer.jwks), { status: 200, headers: { 'content-type': 'application/json' } });
        },
      },
    });
    servers.push(rs);
    const good = await issuer.mint();
    expect((await rs.verify({ method: 'POST', url: '/mcp', headers: { authorization: `Bearer ${good}` } })).ok).toBe(true);
    const flood = await Promise.all(
      Array.from({ length: 200 }, async (_, i) => {
        const token = await issuer.mint({}, { kid: `unknown-${i}` });
        return rs.verify({ method: 'POST', url: '/mcp', headers: { authorization: `Bearer ${token}` } });
      }),
    );
    for (const r of flood) expect(r.ok ? 200 : r.status).toBe(401);
    expect(fetches).toBeLessThanOrEqual(2);
  });

  it('the issuer unreachable before any key was fetched → 503 with Retry-After (fail closed)', async () => {
    const issuer = await createTestIssuer({ audience: RESOURCE });
    const rs = createResourceServer({
      resource: RESOURCE,
      trust: { issuer: issuer.issuer, jwksUri: `${issuer.issuer}/jwks`, fetch: async () => { throw new TypeError('fetch failed'); } },
    });
    servers.push(rs);
    const r = await rs.verify({ method: 'POST', url: '/mcp', headers: { authorization: `Bearer ${await issuer.mint()}` } });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.status).toBe(503);
      expect(Number(r.headers['Retry-After'])).toBeGreaterThan(0);
    }
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { createResourceServer, type ResourceServer } from './index.js';
import { createDpopKey, parseChallenges } from '../../test/helpers/test-issuer.js';

const RESOURCE = 'https://mcp.example.com/mcp';
const ISSUER = 'https://idp.example.com';
const servers: ResourceServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** An introspection endpoint (RFC 7662 §2.2) answering from a table of opaque tokens. */
function endpoint(table: Record<string, Record<string, unknown>>, calls: { n: number }, down = { value: false }): typeof fetch {
  return async (_input, init) => {
    calls.n++;
    if (down.value) throw new TypeError('fetch failed');
    const token = new URLSearchParams(String(init?.body)).get('token') ?? '';
    return new Response(JSON.stringify(table[token] ?? { active: false }), { status: 200, headers: { 'content-type': 'application/json' } });
  };
}

function setup(table: Record<string, Record<string, unknown>>, calls = { n: 0 }, down = { value: false }) {
  const rs = createResourceServer({
    resource: RESOURCE,
    trust: { issuer: ISSUER, introspection: { endpoint: `${ISSUER}/introspect`, clientId: 'rs', clientSecret: 'rs-secret', fetch: endpoint(table, calls, down) } },
    scopes: { default: ['mcp:tools'] },
  });
  servers.push(rs);
  return rs;
}

const exp = () => Math.floor(Date.now() / 1000) + 300;
const req = (token: string, extra: Record<string, string> = {}) => ({ method: 'POST', url: '/mcp', headers: { authorization: `Bearer ${token}`, ...extra }, body: { jsonrpc: '2.0', id: 1, method: 'tools/list' } });

describe('opaque tokens through RFC 7662 introspection', () => {
  it('an active token for this audience passes, and is cached (one introspection for two requests)', async () => {
    const calls = { n: 0 };
    const rs = setup({ opaque1: { active: true, iss: ISSUER, aud: RESOURCE, client_id: 'c1', scope: 'mcp:tools', sub: 'u1', exp: exp() } }, calls);
    const r = await rs.verify(req('opaque1'));
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.auth).toMatchObject({ clientId: 'c1', scopes: ['mcp:tools'], extra: { subject: 'u1' } });
    expect((await rs.verify(req('opaque1'))).ok).toBe(true);
    expect(calls.n).toBe(1);
  });

  it('inactive, another audience, no audience, or another issuer → 401 invalid_token (RFC 8707 audience is always on)', async () => {
    const rs = setup({
      other: { active: true, iss: ISSUER, aud: 'https://other.example.com/mcp', client_id: 'c', scope: 'mcp:tools', exp: exp() },
      noaud: { active: true, iss: ISSUER, client_id: 'c', scope: 'mcp:tools', exp: exp() },
      wrongiss: { active: true, iss: 'https://evil.example', aud: RESOURCE, client_id: 'c', scope: 'mcp:tools', exp: exp() },
    });
    for (const token of ['inactive', 'other', 'noaud', 'wrongiss']) {
      const r = await rs.verify(req(token));
      expect(r.ok, token).toBe(false);
      if (!r.ok) {
        expect(r.status).toBe(401);
        expect(parseChallenges(r.headers['WWW-Authenticate'])[0]?.params.error).toBe('invalid_token');
      }
    }
  });

  it('a DPoP-bound opaque token (cnf.jkt from introspection) needs the matching proof', async () => {
    const key = await createDpopKey();
    const rs = setup({ bound: { active: true, iss: ISSUER, aud: RESOURCE, client_id: 'c', scope: 'mcp:tools', exp: exp(), cnf: { jkt: key.jkt } } });
    expect((await rs.verify(req('bound'))).ok).toBe(false);
    const proof = await key.proof({ htm: 'POST', htu: RESOURCE, accessToken: 'bound' });
    const r = await rs.verify({ ...req('bound'), headers: { authorization: 'DPoP bound', dpop: proof } });
    expect(r.ok).toBe(true);
  });

  it('introspection endpoint unreachable → 503 with Retry-After, never a pass (fail closed)', async () => {
    const rs = setup({}, { n: 0 }, { value: true });
    const r = await rs.verify(req('anything'));
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.status).toBe(503);
      expect(r.headers['Retry-After']).toBeDefined();
    }
  });
});

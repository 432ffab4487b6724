/**
 * `onDecision`: the gauntlet tells every decision as a value — outcome, reason, caller, steps —
 * once per request, and a listener can neither change nor break the answer.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { AuthorizationDecision } from '../oauth/authorization-decision.js';
import { createDpopKey, createTestIssuer } from '../../test/helpers/test-issuer.js';
import { createResourceServer, type ResourceServer } from './index.js';

const RESOURCE = 'https://mcp.example.com/mcp';
const servers: ResourceServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function setup(onDecision: (d: AuthorizationDecision) => void) {
  const issuer = await createTestIssuer({ audience: RESOURCE });
  const key = await createDpopKey();
  const rs = createResourceServer({ resource: RESOURCE, trust: { issuer: issuer.issuer, jwks: issuer.jwks }, scopes: { default: ['mcp:tools'], tools: { admin_reset: ['mcp:admin'] } }, onDecision });
  servers.push(rs);
  const token = await issuer.mint({ cnf: { jkt: key.jkt }, jti: 'token-1', sub: 'alice', client_id: 'agent' });
  const request = async (tool: string) => ({
    method: 'POST',
    url: '/mcp',
    headers: { authorization: `DPoP ${token}`, dpop: await key.proof({ htm: 'POST', htu: RESOURCE, accessToken: token }), 'content-type': 'application/json' },
    body: { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: tool, arguments: {} } },
    context: { requestId: 'r-1', sourceAddress: '192.0.2.7' },
  });
  return { rs, key, request };
}

describe('onDecision (authorization decisions as values)', () => {
  it('an allowed DPoP request (RFC 9449 §4.3, §7.1) passes every step, replay last, and names the caller', async () => {
    const decisions: AuthorizationDecision[] = [];
    const { rs, key, request } = await setup((d) => decisions.push(d));
    expect((await rs.verify(await request('echo'))).ok).toBe(true);
    expect(decisions).toHaveLength(1);
    const [d] = decisions;
    expect(d).toMatchObject({ outcome: 'allow', reason: 'ok', status: 200, resource: RESOURCE, methods: ['tools/call'], tools: ['echo'], clientId: 'agent', subject: 'alice', jkt: key.jkt, jti: 'token-1', scheme: 'DPoP', context: { requestId: 'r-1', sourceAddress: '192.0.2.7' } });
    expect(d!.steps.map(([s]) => s)).toEqual(['shape', 'token', 'audience', 'proof', 'binding', 'scope', 'replay']);
    expect(JSON.stringify(d)).not.toContain((await request('echo')).headers.authorization.slice(5));
  });

  it('a denial names the failing step last, with its wire reason (RFC 6750 §3.1 insufficient_scope; RFC 9449 §11.1 replay)', async () => {
    const decisions: AuthorizationDecision[] = [];
    const { rs, request } = await setup((d) => decisions.push(d));
    await rs.verify(await request('admin_reset'));
    expect(decisions[0]).toMatchObject({ outcome: 'deny', reason: 'insufficient_scope', status: 403, tools: ['admin_reset'], clientId: 'agent' });
    expect(decisions[0]!.steps.at(-1)![0]).toBe('scope');

    const replayed = await request('echo');
    await rs.verify(replayed);
    await rs.verify(replayed);
    expect(decisions[2]).toMatchObject({ outcome: 'deny', reason: 'invalid_dpop_proof', status: 401 });
    expect(decisions[2]!.steps.at(-1)![0]).toBe('replay');
  });

  it('a request without credentials is a denial without a caller (no_credentials)', async () => {
    const decisions: AuthorizationDecision[] = [];
    const { rs } = await setup((d) => decisions.push(d));
    await rs.verify({ method: 'POST', url: '/mcp', headers: { 'content-type': 'application/json' }, body: { jsonrpc: '2.0', id: 1, method: 'tools/list' } });
    expect(decisions[0]).toMatchObject({ outcome: 'deny', reason: 'no_credentials', status: 401, methods: ['tools/list'] });
    expect(decisions[0]).not.toHaveProperty('clientId');
  });

  it('a listener that throws changes nothing in the answer', async () => {
    const { rs, request } = await setup(() => {
      throw new Error('sink down');
    });
    expect((await rs.verify(await request('echo'))).ok).toBe(true);
  });

  it('a listener that is not a function fails at set-up', async () => {
    const issuer = await createTestIssuer({ audience: RESOURCE });
    expect(() => createResourceServer({ resource: RESOURCE, trust: { issuer: issuer.issuer, jwks: issuer.jwks }, onDecision: 'log' as never })).toThrow(/onDecision must be a function/);
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { createStepUpFetch, insufficientScope, parseChallenges, type StepUpAuthorizer } from './step-up.js';
import type { FetchLike } from './dpop-fetch.js';
import { AuthorizationDeclinedError, InsufficientScopeError } from './errors.js';
import { createResourceServer, type ResourceServer } from '../resource-server/index.js';
import { createTestIssuer, type TestIssuer } from '../../test/helpers/test-issuer.js';

const RESOURCE = 'https://mcp.example.com/mcp';
const servers: ResourceServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe('parseChallenges (RFC 9110 §11.6.1)', () => {
  it('reads several challenges with token and quoted-string parameters', () => {
    expect(parseChallenges('Bearer error="insufficient_scope", scope="a b", resource_metadata="https://x/.well-known/oauth-protected-resource/mcp", DPoP algs="ES256", error=invalid_token')).toEqual([
      { scheme: 'Bearer', params: { error: 'insufficient_scope', scope: 'a b', resource_metadata: 'https://x/.well-known/oauth-protected-resource/mcp' } },
      { scheme: 'DPoP', params: { algs: 'ES256', error: 'invalid_token' } },
    ]);
  });

  it('unescapes quoted pairs and keeps commas inside quotes', () => {
    expect(parseChallenges('Bearer error_description="a \\"quoted\\", comma", realm=x')).toEqual([{ scheme: 'Bearer', params: { error_description: 'a "quoted", comma', realm: 'x' } }]);
  });

  it('a scheme without parameters, and garbage, do not throw', () => {
    expect(parseChallenges('Bearer')).toEqual([{ scheme: 'Bearer', params: {} }]);
    expect(parseChallenges('')).toEqual([]);
    expect(parseChallenges('=== "')).toEqual([]);
    expect(parseChallenges('Bearer scope="unterminated')).toEqual([{ scheme: 'Bearer', params: { scope: 'unterminated' } }]);
  });
});

describe('insufficientScope (RFC 6750 §3.1)', () => {
  it('finds the challenge in either scheme, only on 403', async () => {
    const dpop = new Response(null, { status: 403, headers: { 'www-authenticate': 'DPoP error="insufficient_scope", scope="mcp:admin"' } });
    expect(await insufficientScope(dpop)).toEqual({ scope: 'mcp:admin', resourceMetadata: undefined, description: undefined });
    expect(await insufficientScope(new Response(null, { status: 401, headers: { 'www-authenticate': 'Bearer error="insufficient_scope"' } }))).toBeUndefined();
    expect(await insufficientScope(new Response(null, { status: 403 }))).toBeUndefined();
  });
});

/**
 * A real resource server's gate as the network, and an "authorization server" that mints a token
 * for whatever scope step-up asks for, minus `withhold` (a user who unticks a scope).
 */
async function setup(withhold: string[] = []) {
  const issuer: TestIssuer = await createTestIssuer({ audience: RESOURCE });
  const rs = createResourceServer({ resource: RESOURCE, trust: { issuer: issuer.issuer, jwks: issuer.jwks }, scopes: { default: ['mcp:tools'], tools: { admin_reset: ['mcp:admin'] } } });
  servers.push(rs);
  const gate = rs.web();
  const network: FetchLike = async (input, init) => {
    const result = await gate(new Request(input, init));
    return result instanceof Response ? result : Response.json({ scopes: result.scopes });
  };
  let token = { access_token: await issuer.mint({ scope: 'mcp:tools' }), scope: 'mcp:tools' };
  const asked: string[] = [];
  const refreshFirst: boolean[] = [];
  const authorizer: StepUpAuthorizer = {
    grantedScopes: () => token.scope.split(' '),
    tokens: () => token,
    async reauthorize(serverUrl, scope, _resourceMetadata, options) {
      expect(String(serverUrl)).toBe(RESOURCE);
      asked.push(scope);
      refreshFirst.push(options?.refresh === true);
      const granted = scope.split(' ').filter((s) => !withhold.includes(s)).join(' ');
      token = { access_token: await issuer.mint({ scope: granted }), scope: granted };
    },
  };
  const call = (tool: string) => ({
    method: 'POST',
    headers: { authorization: `Bearer ${token.access_token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: tool, arguments: {} } }),
  });
  const expire = async () => {
    token = { access_token: await issuer.mint({ scope: token.scope, exp: Math.floor(Date.now() / 1000) - 600 }), scope: token.scope };
  };
  return { network, authorizer, asked, refreshFirst, call, expire };
}

describe('createStepUpFetch (MCP 2026-07-28, step-up authorization)', () => {
  it('re-authorizes for the union of granted and challenged scopes, then retries with the new token', async () => {
    const { network, authorizer, asked, call } = await setup();
    const response = await createStepUpFetch(network, authorizer)(RESOURCE, call('admin_reset'));
    expect(response.status).toBe(200);
    expect(asked).toEqual(['mcp:tools mcp:admin']);
    expect(await response.json()).toEqual({ scopes: ['mcp:tools', 'mcp:admin'] });
  });

  it('a second 403 after the retry limit is an InsufficientScopeError, not a loop; the same operation is not re-asked', async () => {
    const { network, authorizer, asked, call } = await setup(['mcp:admin']);
    const stepUp = createStepUpFetch(network, authorizer);
    const error = await stepUp(RESOURCE, call('admin_reset')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InsufficientScopeError);
    expect(error).toMatchObject({ code: 'insufficient_scope', requiredScope: 'mcp:tools mcp:admin', attempts: 1, operation: `tools/call admin_reset at ${RESOURCE}` });
    expect(asked).toHaveLength(1);
    await expect(stepUp(RESOURCE, call('admin_reset'))).rejects.toThrow(/not asking the user once more/);
    expect(asked).toHaveLength(1);
    expect((await stepUp(RESOURCE, call('echo'))).status).toBe(200);
  });

  it('maxAttempts allows more tries; 0 turns step-up off', async () => {
    const withheld = await setup(['mcp:admin']);
    await expect(createStepUpFetch(withheld.network, withheld.authorizer, { maxAttempts: 3 })(RESOURCE, withheld.call('admin_reset'))).rejects.toMatchObject({ attempts: 3 });
    expect(withheld.asked).toHaveLength(3);
    const off = await setup();
    await expect(createStepUpFetch(off.network, off.authorizer, { maxAttempts: 0 })(RESOURCE, off.call('admin_reset'))).rejects.toThrow(/step-up is turned off/);
    expect(off.asked).toHaveLength(0);
    expect(() => createStepUpFetch(off.network, off.authorizer, { maxAttempts: -1 })).toThrow(TypeError);
  });

  it('takes a Request object and sends its body again after step-up', async () => {
    const { network, authorizer, asked, call } = await setup();
    const response = await createStepUpFetch(network, authorizer)(new Request(RESOURCE, call('admin_reset')));
    expect(response.status).toBe(200);
    expect(asked).toHaveLength(1);
  });

  it('a declined step-up surfaces as AuthorizationDeclinedError after one visit, not a retry', async () => {
    const { network, authorizer, asked, call } = await setup();
    const declining: StepUpAuthorizer = {
      ...authorizer,
      async reauthorize(serverUrl, scope) {
        asked.push(scope);
        if (asked.length === 1) throw new AuthorizationDeclinedError();
        return authorizer.reauthorize(serverUrl, scope);
      },
    };
    const stepUp = createStepUpFetch(network, declining);
    await expect(stepUp(RESOURCE, call('admin_reset'))).rejects.toBeInstanceOf(AuthorizationDeclinedError);
    expect(asked).toEqual(['mcp:tools mcp:admin']);
  });

  it('passes other refusals through untouched', async () => {
    const { authorizer, asked, call } = await setup();
    const forbidden: FetchLike = async () => new Response('no', { status: 403 });
    expect((await createStepUpFetch(forbidden, authorizer)(RESOURCE, call('echo'))).status).toBe(403);
    expect(asked).toHaveLength(0);
  });

  it('MCP 2026-07-28 §authorization: a 401 after connect (token expired or never sent) authorizes again, refresh first, and retries once (RFC 6750 §3.1)', async () => {
    const { network, authorizer, asked, refreshFirst, call, expire } = await setup();
    const stepUp = createStepUpFetch(network, authorizer);
    expect((await stepUp(RESOURCE, call('echo'))).status).toBe(200);
    await expire();
    const response = await stepUp(RESOURCE, call('echo'));
    expect(response.status).toBe(200);
    expect(asked).toEqual(['mcp:tools']);
    expect(refreshFirst).toEqual([true]);
  });

  it('a 401 before anything succeeded is the connect’s own: passed through to the SDK untouched', async () => {
    const { network, authorizer, asked, call, expire } = await setup();
    await expire();
    const response = await createStepUpFetch(network, authorizer)(RESOURCE, call('echo'));
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer /);
    expect(asked).toHaveLength(0);
  });

  it('a 401 that stays a 401 after the new authorization is returned, not retried again', async () => {
    const { authorizer, asked, call } = await setup();
    let calls = 0;
    const refusing: FetchLike = async () => (++calls === 1 ? Response.json({}) : new Response(null, { status: 401, headers: { 'www-authenticate': 'Bearer error="invalid_token", scope="mcp:tools"' } }));
    const stepUp = createStepUpFetch(refusing, authorizer);
    await stepUp(RESOURCE, call('echo'));
    expect((await stepUp(RESOURCE, call('echo'))).status).toBe(401);
    expect(calls).toBe(3);
    expect(asked).toEqual(['mcp:tools']);
  });

  it('RFC 9449 §9: a use_dpop_nonce 401 is left to the DPoP fetch, not treated as a new authorization', async () => {
    const { authorizer, asked, call } = await setup();
    let calls = 0;
    const nonce: FetchLike = async () => (++calls === 1 ? Response.json({}) : new Response(null, { status: 401, headers: { 'www-authenticate': 'DPoP error="use_dpop_nonce"', 'dpop-nonce': 'n' } }));
    const stepUp = createStepUpFetch(nonce, authorizer);
    await stepUp(RESOURCE, call('echo'));
    expect((await stepUp(RESOURCE, call('echo'))).status).toBe(401);
    expect(asked).toHaveLength(0);
  });
});

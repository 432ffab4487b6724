/**
 * Upstream identity without passthrough (RFC 8693): with `upstreamAuth: { kind: token }` the
 * gateway presents each upstream a short-lived token minted by the stack's own token exchange —
 * `aud` the upstream, `sub` and `client_id` the caller's, `scope` narrowed to the call, `act` the
 * gateway (RFC 8693 §4.1) — which an upstream built with `createResourceServer` verifies. The
 * caller's own token is refused there (RFC 8707 audience), as is a token minted for another
 * upstream or an expired one; a revoked token cannot be exchanged. `headers` stays as it was;
 * `none` sends no identity at all.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exchangeForUpstream } from '../../src/authorization-server/grants/upstream-exchange.js';
import { resolveConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/observability/logger.js';
import { startStack, type RunningStack } from '../../src/stack/index.js';
import { freePort } from '../helpers/free-port.js';
import { startMcpUpstream, type McpUpstream, type UpstreamWhoami } from '../helpers/mcp-upstream.js';
import { mintToken } from '../helpers/mint-token.js';
import { startTokenUpstream, type TokenUpstream, type TokenWhoami } from '../upstreams/node/token-upstream.js';

const SVC_SECRET = 'svc-secret-0123456789-0123456789-abcdef';
const mcpHeaders = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
const scopes = { default: ['mcp:tools'], tools: { whoami: ['mcp:whoami'], other: ['mcp:other'] } };

let stack: RunningStack;
let a: TokenUpstream;
let b: TokenUpstream;
let plain: McpUpstream;
let issuer = '';

beforeAll(async () => {
  const port = await freePort();
  issuer = `http://127.0.0.1:${port}`;
  // The upstreams tolerate no clock skew, so an expired token is refused the second it lapses.
  a = await startTokenUpstream(issuer, { clockSkewSeconds: 0 });
  b = await startTokenUpstream(issuer, { clockSkewSeconds: 0 });
  plain = await startMcpUpstream();
  const config = resolveConfig(
    {
      publicUrl: issuer,
      storage: { kind: 'memory' },
      authorizationServer: { clients: [{ clientId: 'svc', clientSecret: SVC_SECRET, grantTypes: ['client_credentials'], scope: 'mcp:tools mcp:whoami mcp:other' }] },
      resources: [
        { name: 'files', path: '/files', upstream: a.url, scopes, upstreamAuth: { kind: 'token' } },
        { name: 'billing', path: '/billing', upstream: b.url, scopes, upstreamAuth: { kind: 'token' } },
        { name: 'short', path: '/short', upstream: a.url, scopes, upstreamAuth: { kind: 'token', tokenLifetimeSeconds: 1 } },
        { name: 'legacy', path: '/legacy', upstream: plain.url, scopes, upstreamAuth: { kind: 'headers' } },
        // No upstreamAuth: the stack runs the AS that issues this resource's tokens, so token.
        { name: 'unset', path: '/unset', upstream: b.url, scopes },
        { name: 'quiet', path: '/quiet', upstream: plain.url, scopes, upstreamAuth: { kind: 'none' } },
      ],
    },
    { env: {}, port },
  );
  stack = await startStack(config, { logger: createLogger({ write: () => {} }), registryPollMs: 0 });
});

afterAll(async () => {
  await stack?.close();
  await Promise.all([a?.close(), b?.close(), plain?.close()]);
});

const userToken = (path: string, scope = 'mcp:tools mcp:whoami mcp:other') =>
  mintToken(stack, { resource: `${issuer}${path}`, scope, subject: 'alice', clientId: 'demo-cli' });

async function call(url: string, bearer: string, tool: string): Promise<{ status: number; text: string; headers: Headers }> {
  const res = await fetch(url, { method: 'POST', headers: { ...mcpHeaders, authorization: `Bearer ${bearer}` }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: tool, arguments: {} } }) });
  const body = await res.text();
  let text = body;
  try {
    const parsed = JSON.parse(body.startsWith('event:') || body.startsWith('data:') ? (body.split('\n').find((l) => l.startsWith('data:'))?.slice(5) ?? '{}') : body) as { result?: { content?: Array<{ text: string }> } };
    text = parsed.result?.content?.[0]?.text ?? body;
  } catch {
    // Not JSON: keep the raw body for the assertion message.
  }
  return { status: res.status, text, headers: res.headers };
}

const bearerOf = (authorization: string) => authorization.replace(/^Bearer /, '');

describe('upstreamAuth kind token (RFC 8693 token exchange, RFC 8707 audience)', () => {
  it('RFC 8693 §4.1: the upstream verifies a token with aud = itself, the caller as sub and client_id, scope narrowed to the call, act = the gateway, ≤ 60 s', async () => {
    const mine = await userToken('/files');
    const res = await call(`${issuer}/files`, mine, 'whoami');
    expect(res.status, res.text).toBe(200);
    const seen = JSON.parse(res.text) as TokenWhoami;
    expect(seen).toMatchObject({ subject: 'alice', clientId: 'demo-cli', scopes: ['mcp:tools', 'mcp:whoami'], act: { sub: `${issuer}/files` }, aud: a.url });
    expect(seen.lifetime).toBeGreaterThan(0);
    expect(seen.lifetime).toBeLessThanOrEqual(60);
    expect(a.authorizations.some((h) => h.includes(mine))).toBe(false);
  });

  it('tokens are cached per caller token and scope: the same call reuses one, a call needing less gets its own', async () => {
    const mine = await userToken('/files');
    const before = a.authorizations.length;
    expect((await call(`${issuer}/files`, mine, 'whoami')).status).toBe(200);
    expect((await call(`${issuer}/files`, mine, 'whoami')).status).toBe(200);
    expect((await call(`${issuer}/files`, mine, 'echo')).status).toBe(200);
    const [first, second, third] = a.authorizations.slice(before);
    expect(second).toBe(first);
    expect(third).not.toBe(first);
    const narrow = JSON.parse(Buffer.from(bearerOf(third!).split('.')[1]!, 'base64url').toString()) as { scope: string };
    expect(narrow.scope).toBe('mcp:tools');
  });

  it("RFC 8707: the caller's own token sent straight to the upstream is refused (audience)", async () => {
    const mine = await userToken('/files');
    const res = await call(a.url, mine, 'whoami');
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/error="invalid_token".*audience/);
  });

  it("RFC 8707: the gateway's token for upstream A is refused by upstream B", async () => {
    const mine = await userToken('/files');
    const before = a.authorizations.length;
    expect((await call(`${issuer}/files`, mine, 'whoami')).status).toBe(200);
    const forA = bearerOf(a.authorizations[before]!);
    const res = await call(b.url, forA, 'whoami');
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/error="invalid_token".*audience/);
    // The same token at A still works: B refused it for its audience alone.
    expect((await call(a.url, forA, 'whoami')).status).toBe(200);
  });

  it('RFC 9068 §4: an expired gateway token is refused by the upstream', async () => {
    const mine = await userToken('/short');
    const before = a.authorizations.length;
    expect((await call(`${issuer}/short`, mine, 'whoami')).status).toBe(200);
    const minted = bearerOf(a.authorizations[before]!);
    const { exp } = JSON.parse(Buffer.from(minted.split('.')[1]!, 'base64url').toString()) as { exp: number };
    // Wait on the clock, not on the server: until the token's exp has passed.
    while (Date.now() / 1000 < exp + 1) await new Promise((r) => setTimeout(r, 100));
    const res = await call(a.url, minted, 'whoami');
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/error="invalid_token".*expired/);
  });

  it('RFC 7009 / RFC 8693 §2.2.2: a revoked token is refused at the gateway, and the exchange itself refuses it', async () => {
    const res = await fetch(`${issuer}/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`svc:${SVC_SECRET}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', resource: `${issuer}/files` }).toString(),
    });
    const token = ((await res.json()) as { access_token: string }).access_token;
    expect((await call(`${issuer}/files`, token, 'echo')).status).toBe(200);
    const revoked = await fetch(`${issuer}/revoke`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`svc:${SVC_SECRET}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token }).toString(),
    });
    expect(revoked.status).toBe(200);
    expect((await call(`${issuer}/files`, token, 'echo')).status).toBe(401);
    await expect(
      exchangeForUpstream(stack.authorizationServer!.context, { subjectToken: token, audience: a.url, scopes: ['mcp:tools'], actor: `${issuer}/files`, lifetimeSeconds: 60 }),
    ).rejects.toMatchObject({ code: 'invalid_token', message: expect.stringMatching(/revoked/) });
  });
});

/** A stateful upstream: initialize, then call in that session. */
async function callInSession(path: string, tool: string): Promise<UpstreamWhoami> {
  const bearer = await userToken(path);
  const headers = { ...mcpHeaders, authorization: `Bearer ${bearer}` };
  const init = await fetch(`${issuer}${path}`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } }),
  });
  expect(init.status).toBe(200);
  const session = init.headers.get('mcp-session-id')!;
  await init.text();
  const res = await fetch(`${issuer}${path}`, {
    method: 'POST',
    headers: { ...headers, 'mcp-session-id': session, 'mcp-protocol-version': '2025-06-18' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: tool, arguments: {} } }),
  });
  const body = await res.text();
  expect(res.status, body).toBe(200);
  const data = body.split('\n').find((l) => l.startsWith('data:'))!.slice(5);
  return JSON.parse((JSON.parse(data) as { result: { content: Array<{ text: string }> } }).result.content[0]!.text) as UpstreamWhoami;
}

describe('upstreamAuth unset: token, because the stack runs its own AS (issue #10 §2)', () => {
  it('RFC 8693 §4.1: the upstream verifies a token for itself, act = the gateway resource', async () => {
    const mine = await userToken('/unset');
    const before = b.authorizations.length;
    const res = await call(`${issuer}/unset`, mine, 'whoami');
    expect(res.status, res.text).toBe(200);
    expect(JSON.parse(res.text) as TokenWhoami).toMatchObject({ subject: 'alice', clientId: 'demo-cli', act: { sub: `${issuer}/unset` }, aud: b.url });
    expect(b.authorizations.slice(before).some((h) => h.includes(mine))).toBe(false);
  });
});

describe('upstreamAuth kind headers and none', () => {
  it('headers: the trusted X-Warden-* headers as before, no Authorization; none: neither', async () => {
    expect(await callInSession('/legacy', 'whoami')).toMatchObject({ subject: 'alice', clientId: 'demo-cli', authorization: null });
    expect(await callInSession('/quiet', 'whoami')).toEqual({ clientId: null, subject: null, scopes: null, jkt: null, authorization: null, dpop: null });
  });
});

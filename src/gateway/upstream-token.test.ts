/**
 * The upstream token source (`upstreamAuth: token`): scope narrowed to the call (RFC 8693 §2.1
 * `scope`), one exchange per caller token and scope while the token has life left, concurrent
 * misses sharing one exchange, a bounded cache, and exchange failures passed through (fail closed).
 */
import { describe, expect, it } from 'vitest';
import type { WardenAuthInfo } from '../resource-server/types.js';
import { createUpstreamTokenSource, neededScopes, type UpstreamMintRequest } from './upstream-token.js';

const auth = (jti: string, scopes = ['mcp:tools', 'mcp:admin', 'mcp:read']): WardenAuthInfo => ({
  token: `token-${jti}`,
  clientId: 'c',
  scopes,
  extra: { subject: 'alice', issuer: 'https://as.example', jti, tokenType: 'Bearer' },
});
const call = (...tools: string[]) => (tools.length === 1 ? { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: tools[0] } } : tools.map((name, id) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name } })));
const policy = { default: ['mcp:tools'], tools: { reset: ['mcp:admin'], read: ['mcp:read'] } };

function source(options: { lifetime?: number; maxEntries?: number; fail?: Error } = {}) {
  let now = 1000;
  const minted: UpstreamMintRequest[] = [];
  const tokens = createUpstreamTokenSource({
    audience: 'https://up.example/mcp',
    actor: 'https://gw.example/files',
    lifetimeSeconds: options.lifetime ?? 60,
    scopes: policy,
    ...(options.maxEntries === undefined ? {} : { maxEntries: options.maxEntries }),
    now: () => now,
    mint: async (request) => {
      minted.push(request);
      if (options.fail) throw options.fail;
      await Promise.resolve();
      return { accessToken: `up-${minted.length}`, expiresAt: now + (options.lifetime ?? 60) };
    },
  });
  return { tokens, minted, advance: (s: number) => (now += s) };
}

describe('upstream token source', () => {
  it('RFC 8693 §2.1: scope is narrowed to what the call needs (default scopes plus each called tool’s, batches included)', () => {
    expect(neededScopes(auth('a'), call('echo'), policy)).toEqual(['mcp:tools']);
    expect(neededScopes(auth('a'), call('reset'), policy)).toEqual(['mcp:admin', 'mcp:tools']);
    expect(neededScopes(auth('a'), call('reset', 'read'), policy)).toEqual(['mcp:admin', 'mcp:read', 'mcp:tools']);
    expect(neededScopes(auth('a'), { jsonrpc: '2.0', id: 1, method: 'tools/list' }, policy)).toEqual(['mcp:tools']);
    // Without a policy there is nothing to narrow by: the caller's scopes.
    expect(neededScopes(auth('a'), call('echo'), undefined)).toEqual(['mcp:admin', 'mcp:read', 'mcp:tools']);
  });

  it('one exchange per caller token and scope while more than the margin is left; then a fresh one', async () => {
    const { tokens, minted, advance } = source();
    expect(await tokens(auth('a'), call('echo'))).toBe('Bearer up-1');
    expect(await tokens(auth('a'), call('echo'))).toBe('Bearer up-1');
    expect(await tokens(auth('a'), call('reset'))).toBe('Bearer up-2');
    expect(await tokens(auth('b'), call('echo'))).toBe('Bearer up-3');
    advance(49);
    expect(await tokens(auth('a'), call('echo'))).toBe('Bearer up-1');
    advance(2); // 9 s left: below the 10 s margin
    expect(await tokens(auth('a'), call('echo'))).toBe('Bearer up-4');
    expect(minted[0]).toEqual({ subjectToken: 'token-a', audience: 'https://up.example/mcp', scopes: ['mcp:tools'], actor: 'https://gw.example/files', lifetimeSeconds: 60 });
  });

  it('concurrent misses share one exchange', async () => {
    const { tokens, minted } = source();
    const all = await Promise.all(Array.from({ length: 10 }, () => tokens(auth('a'), call('echo'))));
    expect(new Set(all)).toEqual(new Set(['Bearer up-1']));
    expect(minted).toHaveLength(1);
  });

  it('the cache is bounded: beyond maxEntries the oldest entries go', async () => {
    const { tokens, minted } = source({ maxEntries: 2 });
    await tokens(auth('a'), call('echo'));
    await tokens(auth('b'), call('echo'));
    await tokens(auth('c'), call('echo'));
    await tokens(auth('c'), call('echo'));
    await tokens(auth('a'), call('echo'));
    expect(minted.map((m) => m.subjectToken)).toEqual(['token-a', 'token-b', 'token-c', 'token-a']);
  });

  it('an exchange that fails rejects (nothing cached), and the lifetime is validated at set-up', async () => {
    const refused = new Error('revoked');
    const { tokens, minted } = source({ fail: refused });
    await expect(tokens(auth('a'), call('echo'))).rejects.toBe(refused);
    await expect(tokens(auth('a'), call('echo'))).rejects.toBe(refused);
    expect(minted).toHaveLength(2);
    expect(() => createUpstreamTokenSource({ audience: 'x', actor: 'y', lifetimeSeconds: 61, mint: async () => ({ accessToken: '', expiresAt: 0 }) })).toThrow(/1-60 seconds/);
  });
});

/** The package's public entry points resolve from the build, as a user's `import` would. */
import { describe, expect, it } from 'vitest';

describe('package exports (package.json "exports")', () => {
  it.each([
    ['mcp-warden', ['createResourceServer', 'createAuthorizationServer', 'MemoryReplayStore', 'OAuthError']],
    ['mcp-warden/resource-server', ['createResourceServer']],
    ['mcp-warden/authorization-server', ['createAuthorizationServer', 'signingKeySource', 'addUser']],
    ['mcp-warden/dpop', ['verifyProof', 'createProof', 'createNonceManager']],
    ['mcp-warden/stores', ['MemoryReplayStore', 'createRedisReplayStore', 'openSqliteAuthorizationServerStores', 'openPostgresAuthorizationServerStores']],
    ['mcp-warden/oauth', ['OAuthError', 'formatChallenge', 'canonicalResourceUri']],
    ['mcp-warden/gateway', ['createGatewayProxy']],
    ['mcp-warden/audit', ['runAudit', 'checkDefinitions', 'renderTerminal', 'renderJson', 'renderSarif', 'renderHtml']],
    ['mcp-warden/client', ['generateDpopKey', 'importDpopKey', 'createDpopFetch', 'createOAuthProvider', 'connectWithAuthorization', 'startLoopbackCallback', 'AuthorizationDeclinedError', 'InsufficientScopeError']],
  ])('%s exports %j', async (specifier, names) => {
    const mod = (await import(specifier)) as Record<string, unknown>;
    for (const name of names) expect(typeof mod[name], `${specifier}#${name}`).toBe('function');
  });
});

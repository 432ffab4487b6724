import { describe, expect, it } from 'vitest';
import { UnauthorizedError as V2UnauthorizedError } from '@modelcontextprotocol/client';
import { UnauthorizedError as V1UnauthorizedError, type OAuthDiscoveryState } from '@modelcontextprotocol/sdk/client/auth.js';
import { connectWithAuthorization } from './connect.js';
import { createOAuthProvider, type McpOAuthProvider, type SdkAuthOptions } from './oauth-provider.js';

const ISSUER = 'https://as.example';
const SERVER = 'https://mcp.example/mcp';
const discovery = {
  authorizationServerUrl: ISSUER,
  authorizationServerMetadata: { issuer: ISSUER, authorization_endpoint: `${ISSUER}/authorize`, token_endpoint: `${ISSUER}/token`, response_types_supported: ['code'], authorization_response_iss_parameter_supported: true },
} as OAuthDiscoveryState;

/**
 * An SDK `auth` as both SDKs behave: without a code it starts the redirect (after discovery) unless
 * a refresh is allowed and possible; with a code it exchanges it. Records what it was asked.
 */
function fakeSdkAuth(calls: SdkAuthOptions[]) {
  return async (provider: McpOAuthProvider, options: SdkAuthOptions): Promise<'AUTHORIZED' | 'REDIRECT'> => {
    calls.push(options);
    if (options.authorizationCode !== undefined) {
      await provider.saveTokens({ access_token: `at-${calls.length}`, token_type: 'Bearer', scope: options.scope ?? 'mcp:basic mcp:write', refresh_token: 'rt' });
      return 'AUTHORIZED';
    }
    const held = await provider.tokens();
    if (held?.refresh_token !== undefined && options.forceReauthorization !== true) {
      await provider.saveTokens({ ...held, access_token: `refreshed-${calls.length}` });
      return 'AUTHORIZED';
    }
    await provider.saveDiscoveryState?.(discovery);
    const state = await provider.state?.();
    await provider.redirectToAuthorization(new URL(`${ISSUER}/authorize?state=${state}&scope=${encodeURIComponent(options.scope ?? '')}`));
    return 'REDIRECT';
  };
}

function provider(calls: SdkAuthOptions[]) {
  return createOAuthProvider({
    redirectUrl: 'http://127.0.0.1:9/callback',
    auth: fakeSdkAuth(calls),
    authorize: async (url) => `http://127.0.0.1:9/callback?code=c-${calls.length}&state=${url.searchParams.get('state')}&iss=${encodeURIComponent(ISSUER)}`,
  });
}

describe('connectWithAuthorization with the v1 and the v2 SDK', () => {
  it('RFC 9207 §2.4: the v2 transport’s finishAuth gets the code and the checked iss, so the SDK checks it again', async () => {
    const calls: SdkAuthOptions[] = [];
    const oauth = provider(calls);
    const finished: unknown[][] = [];
    let attempts = 0;
    const client = {
      async connect() {
        if (++attempts > 1) return;
        await fakeSdkAuth(calls)(oauth, { serverUrl: SERVER });
        throw new V2UnauthorizedError();
      },
    };
    await connectWithAuthorization(client, () => ({ finishAuth: async (...args: unknown[]) => void finished.push(args) }), oauth);
    expect(finished).toEqual([['c-1', ISSUER]]);
    expect(attempts).toBe(2);
  });

  it('the v1 UnauthorizedError is recognised as well; other errors pass through', async () => {
    const calls: SdkAuthOptions[] = [];
    const oauth = provider(calls);
    let attempts = 0;
    const finished: unknown[][] = [];
    const v1 = {
      async connect() {
        if (++attempts > 1) return;
        await fakeSdkAuth(calls)(oauth, { serverUrl: SERVER });
        throw new V1UnauthorizedError();
      },
    };
    await connectWithAuthorization(v1, () => ({ finishAuth: async (...args: unknown[]) => void finished.push(args) }), oauth);
    expect(finished).toHaveLength(1);
    const broken = { connect: async () => Promise.reject(new Error('ECONNREFUSED')) };
    await expect(connectWithAuthorization(broken, () => ({ finishAuth: async () => undefined }), oauth)).rejects.toThrow('ECONNREFUSED');
  });
});

describe('createOAuthProvider({ auth }): the SDK’s own flow runs step-up', () => {
  it('MCP step-up (SEP-2350): a new authorization skips refresh (forceReauthorization) and the code exchange carries iss (RFC 9207)', async () => {
    const calls: SdkAuthOptions[] = [];
    const oauth = provider(calls);
    await oauth.saveTokens({ access_token: 'at-0', token_type: 'Bearer', scope: 'mcp:basic', refresh_token: 'rt' });
    await oauth.reauthorize(SERVER, 'mcp:basic mcp:write');
    expect(calls.map((c) => ({ code: c.authorizationCode, iss: c.iss, force: c.forceReauthorization, scope: c.scope }))).toEqual([
      { code: undefined, iss: undefined, force: true, scope: 'mcp:basic mcp:write' },
      { code: 'c-1', iss: ISSUER, force: undefined, scope: undefined },
    ]);
    expect(oauth.grantedScopes()).toEqual(['mcp:basic', 'mcp:write']);
  });

  it('RFC 6749 §6: after a 401 ({ refresh: true }) a refresh is tried first, and the user is not asked when it works', async () => {
    const calls: SdkAuthOptions[] = [];
    const oauth = provider(calls);
    await oauth.saveTokens({ access_token: 'at-0', token_type: 'Bearer', scope: 'mcp:basic', refresh_token: 'rt' });
    await oauth.reauthorize(SERVER, 'mcp:basic', undefined, { refresh: true });
    expect(calls).toHaveLength(1);
    expect(calls[0]?.forceReauthorization).toBe(false);
    expect((await oauth.tokens())?.access_token).toBe('refreshed-1');
  });

  it('a 401 with no token held runs the whole authorization through the user', async () => {
    const calls: SdkAuthOptions[] = [];
    const oauth = provider(calls);
    await oauth.reauthorize(SERVER, 'mcp:basic', undefined, { refresh: true });
    expect(calls.map((c) => c.authorizationCode)).toEqual([undefined, 'c-1']);
    expect((await oauth.tokens())?.access_token).toBe('at-2');
  });

  it('a value that is not a function is refused at set-up', () => {
    expect(() => createOAuthProvider({ redirectUrl: 'http://127.0.0.1:9/cb', authorize: async (u) => u, auth: 'auth' as never })).toThrow(TypeError);
  });
});

describe('createOAuthProvider under the v2 SDK: DPoP (RFC 9449)', () => {
  it('dpop() answers undefined, so the v2 transport’s own DPoP wrapper passes the request to the kit’s fetch untouched; the key is dpopKey', async () => {
    const { generateDpopKey } = await import('./dpop-key.js');
    const { withDpopFromProvider } = await import('@modelcontextprotocol/client');
    const key = await generateDpopKey();
    const oauth = createOAuthProvider({ redirectUrl: 'http://127.0.0.1:9/cb', authorize: async (u) => u, dpop: key });
    await oauth.saveTokens({ access_token: 'bound', token_type: 'DPoP' });
    expect(oauth.dpop()).toBeUndefined();
    expect(oauth.dpopKey?.thumbprint).toBe(key.thumbprint);
    const seen: Headers[] = [];
    const wrapped = withDpopFromProvider(oauth as never)(async (_input, init) => {
      seen.push(new Headers(init?.headers));
      return new Response(null, { status: 204 });
    });
    await wrapped(SERVER, { method: 'POST', headers: { authorization: 'Bearer bound' } });
    expect(seen[0]?.get('authorization')).toBe('Bearer bound');
    expect(seen[0]?.has('dpop')).toBe(false);
  });
});

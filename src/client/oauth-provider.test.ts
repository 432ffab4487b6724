import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { OAuthDiscoveryState } from '@modelcontextprotocol/sdk/client/auth.js';
import { createOAuthProvider } from './oauth-provider.js';
import { generateDpopKey } from './dpop-key.js';
import { AuthorizationDeclinedError, AuthorizationResponseError } from './errors.js';
import { startLoopbackCallback, type LoopbackCallback } from './loopback-callback.js';

const ISSUER = 'https://as.example';
const discovery = (issParameter: boolean, claimedIssuer = ISSUER): OAuthDiscoveryState =>
  ({
    authorizationServerUrl: ISSUER,
    authorizationServerMetadata: {
      issuer: claimedIssuer,
      authorization_endpoint: `${ISSUER}/authorize`,
      token_endpoint: `${ISSUER}/token`,
      response_types_supported: ['code'],
      authorization_response_iss_parameter_supported: issParameter,
    },
  }) as OAuthDiscoveryState;

/** A provider whose "user" comes back with `answer(state)`. */
async function started(answer: (state: string) => string, options: { issParameter?: boolean; dpop?: boolean; claimedIssuer?: string } = {}) {
  const seen: URL[] = [];
  const provider = createOAuthProvider({
    redirectUrl: 'http://127.0.0.1:9/callback',
    ...(options.dpop && { dpop: await generateDpopKey() }),
    authorize: async (url) => {
      seen.push(url);
      return answer(url.searchParams.get('state') ?? '');
    },
  });
  await provider.saveDiscoveryState?.(discovery(options.issParameter ?? true, options.claimedIssuer));
  const state = await provider.state?.();
  await provider.redirectToAuthorization(new URL(`${ISSUER}/authorize?state=${state}&scope=mcp%3Atools`));
  return { provider, seen };
}

describe('createOAuthProvider: the authorization response', () => {
  it('returns the code when state and iss match (RFC 6749 §4.1.2, RFC 9207 §2.4)', async () => {
    const { provider } = await started((state) => `http://127.0.0.1:9/callback?code=c-1&state=${state}&iss=${encodeURIComponent(ISSUER)}`);
    await expect(provider.waitForAuthorizationCode()).resolves.toBe('c-1');
  });

  it('RFC 6749 §10.12: another state is refused', async () => {
    const { provider } = await started(() => `http://127.0.0.1:9/callback?code=c-1&state=forged&iss=${encodeURIComponent(ISSUER)}`);
    await expect(provider.waitForAuthorizationCode()).rejects.toMatchObject({ code: 'invalid_state' });
  });

  it('RFC 9207 §2.4: a missing iss (when the server promised it) or another issuer is refused', async () => {
    const missing = await started((state) => `http://127.0.0.1:9/callback?code=c&state=${state}`);
    await expect(missing.provider.waitForAuthorizationCode()).rejects.toMatchObject({ code: 'invalid_issuer' });
    const mixUp = await started((state) => `http://127.0.0.1:9/callback?code=c&state=${state}&iss=https%3A%2F%2Fevil.example`, { issParameter: false });
    await expect(mixUp.provider.waitForAuthorizationCode()).rejects.toBeInstanceOf(AuthorizationResponseError);
    const notPromised = await started((state) => `http://127.0.0.1:9/callback?code=c&state=${state}`, { issParameter: false });
    await expect(notPromised.provider.waitForAuthorizationCode()).resolves.toBe('c');
  });

  it('SEP-2468, RFC 8414 §3.3, RFC 9700 §4.4: metadata claiming another issuer (even by a trailing "/") is refused at discovery, before registration', async () => {
    const HONEST = 'https://honest.example';
    await expect(started((state) => `http://127.0.0.1:9/callback?code=c&state=${state}&iss=${encodeURIComponent(HONEST)}`, { claimedIssuer: HONEST })).rejects.toThrow(/calls itself "https:\/\/honest.example" \(RFC 8414 §3.3\)/);
    await expect(started((state) => `http://127.0.0.1:9/callback?code=c&state=${state}`, { claimedIssuer: `${ISSUER}/` })).rejects.toMatchObject({ code: 'invalid_issuer' });
  });

  it('RFC 9207 §2.4: iss is compared as an exact string — a trailing "/" names another issuer', async () => {
    const slash = await started((state) => `http://127.0.0.1:9/callback?code=c&state=${state}&iss=${encodeURIComponent(`${ISSUER}/`)}`);
    await expect(slash.provider.waitForAuthorizationCode()).rejects.toMatchObject({ code: 'invalid_issuer' });
  });

  it('SEP-837: registration metadata says application_type native for a loopback redirect, web for an https one', async () => {
    const native = createOAuthProvider({ redirectUrl: 'http://127.0.0.1:9/callback', authorize: async () => '' });
    expect((native.clientMetadata as Record<string, unknown>).application_type).toBe('native');
    const web = createOAuthProvider({ redirectUrl: 'https://app.example/callback', authorize: async () => '' });
    expect((web.clientMetadata as Record<string, unknown>).application_type).toBe('web');
  });

  it('SEP-2352: discovery is kept through one authorization only, so a moved authorization server is discovered again', async () => {
    const { provider } = await started((state) => `http://127.0.0.1:9/callback?code=c-1&state=${state}&iss=${encodeURIComponent(ISSUER)}`);
    expect(await provider.discoveryState?.()).toBeDefined();
    await provider.waitForAuthorizationCode();
    await provider.saveTokens({ access_token: 'a', token_type: 'Bearer' });
    expect(await provider.discoveryState?.()).toBeUndefined();
  });

  it('RFC 6749 §4.1.2.1: access_denied is AuthorizationDeclinedError; other errors say what the server said', async () => {
    const denied = await started((state) => `http://127.0.0.1:9/callback?error=access_denied&error_description=the+user+said+no&state=${state}&iss=${encodeURIComponent(ISSUER)}`);
    const error = await denied.provider.waitForAuthorizationCode().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthorizationDeclinedError);
    expect((error as Error).message).toBe('authorization was declined: the user said no');
    const scope = await started((state) => `http://127.0.0.1:9/callback?error=invalid_scope&state=${state}&iss=${encodeURIComponent(ISSUER)}`);
    await expect(scope.provider.waitForAuthorizationCode()).rejects.toMatchObject({ code: 'invalid_scope' });
  });

  it('RFC 9449 §10: with a DPoP key the authorization request carries dpop_jkt', async () => {
    const { provider, seen } = await started((state) => `http://127.0.0.1:9/callback?code=c&state=${state}&iss=${encodeURIComponent(ISSUER)}`, { dpop: true });
    await provider.waitForAuthorizationCode();
    expect(seen[0]?.searchParams.get('dpop_jkt')).toBe(provider.dpopKey?.thumbprint);
    expect(provider.clientMetadata).toMatchObject({ dpop_bound_access_tokens: true, token_endpoint_auth_method: 'none', redirect_uris: ['http://127.0.0.1:9/callback'] });
  });

  it('waiting with no authorization in progress is an error, not a hang', async () => {
    const provider = createOAuthProvider({ redirectUrl: 'http://127.0.0.1:9/callback', authorize: async () => 'http://127.0.0.1:9/callback' });
    await expect(provider.waitForAuthorizationCode()).rejects.toThrow(/no authorization is in progress/);
    expect(() => createOAuthProvider({ redirectUrl: 'http://127.0.0.1:9/callback' } as never)).toThrow(TypeError);
  });
});

describe('startLoopbackCallback (RFC 8252 §7.3, §8.3)', () => {
  let callback: LoopbackCallback | undefined;
  afterEach(async () => callback?.close());

  it('listens on 127.0.0.1 on a free port, hands over the response, and answers with a page that holds no script', async () => {
    callback = await startLoopbackCallback();
    expect(callback.redirectUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback$/);
    const waiting = callback.next();
    const page = await fetch(`${callback.redirectUrl}?code=abc&state=s`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toBe("default-src 'none'");
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(await page.text()).not.toContain('<script');
    expect((await waiting).searchParams.get('code')).toBe('abc');
  });

  it('RFC 6749 §10.12: with a state, a forged callback (before or during the wait) is answered 400 and dropped; the real one is returned', async () => {
    callback = await startLoopbackCallback();
    await fetch(`${callback.redirectUrl}?code=attacker&state=forged`); // before anyone waits: queued
    const waiting = callback.next({ state: 'real' });
    const forged = await fetch(`${callback.redirectUrl}?code=attacker2&state=forged`);
    expect(forged.status).toBe(400);
    expect(await forged.text()).toContain('does not belong to a sign-in in progress');
    expect((await fetch(`${callback.redirectUrl}?code=good&state=real`)).status).toBe(200);
    expect((await waiting).searchParams.get('code')).toBe('good');
  });

  it('a Host header the URL parser refuses does not crash the client', async () => {
    callback = await startLoopbackCallback();
    const { port } = new URL(callback.redirectUrl);
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1', () => socket.write('GET /callback?code=x&state=s HTTP/1.1\r\nHost: a b\r\nConnection: close\r\n\r\n'));
      let data = '';
      socket.on('data', (chunk) => (data += chunk.toString()));
      socket.on('end', () => resolve(data));
      socket.on('error', reject);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 (200|400) /);
    expect((await fetch(callback.redirectUrl)).status).toBe(200); // still serving
  });

  it('keeps a response that arrives before anyone waits; other paths and methods get 404', async () => {
    callback = await startLoopbackCallback({ path: '/cb' });
    expect((await fetch(`${callback.redirectUrl}?code=early`)).status).toBe(200);
    expect((await fetch(callback.redirectUrl.replace('/cb', '/other'))).status).toBe(404);
    expect((await fetch(callback.redirectUrl, { method: 'POST' })).status).toBe(404);
    expect((await callback.next()).searchParams.get('code')).toBe('early');
  });

  it('gives up after the timeout with a message', async () => {
    callback = await startLoopbackCallback({ timeoutSeconds: 0.05 });
    await expect(callback.next()).rejects.toThrow(/no authorization response arrived/);
  });
});

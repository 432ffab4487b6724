/**
 * Unmodified MCP SDK clients against Warden in a child process, with a person signing in on the
 * real login and consent pages in headless Chromium: the v1 client's built-in OAuth flow (Bearer),
 * the same flow made DPoP-bound by `mcp-warden/client`, the v2 client's own DPoP against a
 * `dpop: required` resource with nonces, step-up on 403 `insufficient_scope`, and refresh after
 * the access token expires.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError, type OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import type { OAuthClientInformationMixed, OAuthClientMetadata, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import * as v2 from '@modelcontextprotocol/client';
import {
  AuthorizationDeclinedError,
  connectWithAuthorization,
  createDpopFetch,
  createOAuthProvider,
  generateDpopKey,
  InsufficientScopeError,
  startLoopbackCallback,
  type DpopKey,
  type FetchLike,
  type LoopbackCallback,
  type McpOAuthProvider,
} from '../../src/client/index.js';
import { approveInBrowser, browserSupport, launchBrowser } from '../helpers/browser.js';
import { freePort } from '../helpers/free-port.js';
import { spawnWarden, type SpawnedWarden } from '../helpers/spawn-warden.js';
import { parseChallenges } from '../helpers/test-issuer.js';

const support = await browserSupport();

function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()) as Record<string, unknown>;
}

function textOf(result: unknown): string {
  const content = (result as { content?: Array<{ type: string; text?: string }> }).content ?? [];
  return content.map((c) => c.text ?? '').join('');
}

/** Every request a client sent and what came back, for replay and assertions. */
interface Exchange {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string | undefined;
  status: number;
  wwwAuthenticate: string | null;
  dpopNonce: string | null;
}

function recordingFetch(log: Exchange[]): FetchLike {
  return async (input, init = {}) => {
    const request = new Request(input, init);
    const body = typeof init.body === 'string' ? init.body : init.body instanceof URLSearchParams ? init.body.toString() : undefined;
    const response = await fetch(input, init);
    log.push({ url: request.url, method: request.method, headers: Object.fromEntries(request.headers), body, status: response.status, wwwAuthenticate: response.headers.get('www-authenticate'), dpopNonce: response.headers.get('dpop-nonce') });
    return response;
  };
}

/** A plain v1 `OAuthClientProvider`, as an application writes one: everything in memory. */
class PlainProvider implements OAuthClientProvider {
  client?: OAuthClientInformationMixed;
  saved?: OAuthTokens;
  verifier?: string;
  authorizationUrl?: URL;
  sentState?: string;
  constructor(readonly redirectUrl: string) {}
  get clientMetadata(): OAuthClientMetadata {
    return { client_name: 'E2E v1 client', redirect_uris: [this.redirectUrl], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'none' };
  }
  state(): string {
    this.sentState = randomBytes(16).toString('base64url');
    return this.sentState;
  }
  clientInformation() {
    return this.client;
  }
  saveClientInformation(info: OAuthClientInformationMixed) {
    this.client = info;
  }
  tokens() {
    return this.saved;
  }
  saveTokens(tokens: OAuthTokens) {
    this.saved = tokens;
  }
  redirectToAuthorization(url: URL) {
    this.authorizationUrl = url;
  }
  saveCodeVerifier(verifier: string) {
    this.verifier = verifier;
  }
  codeVerifier() {
    return this.verifier as string;
  }
}

describe.skipIf(support.skip)(`real MCP clients against warden start, signing in with Chromium${support.note}`, () => {
  let warden: SpawnedWarden;
  let browser: Browser;
  const callbacks: LoopbackCallback[] = [];
  const clients: Array<{ close(): Promise<void> }> = [];

  beforeAll(async () => {
    [warden, browser] = await Promise.all([spawnWarden({ command: 'start', port: await freePort() }), launchBrowser()]);
  });
  afterAll(async () => {
    for (const client of clients) await client.close().catch(() => undefined);
    for (const callback of callbacks) await callback.close();
    await browser?.close();
    await warden?.stop();
  });

  const user = () => warden.stack.users[0] as { username: string; password: string };
  const resource = () => warden.stack.resources[0]?.url as string;

  async function loopback(): Promise<LoopbackCallback> {
    const callback = await startLoopbackCallback();
    callbacks.push(callback);
    return callback;
  }

  /** A kit provider whose "user" approves (or declines) in a fresh Chromium page. */
  async function kitProvider(options: { dpop?: DpopKey; decisions?: Array<'allow' | 'deny' | { untick: string[] }>; log?: Exchange[]; clientInformation?: OAuthClientInformationMixed }) {
    const callback = await loopback();
    const visits: URL[] = [];
    const context = await browser.newContext();
    const pages: Page[] = [];
    const provider = createOAuthProvider({
      redirectUrl: callback.redirectUrl,
      clientName: 'E2E kit client',
      ...(options.dpop && { dpop: options.dpop }),
      ...(options.log && { fetch: recordingFetch(options.log) }),
      ...(options.clientInformation && { clientInformation: options.clientInformation }),
      async authorize(url) {
        visits.push(url);
        const page = await context.newPage();
        pages.push(page);
        const decision = options.decisions?.[visits.length - 1] ?? 'allow';
        await approveInBrowser(page, url, { ...user(), ...(typeof decision === 'string' ? { decision } : { decision: 'allow', untick: decision.untick }) });
        return callback.next({ state: url.searchParams.get('state') });
      },
    });
    clients.push({ close: () => context.close() });
    return { provider, visits };
  }

  async function connectV1(provider: McpOAuthProvider): Promise<Client> {
    const client = new Client({ name: 'e2e-v1-kit', version: '1.0.0' });
    clients.push(client);
    await connectWithAuthorization(client, () => new StreamableHTTPClientTransport(new URL(resource()), { authProvider: provider, fetch: provider.fetch }), provider);
    return client;
  }

  it('1. v1 client, built-in OAuth (PRM discovery, registration, PKCE, resource), Bearer: tools/list and tools/call', async () => {
    const callback = await loopback();
    const provider = new PlainProvider(callback.redirectUrl);
    const client = new Client({ name: 'e2e-v1', version: '1.0.0' });
    clients.push(client);
    const first = new StreamableHTTPClientTransport(new URL(resource()), { authProvider: provider });
    await expect(client.connect(first)).rejects.toBeInstanceOf(UnauthorizedError);

    const url = provider.authorizationUrl as URL;
    expect(url.origin).toBe(new URL(warden.stack.issuer).origin);
    expect(url.searchParams.get('resource')).toBe(resource());
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(provider.client?.client_id).toMatch(/.+/); // registered dynamically (RFC 7591)

    const page = await browser.newPage();
    const back = await approveInBrowser(page, url, user());
    await page.close();
    const answered = await callback.next();
    expect(answered.href).toBe(back.href);
    expect(back.searchParams.get('state')).toBe(provider.sentState);
    expect(back.searchParams.get('iss')).toBe(warden.stack.issuer); // RFC 9207
    await first.finishAuth(back.searchParams.get('code') as string);

    await client.connect(new StreamableHTTPClientTransport(new URL(resource()), { authProvider: provider }));
    const tools = await client.listTools();
    expect(tools.tools.map((t) => t.name).sort()).toEqual(['add', 'admin_reset', 'echo', 'whoami']);
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'hello through Warden' } }))).toBe('hello through Warden');

    const tokens = provider.saved as OAuthTokens;
    expect(tokens.token_type).toBe('Bearer');
    expect(claimsOf(tokens.access_token)).toMatchObject({ aud: resource(), sub: user().username, scope: 'mcp:tools' });
    expect(claimsOf(tokens.access_token).cnf).toBeUndefined();
  });

  it('2. v1 client with the kit’s DPoP provider: the token is DPoP-bound (RFC 9449 §6), replay and theft are refused (§11.1)', async () => {
    const key = await generateDpopKey();
    const log: Exchange[] = [];
    const { provider, visits } = await kitProvider({ dpop: key, log });
    const client = await connectV1(provider);
    expect(visits).toHaveLength(1);
    expect(visits[0]?.searchParams.get('dpop_jkt')).toBe(key.thumbprint); // §10

    const whoami = JSON.parse(textOf(await client.callTool({ name: 'whoami', arguments: {} }))) as Record<string, unknown>;
    expect(whoami).toMatchObject({ jkt: key.thumbprint, tokenType: 'DPoP', subject: user().username });
    const tokens = (await provider.tokens()) as OAuthTokens;
    expect(tokens.token_type).toBe('DPoP');
    expect(claimsOf(tokens.access_token).cnf).toEqual({ jkt: key.thumbprint });

    // The token request carried a proof; every MCP request used the DPoP scheme with a fresh proof.
    const tokenRequest = log.find((e) => e.url.endsWith('/token') && e.status === 200);
    expect(tokenRequest?.headers.dpop).toBeDefined();
    const mcp = log.filter((e) => e.url === resource() && e.headers.authorization !== undefined);
    expect(mcp.length).toBeGreaterThan(1);
    for (const e of mcp) expect(e.headers.authorization).toMatch(/^DPoP /);
    expect(new Set(mcp.map((e) => e.headers.dpop)).size).toBe(mcp.length);

    // Replaying a captured request, proof and all, is refused.
    const captured = mcp.find((e) => e.body?.includes('"whoami"') && e.status === 200) as Exchange;
    const replay = await fetch(captured.url, { method: 'POST', headers: captured.headers, body: captured.body as string });
    expect(replay.status).toBe(401);
    expect(parseChallenges(replay.headers.get('www-authenticate')).find((c) => c.params.error)?.params.error).toBe('invalid_dpop_proof');

    // The captured token with a proof from another key, or as a Bearer token, is refused.
    const thief = createDpopFetch(fetch, await generateDpopKey());
    const stolen = await thief(captured.url, { method: 'POST', headers: { ...captured.headers, dpop: '' }, body: captured.body as string });
    expect(stolen.status).toBe(401);
    const bearer = await fetch(captured.url, { method: 'POST', headers: { ...captured.headers, authorization: `Bearer ${tokens.access_token}`, dpop: '' }, body: captured.body as string });
    expect(bearer.status).toBe(401);
  });

  it('4. step-up: admin_reset answers 403 with scope=, the user approves in the browser, the call succeeds (MCP 2026-07-28 step-up)', async () => {
    const key = await generateDpopKey();
    const log: Exchange[] = [];
    const { provider, visits } = await kitProvider({ dpop: key, log });
    const client = await connectV1(provider);
    expect(provider.grantedScopes()).toEqual(['mcp:tools']);

    // Two calls refused at once share one visit to the user.
    const both = await Promise.all([client.callTool({ name: 'admin_reset', arguments: {} }), client.callTool({ name: 'admin_reset', arguments: {} })]);
    expect(both.map(textOf)).toEqual(['demo state reset', 'demo state reset']);
    const refused = log.find((e) => e.status === 403) as Exchange;
    const challenge = parseChallenges(refused.wwwAuthenticate).find((c) => c.params.error === 'insufficient_scope');
    expect(challenge?.params.scope?.split(' ').sort()).toEqual(['mcp:admin', 'mcp:tools']);
    expect(visits).toHaveLength(2);
    expect(visits[1]?.searchParams.get('scope')?.split(' ').sort()).toEqual(['mcp:admin', 'mcp:tools']); // the union
    expect(provider.grantedScopes().sort()).toEqual(['mcp:admin', 'mcp:tools']);
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'still works' } }))).toBe('still works');
  });

  it('4. step-up where the user unticks mcp:admin: the second 403 after the retry limit is an InsufficientScopeError, not a loop', async () => {
    const log: Exchange[] = [];
    const { provider, visits } = await kitProvider({ dpop: await generateDpopKey(), decisions: ['allow', { untick: ['mcp:admin'] }], log });
    const client = await connectV1(provider);
    const error = await client.callTool({ name: 'admin_reset', arguments: {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InsufficientScopeError);
    expect(error).toMatchObject({ requiredScope: 'mcp:tools mcp:admin', attempts: 1 });
    expect(visits).toHaveLength(2); // one step-up, then the error: no loop
    expect(log.filter((e) => e.status === 403)).toHaveLength(2);
    expect(provider.grantedScopes()).toEqual(['mcp:tools']);
    // Asking again for the same operation does not send the user back to the consent page.
    await expect(client.callTool({ name: 'admin_reset', arguments: {} })).rejects.toBeInstanceOf(InsufficientScopeError);
    expect(visits).toHaveLength(2);
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'tools still work' } }))).toBe('tools still work');
  });

  it('4. step-up the user declines: the call fails with AuthorizationDeclinedError and the old token keeps working', async () => {
    const { provider, visits } = await kitProvider({ dpop: await generateDpopKey(), decisions: ['allow', 'deny'] });
    const client = await connectV1(provider);
    const call = client.callTool({ name: 'admin_reset', arguments: {} });
    await expect(call).rejects.toBeInstanceOf(AuthorizationDeclinedError);
    expect(visits).toHaveLength(2);
    expect(provider.grantedScopes()).toEqual(['mcp:tools']);
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'after no' } }))).toBe('after no');
  });
});

describe.skipIf(support.skip)(`v2 client with its own DPoP against dpop: required + nonces, signing in with Chromium${support.note}`, () => {
  let warden: SpawnedWarden;
  let browser: Browser;
  let callback: LoopbackCallback;

  beforeAll(async () => {
    const port = await freePort();
    const secret = randomBytes(32).toString('base64url');
    [warden, browser, callback] = await Promise.all([
      spawnWarden({
        port,
        config: {
          publicUrl: `http://127.0.0.1:${port}`,
          storage: { kind: 'memory' },
          nonce: { secret, required: true },
          authorizationServer: { demo: true, dpop: { requireNonce: true } },
          resources: [{ name: 'demo', path: '/mcp', upstream: 'builtin:demo', dpop: 'required' }],
        },
      }),
      launchBrowser(),
      startLoopbackCallback(),
    ]);
  });
  afterAll(async () => {
    await callback?.close();
    await browser?.close();
    await warden?.stop();
  });

  it('3. v2 StreamableHTTPClientTransport with DpopSession (holding the kit’s key): nonce round trips at the token endpoint (RFC 9449 §8) and the resource (§9), then tools/call', async () => {
    const resource = warden.stack.resources[0]?.url as string;
    const user = warden.stack.users[0] as { username: string; password: string };
    const key = await generateDpopKey();
    // Interop: the v2 client signs with the kit's non-extractable key.
    let session = await v2.DpopSession.create({ keyPair: key as unknown as v2.DpopKeyPair });
    expect(session.thumbprint).toBe(key.thumbprint);

    let tokens: v2.OAuthTokens | undefined;
    let client: v2.OAuthClientInformationMixed | undefined;
    let verifier = '';
    let authorizationUrl: URL | undefined;
    const provider: v2.OAuthClientProvider = {
      get redirectUrl() {
        return callback.redirectUrl;
      },
      get clientMetadata() {
        return { client_name: 'E2E v2 client', redirect_uris: [callback.redirectUrl], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'none' };
      },
      clientInformation: () => client,
      saveClientInformation: (info) => void (client = info),
      tokens: () => tokens,
      saveTokens: (t) => void (tokens = t),
      redirectToAuthorization: (url) => void (authorizationUrl = url),
      saveCodeVerifier: (v) => void (verifier = v),
      codeVerifier: () => verifier,
      dpop: () => session,
    };
    const log: Exchange[] = [];
    const transport = () => new v2.StreamableHTTPClientTransport(new URL(resource), { authProvider: provider, fetch: recordingFetch(log) });

    const mcp = new v2.Client({ name: 'e2e-v2', version: '1.0.0' });
    const first = transport();
    await expect(mcp.connect(first)).rejects.toBeInstanceOf(v2.UnauthorizedError);
    const page = await browser.newPage();
    const back = await approveInBrowser(page, authorizationUrl as URL, user);
    await page.close();
    await callback.next();
    await first.finishAuth(back.searchParams);
    await mcp.connect(transport());
    try {
      const whoami = JSON.parse(textOf(await mcp.callTool({ name: 'whoami', arguments: {} }))) as Record<string, unknown>;
      expect(whoami).toMatchObject({ jkt: key.thumbprint, tokenType: 'DPoP' });
    } finally {
      await mcp.close();
    }
    expect(tokens?.token_type).toBe('DPoP');

    // The server's nonce (RFC 9449 §8–9) came with the first 401; every later proof echoes it,
    // at the token endpoint and at the resource, which shares the origin (one nonce per origin).
    const nonce = log[0]?.dpopNonce as string;
    expect(log[0]).toMatchObject({ url: resource, status: 401 });
    expect(nonce).toMatch(/.+/);
    const proofs = log.filter((e) => e.headers.dpop !== undefined);
    expect(proofs.find((e) => e.url.endsWith('/token'))?.status).toBe(200);
    for (const e of proofs) expect(claimsOf(e.headers.dpop as string)).toMatchObject({ nonce, htu: e.url.split('?')[0] });

    // A second client with the same key but no nonce yet: the resource answers use_dpop_nonce and
    // the v2 client signs once more with the nonce (exactly one round trip).
    log.length = 0;
    session = await v2.DpopSession.create({ keyPair: key as unknown as v2.DpopKeyPair });
    const again = new v2.Client({ name: 'e2e-v2-again', version: '1.0.0' });
    await again.connect(transport());
    try {
      expect(textOf(await again.callTool({ name: 'echo', arguments: { text: 'nonce again' } }))).toBe('nonce again');
    } finally {
      await again.close();
    }
    const challenged = log.filter((e) => e.status === 401);
    expect(challenged).toHaveLength(1);
    expect(parseChallenges(challenged[0]?.wwwAuthenticate).find((c) => c.scheme === 'DPoP')?.params.error).toBe('use_dpop_nonce');
    expect(claimsOf(challenged[0]?.headers.dpop as string).nonce).toBeUndefined();
    expect(log[log.indexOf(challenged[0] as Exchange) + 1]).toMatchObject({ status: 200 });
  });

  it('3. interop both ways: a token the kit bound (client_credentials, token-endpoint nonce) is used by the v2 client’s withDpop with the same key', async () => {
    const resource = warden.stack.resources[0]?.url as string;
    const service = warden.stack.clients.find((c) => c.client_secret !== undefined) as { client_id: string; client_secret: string };
    const key = await generateDpopKey();
    const log: Exchange[] = [];
    const issued = await createDpopFetch(recordingFetch(log), key)(`${warden.stack.issuer}/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${service.client_id}:${service.client_secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', resource, scope: 'mcp:tools' }),
    });
    expect(log.map((e) => e.status)).toEqual([400, 200]); // RFC 9449 §8: use_dpop_nonce, then the retry
    const { access_token: token, token_type: type } = (await issued.json()) as { access_token: string; token_type: string };
    expect(type).toBe('DPoP');
    expect(claimsOf(token).cnf).toEqual({ jkt: key.thumbprint });

    const session = await v2.DpopSession.create({ keyPair: key as unknown as v2.DpopKeyPair });
    const mcp = new v2.Client({ name: 'e2e-v2-withDpop', version: '1.0.0' });
    await mcp.connect(new v2.StreamableHTTPClientTransport(new URL(resource), { fetch: v2.withDpop(session, () => token)(fetch) }));
    try {
      const whoami = JSON.parse(textOf(await mcp.callTool({ name: 'whoami', arguments: {} }))) as Record<string, unknown>;
      expect(whoami).toMatchObject({ jkt: key.thumbprint, tokenType: 'DPoP', clientId: service.client_id });
    } finally {
      await mcp.close();
    }
  });
});

describe.skipIf(support.skip)(`refresh after the access token expires, with rotation${support.note}`, () => {
  let warden: SpawnedWarden;
  let browser: Browser;

  beforeAll(async () => {
    const port = await freePort();
    [warden, browser] = await Promise.all([
      spawnWarden({
        port,
        config: {
          publicUrl: `http://127.0.0.1:${port}`,
          storage: { kind: 'memory' },
          clockSkewSeconds: 0,
          authorizationServer: { demo: true, lifetimes: { accessTokenSeconds: 2 } },
          resources: [{ name: 'demo', path: '/mcp', upstream: 'builtin:demo', dpop: 'required' }],
        },
      }),
      launchBrowser(),
    ]);
  });
  afterAll(async () => {
    await browser?.close();
    await warden?.stop();
  });

  it('5. the v1 client refreshes with a proof of the same key (RFC 9449 §5) when the token has expired; the refresh token rotates and the old one is dead', async () => {
    const resource = warden.stack.resources[0]?.url as string;
    const user = warden.stack.users[0] as { username: string; password: string };
    const callback = await startLoopbackCallback();
    const context = await browser.newContext();
    const key = await generateDpopKey();
    const log: Exchange[] = [];
    const provider = createOAuthProvider({
      redirectUrl: callback.redirectUrl,
      dpop: key,
      fetch: recordingFetch(log),
      clientInformation: { client_id: 'demo-cli' }, // the stack's pre-registered public client
      async authorize(url) {
        await approveInBrowser(await context.newPage(), url, user);
        return callback.next({ state: url.searchParams.get('state') });
      },
    });
    const client = new Client({ name: 'e2e-refresh', version: '1.0.0' });
    try {
      await connectWithAuthorization(client, () => new StreamableHTTPClientTransport(new URL(resource), { authProvider: provider, fetch: provider.fetch }), provider);
      const before = (await provider.tokens()) as OAuthTokens;
      expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'one' } }))).toBe('one');

      const exp = claimsOf(before.access_token).exp as number;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, exp * 1000 - Date.now()) + 1100));

      expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'two' } }))).toBe('two');
      const after = (await provider.tokens()) as OAuthTokens;
      expect(after.access_token).not.toBe(before.access_token);
      expect(after.refresh_token).toBeDefined();
      expect(after.refresh_token).not.toBe(before.refresh_token);
      expect(claimsOf(after.access_token).cnf).toEqual({ jkt: key.thumbprint });
      const expired = log.find((e) => e.url === resource && e.status === 401 && /expired/.test(e.wwwAuthenticate ?? ''));
      expect(expired).toBeDefined();
      const refresh = log.find((e) => e.url.endsWith('/token') && e.body?.includes('grant_type=refresh_token'));
      expect(refresh?.status).toBe(200);
      expect(refresh?.headers.dpop).toBeDefined();

      // The rotated-out refresh token is refused (RFC 9700 §4.14.2) — presented by its own key.
      const reuse = await createDpopFetch(fetch, key)(`${warden.stack.issuer}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: before.refresh_token as string, client_id: 'demo-cli' }),
      });
      expect(reuse.status).toBe(400);
      expect(((await reuse.json()) as { error: string }).error).toBe('invalid_grant');
    } finally {
      await client.close();
      await context.close();
      await callback.close();
    }
  });
});

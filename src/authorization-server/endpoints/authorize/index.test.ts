import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { get, pkcePair, postForm, RESOURCE, startAuthorizationServer, type TestAs } from '../../../../test/helpers/login-flow.js';
import { parsePendingAuthorization } from './pending-authorization.js';

let t: TestAs;
beforeAll(async () => {
  t = await startAuthorizationServer();
});
afterAll(async () => {
  await t.close();
});

const { challenge } = pkcePair();
const JKT = 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs';

/** A request that passes every check; tests override or drop (`undefined`) one parameter at a time. */
function valid(overrides: Record<string, string | undefined> = {}): Record<string, string> {
  const params: Record<string, string | undefined> = {
    response_type: 'code',
    client_id: 'app',
    redirect_uri: 'https://app.example/cb',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    resource: RESOURCE,
    scope: 'mcp:tools',
    state: 'st-&=?/+ x',
    ...overrides,
  };
  return Object.fromEntries(Object.entries(params).filter((e): e is [string, string] => e[1] !== undefined));
}

function authorize(params: Record<string, string> | string): Promise<Response> {
  const query = typeof params === 'string' ? params : new URLSearchParams(params).toString();
  return get(t, `/authorize?${query}`);
}

/** The pending request `/authorize` parked, read back from the interaction store. */
async function pendingOf(res: Response) {
  const location = res.headers.get('location') ?? '';
  const id = location.slice(location.lastIndexOf('/') + 1);
  return parsePendingAuthorization(await t.server.context.stores.interactions.get(id, t.server.context.now()));
}

/** Asserts an HTML error page: 400, security headers, and — the point — no redirect at all. */
async function expectErrorPage(res: Response, text: RegExp): Promise<void> {
  expect(res.status).toBe(400);
  expect(res.headers.get('location')).toBeNull();
  expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
  expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
  expect(res.headers.get('x-frame-options')).toBe('DENY');
  expect(res.headers.get('cache-control')).toBe('no-store');
  const html = await res.text();
  expect(html).toMatch(/^<!DOCTYPE html>\n<html lang="en">/);
  expect(html).toMatch(text);
}

/** Asserts an error redirect (RFC 6749 §4.1.2.1) carrying `iss` (RFC 9207 §2). */
function expectErrorRedirect(res: Response, error: string, options: { state?: string | null; redirectUri?: string } = {}): URL {
  expect(res.status).toBe(303);
  const location = res.headers.get('location') ?? '';
  const redirectUri = options.redirectUri ?? 'https://app.example/cb';
  expect(location.startsWith(`${redirectUri}${redirectUri.includes('?') ? '&' : '?'}`)).toBe(true);
  const url = new URL(location);
  expect(url.searchParams.get('error')).toBe(error);
  expect(url.searchParams.get('iss')).toBe(t.server.issuer);
  expect(url.searchParams.get('state')).toBe(options.state === undefined ? 'st-&=?/+ x' : options.state);
  expect(url.searchParams.get('code')).toBeNull();
  const description = url.searchParams.get('error_description') ?? '';
  expect(description).toMatch(/^[\x20-\x21\x23-\x5B\x5D-\x7E]+$/);
  expect(res.headers.get('cache-control')).toBe('no-store');
  return url;
}

describe('/authorize — accepted requests (RFC 6749 §4.1.1, OAuth 2.1 §4.1.1)', () => {
  it('GET: parks the request and 303s to the login page under the issuer', async () => {
    const res = await authorize(valid({ dpop_jkt: JKT }));
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toMatch(new RegExp(`^${t.server.issuer}/interaction/[A-Za-z0-9_-]{43}$`));
    expect(res.headers.get('cache-control')).toBe('no-store');
    const pending = await pendingOf(res);
    expect(pending).toMatchObject({
      clientId: 'app',
      redirectUri: 'https://app.example/cb',
      resource: RESOURCE,
      scopes: ['mcp:tools'],
      codeChallenge: challenge,
      dpopJkt: JKT,
      state: 'st-&=?/+ x',
    });
    expect(pending?.subject).toBeUndefined();
  });

  it('POST with a form body behaves like GET (OAuth 2.1 §4.1.1)', async () => {
    const res = await postForm(t, '/authorize', valid());
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toMatch(/\/interaction\/[A-Za-z0-9_-]{43}$/);
  });

  it('a loopback redirect URI may use any port (RFC 8252 §7.3)', async () => {
    const res = await authorize(valid({ redirect_uri: 'http://127.0.0.1:51234/callback' }));
    expect(res.status).toBe(303);
    expect((await pendingOf(res))?.redirectUri).toBe('http://127.0.0.1:51234/callback');
  });

  it('no scope requested → the resource default scopes (RFC 6749 §3.3)', async () => {
    const res = await authorize(valid({ scope: undefined }));
    expect((await pendingOf(res))?.scopes).toEqual(['mcp:tools']);
  });

  it('the resource is stored in canonical form (RFC 8707 §2)', async () => {
    const res = await authorize(valid({ resource: 'HTTPS://MCP.example/mcp/' }));
    expect((await pendingOf(res))?.resource).toBe(RESOURCE);
  });

  it('each request gets its own interaction id', async () => {
    const a = (await authorize(valid())).headers.get('location');
    const b = (await authorize(valid())).headers.get('location');
    expect(a).not.toBe(b);
  });
});

describe('/authorize — client errors render a page, never a redirect (RFC 6749 §4.1.2.1, RFC 9700 §4.11)', () => {
  it('missing client_id → 400 page', async () => {
    await expectErrorPage(await authorize(valid({ client_id: undefined })), /client_id is missing/);
  });

  it('unknown client_id → 400 page, no Location', async () => {
    await expectErrorPage(await authorize(valid({ client_id: 'nobody' })), /not registered/);
  });

  it('duplicated client_id → 400 page (RFC 6749 §3.1)', async () => {
    await expectErrorPage(await authorize(`${new URLSearchParams(valid())}&client_id=evil`), /more than one client_id/);
  });

  it('POST that is not a form → 400 page', async () => {
    const res = await fetch(`${t.base}/authorize`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/json' }, body: JSON.stringify(valid()) });
    await expectErrorPage(res, /must be sent as a form/);
  });
});

describe('/authorize — redirect_uri must match exactly (RFC 6749 §3.1.2.3, RFC 9700 §4.1.3)', () => {
  it('missing redirect_uri → 400 page', async () => {
    await expectErrorPage(await authorize(valid({ redirect_uri: undefined })), /redirect_uri is missing/);
  });

  it('duplicated redirect_uri → 400 page, even when the first copy is registered', async () => {
    await expectErrorPage(await authorize(`${new URLSearchParams(valid())}&redirect_uri=${encodeURIComponent('https://attacker.example/')}`), /more than one redirect_uri/);
  });

  const nearMisses: Array<[string, string]> = [
    ['trailing slash', 'https://app.example/cb/'],
    ['host case', 'https://APP.example/cb'],
    ['scheme case', 'HTTPS://app.example/cb'],
    ['path case', 'https://app.example/CB'],
    ['percent-encoded path', 'https://app.example/%63b'],
    ['extra query', 'https://app.example/cb?x=1'],
    ['empty query', 'https://app.example/cb?'],
    ['registered query dropped', 'https://app.example/cb2'],
    ['registered query changed', 'https://app.example/cb2?tenant=b'],
    ['registered query extended', 'https://app.example/cb2?tenant=a&x=1'],
    ['userinfo', 'https://user@app.example/cb'],
    ['userinfo with password', 'https://app.example:pw@attacker.example/cb'],
    ['dot segment', 'https://app.example/x/../cb'],
    ['single-dot segment', 'https://app.example/./cb'],
    ['suffix domain', 'https://app.example.attacker.com/cb'],
    ['prefix domain', 'https://evilapp.example/cb'],
    ['explicit default port', 'https://app.example:443/cb'],
    ['other port', 'https://app.example:8443/cb'],
    ['http instead of https', 'http://app.example/cb'],
    ['fragment', 'https://app.example/cb#frag'],
    ['empty fragment', 'https://app.example/cb#'],
    ['loopback, other path', 'http://127.0.0.1:5000/callback/x'],
    ['loopback, other host name', 'http://localhost:5000/callback'],
    ['loopback over https', 'https://127.0.0.1/callback'],
    ['another client’s URI', 'https://evil.example/cb'],
    ['javascript:', 'javascript:alert(1)//https://app.example/cb'],
    ['relative', '/cb'],
    ['private-use scheme, other path', 'com.example.app:/oauth2'],
  ];
  for (const [name, uri] of nearMisses) {
    it(`${name}: ${uri} → 400 page, no Location`, async () => {
      await expectErrorPage(await authorize(valid({ redirect_uri: uri })), /not one this application registered/);
    });
  }

  it('a bad redirect_uri wins over every later error: still a page', async () => {
    await expectErrorPage(await authorize(valid({ redirect_uri: 'https://attacker.example/', response_type: 'token', code_challenge: undefined })), /not one this application registered/);
  });
});

describe('/authorize — errors after the redirect URI is verified are redirected with iss (RFC 9207 §2)', () => {
  it('response_type=token → unsupported_response_type (OAuth 2.1 §4.1.1: no implicit grant)', async () => {
    expectErrorRedirect(await authorize(valid({ response_type: 'token' })), 'unsupported_response_type');
  });

  it('response_type="code id_token" → unsupported_response_type', async () => {
    expectErrorRedirect(await authorize(valid({ response_type: 'code id_token' })), 'unsupported_response_type');
  });

  it('missing response_type → invalid_request (RFC 6749 §4.1.2.1)', async () => {
    expectErrorRedirect(await authorize(valid({ response_type: undefined })), 'invalid_request');
  });

  it('client without the authorization_code grant → unauthorized_client', async () => {
    expectErrorRedirect(await authorize(valid({ client_id: 'm2m', redirect_uri: 'https://m2m.example/cb' })), 'unauthorized_client', { redirectUri: 'https://m2m.example/cb' });
  });

  it('response_mode=fragment → invalid_request', async () => {
    expectErrorRedirect(await authorize(valid({ response_mode: 'fragment' })), 'invalid_request');
  });

  it('the registered query of the redirect URI is kept (RFC 6749 §3.1.2)', async () => {
    const url = expectErrorRedirect(await authorize(valid({ redirect_uri: 'https://app.example/cb2?tenant=a', response_type: 'token' })), 'unsupported_response_type', {
      redirectUri: 'https://app.example/cb2?tenant=a',
    });
    expect(url.searchParams.get('tenant')).toBe('a');
  });

  it('a private-use scheme redirect URI receives the error (RFC 8252 §7.1)', async () => {
    expectErrorRedirect(await authorize(valid({ redirect_uri: 'com.example.app:/oauth', response_type: 'token' })), 'unsupported_response_type', { redirectUri: 'com.example.app:/oauth' });
  });

  it('no state in the request → none in the response (RFC 6749 §4.1.2.1)', async () => {
    expectErrorRedirect(await authorize(valid({ state: undefined, response_type: 'token' })), 'unsupported_response_type', { state: null });
  });
});

describe('/authorize — PKCE is mandatory and S256 only (RFC 7636 §4.3, OAuth 2.1 §4.1.1)', () => {
  it('missing code_challenge → invalid_request', async () => {
    const url = expectErrorRedirect(await authorize(valid({ code_challenge: undefined })), 'invalid_request');
    expect(url.searchParams.get('error_description')).toMatch(/code_challenge is required/);
  });

  it('missing code_challenge_method → invalid_request (never defaults to plain, RFC 7636 §4.3)', async () => {
    const url = expectErrorRedirect(await authorize(valid({ code_challenge_method: undefined })), 'invalid_request');
    expect(url.searchParams.get('error_description')).toMatch(/code_challenge_method is required/);
  });

  it('code_challenge_method=plain → invalid_request', async () => {
    expectErrorRedirect(await authorize(valid({ code_challenge_method: 'plain', code_challenge: 'a'.repeat(43) })), 'invalid_request');
  });

  it('code_challenge_method=s256 (wrong case) → invalid_request', async () => {
    expectErrorRedirect(await authorize(valid({ code_challenge_method: 's256' })), 'invalid_request');
  });

  for (const [name, value] of [
    ['42 characters', challenge.slice(0, 42)],
    ['44 characters', `${challenge}A`],
    ['base64 padding', `${challenge.slice(0, 42)}=`],
    ['standard base64 alphabet', `${challenge.slice(0, 42)}+`],
    ['a 128-character verifier sent as the challenge', 'a'.repeat(128)],
  ] as const) {
    it(`malformed code_challenge (${name}) → invalid_request (RFC 7636 §4.2)`, async () => {
      const url = expectErrorRedirect(await authorize(valid({ code_challenge: value })), 'invalid_request');
      expect(url.searchParams.get('error_description')).toMatch(/base64url SHA-256/);
    });
  }
});

describe('/authorize — resource is required and registered (RFC 8707 §2)', () => {
  it('missing resource → invalid_target', async () => {
    expectErrorRedirect(await authorize(valid({ resource: undefined })), 'invalid_target');
  });

  it('unregistered resource → invalid_target', async () => {
    expectErrorRedirect(await authorize(valid({ resource: 'https://other.example/mcp' })), 'invalid_target');
  });

  it('relative resource → invalid_target', async () => {
    expectErrorRedirect(await authorize(valid({ resource: '/mcp' })), 'invalid_target');
  });

  it('resource with a fragment → invalid_target', async () => {
    expectErrorRedirect(await authorize(valid({ resource: `${RESOURCE}#frag` })), 'invalid_target');
  });

  it('more than one resource → invalid_request (one audience per authorization)', async () => {
    expectErrorRedirect(await authorize(`${new URLSearchParams(valid())}&resource=${encodeURIComponent('https://other.example/mcp')}`), 'invalid_request');
  });
});

describe('/authorize — scope (RFC 6749 §3.3)', () => {
  it('a scope the resource does not accept → invalid_scope', async () => {
    expectErrorRedirect(await authorize(valid({ scope: 'mcp:tools mcp:root' })), 'invalid_scope');
  });

  it('a scope outside the client’s registered scope → invalid_scope', async () => {
    expectErrorRedirect(await authorize(valid({ client_id: 'narrow', redirect_uri: 'https://narrow.example/cb', scope: 'mcp:admin' })), 'invalid_scope', {
      redirectUri: 'https://narrow.example/cb',
    });
  });

  it('a self-registered client’s own `scope` (RFC 7591 §2) is no ceiling: MCP step-up asks for more than it registered with', async () => {
    const reg = await fetch(`${t.base}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_name: 'Step-up client', redirect_uris: ['http://127.0.0.1/callback'], token_endpoint_auth_method: 'none', scope: 'mcp:tools' }),
    });
    expect(reg.status).toBe(201);
    const { client_id: clientId } = (await reg.json()) as { client_id: string };
    const res = await authorize(valid({ client_id: clientId, redirect_uri: 'http://127.0.0.1:4567/callback', scope: 'mcp:tools mcp:admin' }));
    expect(res.status).toBe(303);
    expect((await pendingOf(res))?.scopes).toEqual(['mcp:tools', 'mcp:admin']);
  });

  it('a metadata document’s `scope` stays a ceiling: only the owner of its domain can change it', async () => {
    const now = t.server.context.now();
    const clientId = 'https://tools.example.com/oauth/client.json';
    await t.server.context.stores.clients.put({
      clientId,
      tokenEndpointAuthMethod: 'none',
      redirectUris: ['https://tools.example.com/cb'],
      grantTypes: ['authorization_code'],
      responseTypes: ['code'],
      scope: 'mcp:tools',
      source: 'metadata-document',
      createdAt: now,
      expiresAt: now + 86_400,
    });
    expectErrorRedirect(await authorize(valid({ client_id: clientId, redirect_uri: 'https://tools.example.com/cb', scope: 'mcp:tools mcp:admin' })), 'invalid_scope', {
      redirectUri: 'https://tools.example.com/cb',
    });
  });

  it('a malformed scope token → invalid_scope', async () => {
    expectErrorRedirect(await authorize(valid({ scope: 'mcp:tools "quoted"' })), 'invalid_scope');
  });

  it('both accepted scopes are kept, duplicates collapsed', async () => {
    const res = await authorize(valid({ scope: 'mcp:admin mcp:tools mcp:admin' }));
    expect((await pendingOf(res))?.scopes).toEqual(['mcp:admin', 'mcp:tools']);
  });
});

describe('/authorize — dpop_jkt and duplicated parameters', () => {
  it('malformed dpop_jkt → invalid_request (RFC 9449 §10)', async () => {
    expectErrorRedirect(await authorize(valid({ dpop_jkt: 'not-a-thumbprint' })), 'invalid_request');
  });

  it('duplicated scope → invalid_request (RFC 6749 §3.1)', async () => {
    const url = expectErrorRedirect(await authorize(`${new URLSearchParams(valid())}&scope=mcp:admin`), 'invalid_request');
    expect(url.searchParams.get('error_description')).toMatch(/"scope" is included more than once|'scope' is included more than once/);
  });

  it('duplicated code_challenge_method (PKCE downgrade attempt) → invalid_request', async () => {
    expectErrorRedirect(await authorize(`${new URLSearchParams(valid())}&code_challenge_method=plain`), 'invalid_request');
  });

  it('duplicated state → invalid_request, and no state is echoed', async () => {
    expectErrorRedirect(await authorize(`${new URLSearchParams(valid())}&state=other`), 'invalid_request', { state: null });
  });

  it('unknown parameters are ignored (RFC 6749 §3.1)', async () => {
    expect((await authorize(valid({ prompt: 'consent', ui_locales: 'en' }))).status).toBe(303);
  });
});

describe('/authorize — request size limits (finding M3)', () => {
  /** The raw entry `/authorize` parked, straight from the store (not through the parser). */
  async function rawPendingOf(res: Response): Promise<Record<string, unknown>> {
    const location = res.headers.get('location') ?? '';
    const id = location.slice(location.lastIndexOf('/') + 1);
    return (await t.server.context.stores.interactions.get(id, t.server.context.now())) as Record<string, unknown>;
  }

  /** The page names the error code it would have redirected. */
  async function expectInvalidRequestPage(res: Response): Promise<void> {
    const html = await res.clone().text();
    await expectErrorPage(res, /too large \(at most 8192 bytes\)/);
    expect(html).toContain('Error code: <code>invalid_request</code>');
  }

  /** Runs `send` and returns how many interactions it parked. */
  async function parkedBy(send: () => Promise<Response>): Promise<{ res: Response; parked: number }> {
    const put = vi.spyOn(t.server.context.stores.interactions, 'put');
    try {
      const res = await send();
      return { res, parked: put.mock.calls.length };
    } finally {
      put.mockRestore();
    }
  }

  it('M3 / RFC 6749 §4.1.2.1: a state of 1025 characters → 303 invalid_request to the verified redirect URI, nothing parked', async () => {
    const state = 's'.repeat(1025);
    const { res, parked } = await parkedBy(() => authorize(valid({ state })));
    const url = expectErrorRedirect(res, 'invalid_request', { state });
    expect(url.searchParams.get('error_description')).toBe('state must be at most 1024 characters');
    expect(parked).toBe(0);
  });

  it('M3 / RFC 6749 §4.1.2.1: a state of 1024 characters (counted in characters, not bytes) is accepted and stored', async () => {
    const state = 'é'.repeat(1024);
    const res = await authorize(valid({ state }));
    expect(res.status).toBe(303);
    expect((await pendingOf(res))?.state).toBe(state);
  });

  it('M3 / RFC 6749 §4.1.2.1: a POST with a ~60 KB state → 400 invalid_request page, no redirect, nothing parked', async () => {
    const { res, parked } = await parkedBy(() => postForm(t, '/authorize', valid({ state: 'x'.repeat(60_000) })));
    await expectInvalidRequestPage(res);
    expect(parked).toBe(0);
  });

  it('M3 / RFC 6749 §4.1.2.1: a GET whose query exceeds 8 KiB → 400 invalid_request page (checked before the redirect URI)', async () => {
    const res = await authorize(valid({ padding: 'p'.repeat(8 * 1024) }));
    await expectInvalidRequestPage(res);
  });

  it('M3 / RFC 6749 §4.1.1: a form of exactly 8192 bytes is accepted; 8193 bytes is a 400 invalid_request page', async () => {
    const base = new URLSearchParams(valid()).toString();
    const exact = `${base}&padding=${'p'.repeat(8192 - base.length - '&padding='.length)}`;
    expect(exact.length).toBe(8192);
    expect((await postForm(t, '/authorize', exact)).status).toBe(303);
    await expectInvalidRequestPage(await postForm(t, '/authorize', `${exact}p`));
  });

  it('M3: the parked interaction holds only the validated fields, never the request parameters as sent', async () => {
    const extra = valid({ scope: 'mcp:tools mcp:tools', resource: 'HTTPS://MCP.example/mcp/', prompt: 'consent', login_hint: 'alice', nonce: 'n'.repeat(900), subject: 'alice', authTime: '1', v: '2' });
    const res = await postForm(t, '/authorize', `${new URLSearchParams(extra)}&__proto__=x&constructor=y`);
    expect(res.status).toBe(303);
    const stored = await rawPendingOf(res);
    expect(Object.keys(stored).sort()).toEqual(['clientId', 'codeChallenge', 'expiresAt', 'redirectUri', 'resource', 'scopes', 'state', 'v']);
    expect(stored).toMatchObject({ clientId: 'app', resource: RESOURCE, scopes: ['mcp:tools'], state: 'st-&=?/+ x' });
  });

  it('M3: a stored entry with an over-long state (from anywhere) is not trusted when read back', () => {
    const entry = { v: 1, clientId: 'app', redirectUri: 'https://app.example/cb', resource: RESOURCE, scopes: [], codeChallenge: challenge, expiresAt: 1 };
    expect(parsePendingAuthorization({ ...entry, state: 'x'.repeat(1024) })?.state).toHaveLength(1024);
    expect(parsePendingAuthorization({ ...entry, state: 'x'.repeat(1025) })).toBeUndefined();
  });
});

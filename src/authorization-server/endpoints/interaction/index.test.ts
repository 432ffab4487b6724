import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  cookiePair,
  csrfOf,
  get,
  PASSWORD,
  pkcePair,
  postForm,
  RESOURCE,
  startAuthorizationServer,
  type TestAs,
} from '../../../../test/helpers/login-flow.js';
import { sha256Base64url } from '../../pkce.js';
import { removeUser, addUser } from '../../users.js';
import { BAD_CREDENTIALS_MESSAGE, EXPIRED_MESSAGE, MAX_LOGIN_ATTEMPTS, revokeConsent } from './index.js';

let t: TestAs;
// A fresh server per test: sign-in attempts are also limited per account, across interactions.
beforeEach(async () => {
  t = await startAuthorizationServer();
});
afterEach(async () => {
  await t.close();
});

const JKT = 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs';

interface Started {
  url: string;
  verifier: string;
}

/** Sends an authorization request and returns the login page URL it redirects to. */
async function begin(as: TestAs, overrides: Record<string, string> = {}): Promise<Started> {
  const { verifier, challenge } = pkcePair();
  const params = new URLSearchParams({
    response_type: 'code',
    client_id: 'app',
    redirect_uri: 'https://app.example/cb',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    resource: RESOURCE,
    scope: 'mcp:tools',
    state: 'state-123',
    ...overrides,
  });
  const res = await get(as, `/authorize?${params}`);
  expect(res.status).toBe(303);
  return { url: res.headers.get('location') ?? '', verifier };
}

/** GETs the page and POSTs its form with `fields` (the page's own CSRF token unless given). */
async function submit(as: TestAs, url: string, fields: Record<string, string>, cookie?: string): Promise<Response> {
  const page = await get(as, url, cookie);
  expect(page.status).toBe(200);
  return postForm(as, url, { csrf: csrfOf(await page.text()), ...fields }, cookie);
}

async function login(as: TestAs, url: string, username = 'alice', password = PASSWORD, cookie?: string): Promise<Response> {
  return submit(as, url, { action: 'login', username, password }, cookie);
}

/** Parses the code redirect, asserting `state` and `iss` (RFC 6749 §4.1.2, RFC 9207 §2). */
function codeOf(as: TestAs, res: Response, state = 'state-123'): string {
  expect(res.status).toBe(303);
  const url = new URL(res.headers.get('location') ?? '');
  expect(`${url.origin}${url.pathname}`).toBe('https://app.example/cb');
  expect(url.searchParams.get('state')).toBe(state);
  expect(url.searchParams.get('iss')).toBe(as.server.issuer);
  expect(url.searchParams.get('error')).toBeNull();
  const code = url.searchParams.get('code') ?? '';
  expect(code).toMatch(/^[A-Za-z0-9_-]{43}$/);
  return code;
}

async function expectExpiredPage(res: Response): Promise<void> {
  expect(res.status).toBe(400);
  expect(res.headers.get('location')).toBeNull();
  expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
  expect(await res.text()).toContain('This sign-in has expired or was already used.');
}

/** Signs alice in on a fresh browser and gives consent; returns her session cookie. */
async function aliceSession(as: TestAs): Promise<string> {
  const { url } = await begin(as);
  const res = await login(as, url);
  const cookie = cookiePair(res.headers.get('set-cookie') ?? '');
  if (res.status === 200) codeOf(as, await postForm(as, url, { csrf: csrfOf(await res.text()), action: 'allow' }, cookie));
  return cookie;
}

describe('login and consent — the whole flow (RFC 6749 §4.1)', () => {
  it('login page → consent page → Allow → code bound to client, redirect URI, resource, PKCE and dpop_jkt', async () => {
    const { url } = await begin(t, { client_id: 'app', dpop_jkt: JKT, scope: 'mcp:tools mcp:admin' });
    expect(url).toMatch(new RegExp(`^${t.server.issuer}/interaction/[A-Za-z0-9_-]{43}$`));

    const page = await get(t, url);
    expect(page.status).toBe(200);
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("default-src 'none'");
    // Chrome applies form-action to the redirect after submit (w3c/webappsec-csp#8): it would block the code.
    expect(csp).not.toContain('form-action');
    // no-referrer would make browsers send `Origin: null` with the form POST.
    expect(page.headers.get('referrer-policy')).toBe('same-origin');
    const html = await page.text();
    expect(html).toContain('<html lang="en">');
    expect(html).toContain('<main>');
    expect(html).toContain('<label for="username">Username</label>');
    expect(html).toContain('<label for="password">Password</label>');
    expect(html).toContain('Example App');
    expect(html).toContain('app.example');
    expect(html).toContain('Demo MCP');
    expect(html).toContain(RESOURCE);
    expect(html).toContain('<code>mcp:admin</code>');
    expect(html).not.toContain('<script');
    expect(html.indexOf('value="login"')).toBeLessThan(html.indexOf('value="deny"'));

    const loggedIn = await postForm(t, url, { csrf: csrfOf(html), action: 'login', username: 'alice', password: PASSWORD });
    expect(loggedIn.status).toBe(200);
    const cookie = cookiePair(loggedIn.headers.get('set-cookie') ?? '');
    const consent = await loggedIn.text();
    expect(consent).toContain('Allow access?');
    expect(consent).toContain('<strong>alice</strong>');
    expect(consent).toContain('value="allow"');

    const done = await postForm(t, url, { csrf: csrfOf(consent), action: 'allow' }, cookie);
    const code = codeOf(t, done);
    const consumed = await t.server.context.stores.codes.consume(sha256Base64url(code), t.server.context.now());
    expect(consumed.state).toBe('fresh');
    if (consumed.state !== 'fresh') return;
    expect(consumed.code).toMatchObject({
      clientId: 'app',
      redirectUri: 'https://app.example/cb',
      resource: RESOURCE,
      scopes: ['mcp:tools', 'mcp:admin'],
      subject: 'alice',
      dpopJkt: JKT,
    });
    expect(consumed.code.grantId).toMatch(/^[0-9a-f-]{36}$/);
    expect(consumed.code.expiresAt - t.server.context.now()).toBeGreaterThan(50);
    expect(consumed.code.expiresAt - t.server.context.now()).toBeLessThanOrEqual(60);
    expect(await t.server.context.stores.consents.get('alice', 'app', RESOURCE)).toMatchObject({ scopes: ['mcp:tools', 'mcp:admin'] });

    const events = t.audits.map((e) => e.type);
    expect(events).toContain('login.succeeded');
    expect(events).toContain('consent.given');
    // Never a password or a code in an audit event.
    expect(JSON.stringify(t.audits)).not.toContain(PASSWORD);
    expect(JSON.stringify(t.audits)).not.toContain(code);
  });

  it('RFC 7591 §3: a dynamically registered client that completes an authorization is marked used (it no longer expires)', async () => {
    const stores = t.server.context.stores;
    const app = await stores.clients.get('app');
    await stores.clients.put({ ...app!, clientId: 'registered-app', source: 'registered' });
    const { url } = await begin(t, { client_id: 'registered-app' });
    const cookie = cookiePair((await login(t, url)).headers.get('set-cookie') ?? '');
    expect((await stores.clients.get('registered-app'))?.usedAt).toBeUndefined();
    codeOf(t, await submit(t, url, { action: 'allow' }, cookie));
    expect((await stores.clients.get('registered-app'))?.usedAt).toBeTypeOf('number');
  });

  it('the code redeems once at /token with the PKCE verifier (RFC 7636 §4.5)', async () => {
    const { url, verifier } = await begin(t, { scope: 'mcp:tools' });
    const loggedIn = await login(t, url, 'bob');
    const cookie = cookiePair(loggedIn.headers.get('set-cookie') ?? '');
    const code = codeOf(t, loggedIn.status === 303 ? loggedIn : await postForm(t, url, { csrf: csrfOf(await loggedIn.text()), action: 'allow' }, cookie));
    const token = await postForm(t, '/token', { grant_type: 'authorization_code', client_id: 'app', code, redirect_uri: 'https://app.example/cb', code_verifier: verifier });
    expect(token.status).toBe(200);
    const body = (await token.json()) as Record<string, unknown>;
    expect(typeof body.access_token).toBe('string');
  });

  it('the registered query of the redirect URI is kept when the code is added (RFC 6749 §3.1.2)', async () => {
    const { url } = await begin(t, { redirect_uri: 'https://app.example/cb2?tenant=a' });
    const consent = await login(t, url, 'bob');
    const cookie = cookiePair(consent.headers.get('set-cookie') ?? '');
    const html = consent.status === 200 ? await consent.text() : '';
    const res = consent.status === 303 ? consent : await postForm(t, url, { csrf: csrfOf(html), action: 'allow' }, cookie);
    expect(res.headers.get('location')).toMatch(/^https:\/\/app\.example\/cb2\?tenant=a&code=[A-Za-z0-9_-]{43}&state=state-123&iss=/);
  });
});

describe('remembered consent (per user + client + resource + scopes)', () => {
  it('a browser with a session and a remembered consent gets the code without any page', async () => {
    const cookie = await aliceSession(t);
    const { url } = await begin(t);
    codeOf(t, await get(t, url, cookie));
  });

  it('a new browser signing in skips the consent page when consent is remembered', async () => {
    await aliceSession(t);
    const { url } = await begin(t);
    const res = await login(t, url);
    codeOf(t, res);
    expect(res.headers.get('set-cookie')).toMatch(/^warden_session=/);
  });

  it('asking for more than was consented shows the consent page again', async () => {
    await revokeConsent(t.server.context, 'bob', 'app');
    const { url: first } = await begin(t, { scope: 'mcp:tools' });
    const consent = await login(t, first, 'bob');
    const cookie = cookiePair(consent.headers.get('set-cookie') ?? '');
    codeOf(t, await postForm(t, first, { csrf: csrfOf(await consent.text()), action: 'allow' }, cookie));
    const { url } = await begin(t, { scope: 'mcp:tools mcp:admin' });
    const page = await get(t, url, cookie);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Allow access?');
  });

  it('revokeConsent forgets it: the next authorization asks again', async () => {
    const cookie = await aliceSession(t);
    expect(await revokeConsent(t.server.context, 'alice', 'app')).toBeGreaterThan(0);
    const { url } = await begin(t);
    const page = await get(t, url, cookie);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Allow access?');
  });

  it('a session cookie without remembered consent goes straight to the consent page', async () => {
    const cookie = await aliceSession(t);
    await revokeConsent(t.server.context, 'alice', 'app');
    const { url } = await begin(t);
    const html = await (await get(t, url, cookie)).text();
    expect(html).toContain('Allow access?');
    expect(html).not.toContain('name="password"');
  });
});

describe('choosing permissions on the consent page (RFC 6749 §3.3)', () => {
  async function consentPage(scope: string) {
    await revokeConsent(t.server.context, 'alice', 'app');
    const { url } = await begin(t, { scope });
    const consent = await login(t, url);
    expect(consent.status).toBe(200);
    return { url, html: await consent.text(), cookie: cookiePair(consent.headers.get('set-cookie') ?? '') };
  }
  async function codeScopes(res: Response): Promise<string[]> {
    const consumed = await t.server.context.stores.codes.consume(sha256Base64url(codeOf(t, res)), t.server.context.now());
    return consumed.state === 'fresh' ? consumed.code.scopes : [];
  }

  it('every requested scope is a ticked, labelled checkbox inside the form', async () => {
    const { html } = await consentPage('mcp:tools mcp:admin');
    expect(html).toContain('<input type="hidden" name="scopes" value="chosen">');
    expect(html).toContain('<input type="checkbox" id="scope-0" name="scope.0" value="mcp:tools" checked><label for="scope-0"><code>mcp:tools</code></label>');
    expect(html).toContain('<input type="checkbox" id="scope-1" name="scope.1" value="mcp:admin" checked><label for="scope-1"><code>mcp:admin</code></label>');
    expect(html.indexOf('name="scope.0"')).toBeGreaterThan(html.indexOf('<form'));
    expect(html.indexOf('value="allow"')).toBeGreaterThan(html.indexOf('name="scope.1"'));
  });

  it("each checkbox label shows the resource's scope description, HTML-escaped; scopes without one show only the name", async () => {
    const hostile = 'Reset <script>alert("x")</script> & wipe';
    t.server.context.resources.replace(t.server.context.resources.list().map((r) => ({ ...r, scopeDescriptions: { 'mcp:tools': 'Use the tools', 'mcp:admin': hostile } })));
    const { html } = await consentPage('mcp:tools mcp:admin');
    // The label stays the scope name (the checkbox's accessible name); the description describes it.
    expect(html).toContain('<input type="checkbox" id="scope-0" name="scope.0" value="mcp:tools" checked aria-describedby="scope-0-description"><label for="scope-0"><code>mcp:tools</code></label> <span class="scope-description" id="scope-0-description">Use the tools</span>');
    expect(html).toContain('<label for="scope-1"><code>mcp:admin</code></label> <span class="scope-description" id="scope-1-description">Reset &#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62; &#38; wipe</span>');
    expect(html).not.toContain('<script>alert');
    t.server.context.resources.replace(t.server.context.resources.list().map((r) => ({ ...r, scopeDescriptions: { 'mcp:admin': 'Administer' } })));
    const { html: partial } = await consentPage('mcp:tools mcp:admin');
    expect(partial).toContain('<input type="checkbox" id="scope-0" name="scope.0" value="mcp:tools" checked><label for="scope-0"><code>mcp:tools</code></label></div>');
    expect(partial).toContain('<label for="scope-1"><code>mcp:admin</code></label> <span class="scope-description" id="scope-1-description">Administer</span>');
  });

  it('an unticked scope is not granted, not remembered, and the next request for it asks again', async () => {
    const { url, html, cookie } = await consentPage('mcp:tools mcp:admin');
    const res = await postForm(t, url, { csrf: csrfOf(html), action: 'allow', scopes: 'chosen', 'scope.0': 'mcp:tools' }, cookie);
    expect(await codeScopes(res)).toEqual(['mcp:tools']);
    expect(await t.server.context.stores.consents.get('alice', 'app', RESOURCE)).toMatchObject({ scopes: ['mcp:tools'] });
    expect(t.audits.filter((a) => a.type === 'consent.given').at(-1)).toMatchObject({ scopes: ['mcp:tools'] });
    const again = await get(t, (await begin(t, { scope: 'mcp:tools mcp:admin' })).url, cookie);
    expect(await again.text()).toContain('Allow access?');
    codeOf(t, await get(t, (await begin(t, { scope: 'mcp:tools' })).url, cookie));
  });

  it('a ticked value that was never requested is ignored (no widening by editing the form)', async () => {
    const { url, html, cookie } = await consentPage('mcp:tools');
    const res = await postForm(t, url, { csrf: csrfOf(html), action: 'allow', scopes: 'chosen', 'scope.0': 'mcp:tools', 'scope.1': 'mcp:admin' }, cookie);
    expect(await codeScopes(res)).toEqual(['mcp:tools']);
  });

  it('nothing ticked → access_denied with state and iss, nothing remembered', async () => {
    const { url, html, cookie } = await consentPage('mcp:tools mcp:admin');
    const res = await postForm(t, url, { csrf: csrfOf(html), action: 'allow', scopes: 'chosen' }, cookie);
    expect(res.status).toBe(303);
    const location = new URL(res.headers.get('location') ?? '');
    expect(location.searchParams.get('error')).toBe('access_denied');
    expect(location.searchParams.get('state')).toBe('state-123');
    expect(location.searchParams.get('iss')).toBe(t.server.issuer);
    expect(await t.server.context.stores.consents.get('alice', 'app', RESOURCE)).toBeUndefined();
  });
});

describe('deny (RFC 6749 §4.1.2.1 access_denied)', () => {
  it('Deny on the consent page → access_denied with state and iss, no code, nothing remembered', async () => {
    await revokeConsent(t.server.context, 'alice', 'app');
    const { url } = await begin(t);
    const consent = await login(t, url);
    const res = await postForm(t, url, { csrf: csrfOf(await consent.text()), action: 'deny' });
    expect(res.status).toBe(303);
    const location = new URL(res.headers.get('location') ?? '');
    expect(location.searchParams.get('error')).toBe('access_denied');
    expect(location.searchParams.get('state')).toBe('state-123');
    expect(location.searchParams.get('iss')).toBe(t.server.issuer);
    expect(location.searchParams.get('code')).toBeNull();
    expect(await t.server.context.stores.consents.get('alice', 'app', RESOURCE)).toBeUndefined();
    await expectExpiredPage(await get(t, url));
  });

  it('Cancel on the login form → access_denied without credentials', async () => {
    const { url } = await begin(t);
    const res = await submit(t, url, { action: 'deny' });
    expect(new URL(res.headers.get('location') ?? '').searchParams.get('error')).toBe('access_denied');
  });
});

describe('CSRF and single use (RFC 9700 §4.7, §2.1.1)', () => {
  it('a POST without the CSRF token → 403, and the interaction survives', async () => {
    const { url } = await begin(t);
    const res = await postForm(t, url, { action: 'login', username: 'alice', password: PASSWORD });
    expect(res.status).toBe(403);
    expect(res.headers.get('set-cookie')).toBeNull();
    expect(await res.text()).toContain('not submitted from this sign-in page');
    expect((await get(t, url)).status).toBe(200);
  });

  it('a wrong CSRF token → 403', async () => {
    const { url } = await begin(t);
    const res = await postForm(t, url, { csrf: 'A'.repeat(43), action: 'login', username: 'alice', password: PASSWORD });
    expect(res.status).toBe(403);
  });

  it('the CSRF token of another interaction → 403', async () => {
    const a = await begin(t);
    const b = await begin(t);
    const csrfA = csrfOf(await (await get(t, a.url)).text());
    const res = await postForm(t, b.url, { csrf: csrfA, action: 'deny' });
    expect(res.status).toBe(403);
  });

  it('a replayed Allow finds the interaction used: 400 page, one code only', async () => {
    await revokeConsent(t.server.context, 'alice', 'app');
    const { url } = await begin(t);
    const consent = await login(t, url);
    const cookie = cookiePair(consent.headers.get('set-cookie') ?? '');
    const form = { csrf: csrfOf(await consent.text()), action: 'allow' };
    codeOf(t, await postForm(t, url, form, cookie));
    await expectExpiredPage(await postForm(t, url, form, cookie));
    await expectExpiredPage(await get(t, url, cookie));
  });

  it('20 concurrent Allows: exactly one code', async () => {
    await revokeConsent(t.server.context, 'alice', 'app');
    const { url } = await begin(t);
    const consent = await login(t, url);
    const cookie = cookiePair(consent.headers.get('set-cookie') ?? '');
    const form = { csrf: csrfOf(await consent.text()), action: 'allow' };
    const results = await Promise.all(Array.from({ length: 20 }, () => postForm(t, url, form, cookie)));
    expect(results.filter((r) => r.status === 303)).toHaveLength(1);
    expect(results.filter((r) => r.status === 400)).toHaveLength(19);
  });

  it('holding the interaction URL is not enough: without the session cookie, no consent page and no code', async () => {
    await revokeConsent(t.server.context, 'alice', 'app');
    const { url } = await begin(t);
    expect((await login(t, url)).status).toBe(200);
    // Someone else with the URL (no cookie) sees the login form, not alice's consent page.
    const stranger = await get(t, url);
    const html = await stranger.text();
    expect(html).toContain('name="password"');
    expect(html).not.toContain('alice');
    const res = await postForm(t, url, { csrf: csrfOf(html), action: 'allow' });
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
    expect(await res.text()).toContain('Sign in to continue.');
    expect(await t.server.context.stores.consents.get('alice', 'app', RESOURCE)).toBeUndefined();
  });

  it('Allow from a browser now signed in as someone else asks again, as that user', async () => {
    await revokeConsent(t.server.context, 'alice', 'app');
    await revokeConsent(t.server.context, 'bob', 'app');
    const { url } = await begin(t);
    const consent = await login(t, url, 'alice');
    const csrf = csrfOf(await consent.text());
    const { url: other } = await begin(t);
    const bobCookie = cookiePair((await login(t, other, 'bob')).headers.get('set-cookie') ?? '');
    const res = await postForm(t, url, { csrf, action: 'allow' }, bobCookie);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('<strong>bob</strong>');
    expect(await t.server.context.stores.consents.get('alice', 'app', RESOURCE)).toBeUndefined();
  });

  it('a cross-site POST (Origin of another site) → 403 before the form is read', async () => {
    const { url } = await begin(t);
    const csrf = csrfOf(await (await get(t, url)).text());
    const res = await fetch(url.replace(t.server.issuer, t.base), {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://attacker.example' },
      body: new URLSearchParams({ csrf, action: 'login', username: 'alice', password: PASSWORD }).toString(),
    });
    expect(res.status).toBe(403);
    expect(res.headers.get('set-cookie')).toBeNull();
  });

  it('Sec-Fetch-Site: cross-site → 403; same-origin with the issuer Origin is accepted', async () => {
    const { url } = await begin(t);
    const csrf = csrfOf(await (await get(t, url)).text());
    const post = (headers: Record<string, string>) =>
      fetch(url.replace(t.server.issuer, t.base), {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
        body: new URLSearchParams({ csrf, action: 'deny' }).toString(),
      });
    expect((await post({ 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    expect((await post({ 'sec-fetch-site': 'same-site' })).status).toBe(403);
    expect((await post({ 'sec-fetch-site': 'cross-site', origin: 'null' })).status).toBe(403);
    expect((await post({ 'sec-fetch-site': 'same-origin', origin: new URL(t.server.issuer).origin })).status).toBe(303);
  });

  /** POSTs the interaction's form with exactly `headers` (no Origin / Sec-Fetch-Site unless given). */
  async function rawPost(url: string, fields: Record<string, string>, headers: Record<string, string>): Promise<Response> {
    const csrf = csrfOf(await (await get(t, url)).text());
    return fetch(url.replace(t.server.issuer, t.base), {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams({ csrf, ...fields }).toString(),
    });
  }

  it('L5 / RFC 6749 §10.12: Origin: null without Sec-Fetch-Site (sandboxed-iframe login CSRF) → 403, no session cookie', async () => {
    const { url } = await begin(t);
    const res = await rawPost(url, { action: 'login', username: 'alice', password: PASSWORD }, { origin: 'null' });
    expect(res.status).toBe(403);
    expect(res.headers.get('set-cookie')).toBeNull();
    expect(await res.text()).toContain('This form was not submitted from this sign-in page.');
    // Nothing was consumed: the interaction still works from its own page.
    expect((await get(t, url)).status).toBe(200);
  });

  it('L5 / RFC 6749 §10.12: Origin: null with Sec-Fetch-Site: same-origin is accepted (303 access_denied for Deny)', async () => {
    const { url } = await begin(t);
    const res = await rawPost(url, { action: 'deny' }, { origin: 'null', 'sec-fetch-site': 'same-origin' });
    expect(res.status).toBe(303);
    expect(new URL(res.headers.get('location') ?? '').searchParams.get('error')).toBe('access_denied');
  });

  it('L5: a POST with neither Origin nor Sec-Fetch-Site (not a browser) is still accepted (303 access_denied for Deny)', async () => {
    const { url } = await begin(t);
    const res = await rawPost(url, { action: 'deny' }, {});
    expect(res.status).toBe(303);
    expect(new URL(res.headers.get('location') ?? '').searchParams.get('error')).toBe('access_denied');
  });

  it('an unknown interaction id → 400 page', async () => {
    await expectExpiredPage(await get(t, `/interaction/${'x'.repeat(43)}`));
  });

  for (const path of ['/interaction/short', '/interaction/', `/interaction/${'x'.repeat(43)}/extra`, `/interaction/${'x'.repeat(42)}%2F`]) {
    it(`a malformed interaction path ${path} → 400 page`, async () => {
      await expectExpiredPage(await get(t, path));
    });
  }

  it('a form with a duplicated field → 400 page (RFC 6749 §3.1)', async () => {
    const { url } = await begin(t);
    const csrf = csrfOf(await (await get(t, url)).text());
    const res = await postForm(t, url, `csrf=${csrf}&action=login&username=alice&username=bob&password=x`);
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
  });

  it('an unknown action → 400 page', async () => {
    const res = await submit(t, (await begin(t)).url, { action: 'grant-everything' });
    expect(res.status).toBe(400);
  });

  it('Allow before signing in → the login form again, no code', async () => {
    const { url } = await begin(t);
    const res = await submit(t, url, { action: 'allow' });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('name="password"');
    expect((await get(t, url)).status).toBe(200);
  });
});

describe('login failures', () => {
  it('a wrong password and an unknown user get the same status and message', async () => {
    const { url } = await begin(t);
    const wrong = await login(t, url, 'alice', 'not the password');
    const unknown = await login(t, url, 'mallory', 'not the password');
    expect(wrong.status).toBe(400);
    expect(unknown.status).toBe(400);
    expect(wrong.headers.get('set-cookie')).toBeNull();
    const a = (await wrong.text()).replace('value="alice"', 'value="U"');
    const b = (await unknown.text()).replace('value="mallory"', 'value="U"');
    expect(a).toBe(b);
    expect(a).toContain(`<p class="alert" role="alert">${BAD_CREDENTIALS_MESSAGE}</p>`);
    const failures = t.audits.filter((e) => e.type === 'login.failed');
    expect(failures.some((e) => e.subject === 'alice')).toBe(true);
    expect(failures.some((e) => e.subject === 'mallory')).toBe(false);
    expect(JSON.stringify(t.audits)).not.toContain('not the password');
  });

  it(`${MAX_LOGIN_ATTEMPTS} failed attempts burn the interaction (429); the right password then finds it gone`, async () => {
    const { url } = await begin(t);
    const csrf = csrfOf(await (await get(t, url)).text());
    for (let i = 1; i < MAX_LOGIN_ATTEMPTS; i += 1) {
      expect((await postForm(t, url, { csrf, action: 'login', username: 'alice', password: `wrong-${i}` })).status).toBe(400);
    }
    const last = await postForm(t, url, { csrf, action: 'login', username: 'alice', password: 'wrong-last' });
    expect(last.status).toBe(429);
    expect(await last.text()).toContain('Too many failed sign-in attempts');
    await expectExpiredPage(await postForm(t, url, { csrf, action: 'login', username: 'alice', password: PASSWORD }));
  });

  it('concurrent guesses cannot exceed the limit', async () => {
    const { url } = await begin(t);
    const csrf = csrfOf(await (await get(t, url)).text());
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => postForm(t, url, { csrf, action: 'login', username: 'alice', password: `guess-${i}` })));
    const bodies = await Promise.all(results.map((r) => r.text()));
    // Only a claimed attempt re-renders the form; the rest are refused (429: throttled, or the
    // interaction burned) or find the burned interaction gone (400 expired).
    expect(bodies.filter((b) => b.includes(BAD_CREDENTIALS_MESSAGE)).length).toBe(MAX_LOGIN_ATTEMPTS - 1);
    expect(results.every((r, i) => r.status === 429 || (r.status === 400 && (bodies[i]?.includes(BAD_CREDENTIALS_MESSAGE) === true || bodies[i]?.includes(EXPIRED_MESSAGE) === true)))).toBe(true);
    expect(results.filter((r) => r.status === 429).length).toBeGreaterThanOrEqual(1);
    await expectExpiredPage(await get(t, url));
  });

  it('a removed user’s session no longer counts: the login form is shown', async () => {
    await addUser(t.server.context, 'carol', PASSWORD);
    const { url: first } = await begin(t);
    const cookie = cookiePair((await login(t, first, 'carol')).headers.get('set-cookie') ?? '');
    await removeUser(t.server.context, 'carol');
    const { url } = await begin(t);
    expect(await (await get(t, url, cookie)).text()).toContain('name="password"');
  });

  it('a tampered session cookie is ignored', async () => {
    const cookie = await aliceSession(t);
    const [name, value] = cookie.split('=') as [string, string];
    const parts = value.split('.');
    parts[0] = Buffer.from('bob').toString('base64url');
    const { url } = await begin(t);
    expect(await (await get(t, url, `${name}=${parts.join('.')}`)).text()).toContain('name="password"');
  });

  it('two session cookies (one possibly planted) are both ignored', async () => {
    const cookie = await aliceSession(t);
    const { url } = await begin(t);
    expect(await (await get(t, url, `${cookie}; ${cookie}`)).text()).toContain('name="password"');
  });

  it('"Use a different account" signs the browser out and shows the login form', async () => {
    const cookie = await aliceSession(t);
    await revokeConsent(t.server.context, 'alice', 'app');
    const { url } = await begin(t);
    const res = await submit(t, url, { action: 'switch' }, cookie);
    expect(res.status).toBe(200);
    expect(res.headers.get('set-cookie')).toMatch(/^warden_session=; Max-Age=0; Path=\/; HttpOnly; SameSite=Lax$/);
    expect(await res.text()).toContain('name="password"');
  });
});

describe('session cookie attributes', () => {
  it('http issuer (development): warden_session; HttpOnly; SameSite=Lax; Path=/; no Secure', async () => {
    const { url } = await begin(t);
    const res = await login(t, url, 'bob');
    // The second cookie is the device cookie (device-cookie.test.ts).
    const setCookie = res.headers.getSetCookie().find((c) => c.startsWith('warden_session=')) ?? '';
    expect(setCookie).toMatch(/^warden_session=[A-Za-z0-9_-]+\.\d+\.\d+\.[A-Za-z0-9_-]{43}; Max-Age=28800; Path=\/; HttpOnly; SameSite=Lax$/);
    expect(setCookie).not.toContain('bob');
  });

  it('https issuer: __Host-warden_session with Secure, Path=/ and no Domain', async () => {
    const s = await startAuthorizationServer({ issuer: 'https://as.example' });
    try {
      const { url } = await begin(s);
      expect(url).toMatch(/^https:\/\/as\.example\/interaction\//);
      const res = await login(s, url);
      const setCookie = res.headers.getSetCookie().find((c) => c.startsWith('__Host-warden_session=')) ?? '';
      expect(setCookie).toMatch(/^__Host-warden_session=[^;]+; Max-Age=28800; Path=\/; HttpOnly; SameSite=Lax; Secure$/);
      expect(setCookie).not.toMatch(/domain=/i);
      const html = await res.text();
      expect(html).toContain('action="https://as.example/interaction/');
      // The plain-http name is not honoured on an https issuer.
      const { url: next } = await begin(s);
      const plain = cookiePair(setCookie).replace('__Host-warden_session', 'warden_session');
      expect(await (await get(s, next, plain)).text()).toContain('name="password"');
    } finally {
      await s.close();
    }
  });

  it('an expired session is ignored; an expired interaction shows the expired page', async () => {
    let now = Math.floor(Date.now() / 1000);
    const s = await startAuthorizationServer({ now: () => now });
    try {
      const cookie = await aliceSession(s);
      now += 8 * 3600 + 1;
      const { url } = await begin(s);
      expect(await (await get(s, url, cookie)).text()).toContain('name="password"');
      now += 601;
      await expectExpiredPage(await get(s, url));
    } finally {
      await s.close();
    }
  });
});

describe('consent page: who the application is (finding L4)', () => {
  async function consentPageFor(client: { clientId: string; clientName: string; source: 'registered' | 'metadata-document' | 'configured'; redirectUri: string }): Promise<string> {
    const now = t.server.context.now();
    await t.server.context.stores.clients.put({
      clientId: client.clientId,
      tokenEndpointAuthMethod: 'none',
      redirectUris: [client.redirectUri],
      grantTypes: ['authorization_code'],
      responseTypes: ['code'],
      clientName: client.clientName,
      source: client.source,
      createdAt: now,
      ...(client.source === 'metadata-document' && { expiresAt: now + 86_400 }),
    });
    const { url } = await begin(t, { client_id: client.clientId, redirect_uri: client.redirectUri });
    const consent = await login(t, url, 'bob');
    expect(consent.status).toBe(200);
    return consent.text();
  }

  it('L4 / RFC 7591 §5 + draft-ietf-oauth-client-id-metadata-document: a URL client id shows its host next to the (escaped) name', async () => {
    const html = await consentPageFor({
      clientId: 'https://tools.example.com/oauth/client.json',
      clientName: 'GitHub "Official" <App>',
      source: 'metadata-document',
      redirectUri: 'https://tools.example.com/cb',
    });
    expect(html).toContain('<strong>GitHub &#34;Official&#34; &#60;App&#62;</strong> (<strong class="host">tools.example.com</strong>) wants to access');
    expect(html).toContain('<span class="muted">Identified by</span> <strong class="host">tools.example.com</strong>');
    expect(html).not.toContain('<App>');
    expect(html).not.toContain('has not been verified');
  });

  it('L4 / RFC 7591 §5: a dynamically registered client\'s name is marked self-declared and unverified (escaped)', async () => {
    const html = await consentPageFor({ clientId: 'dyn-registered-1', clientName: 'Trusted & <Safe>', source: 'registered', redirectUri: 'https://dyn.example/cb' });
    expect(html).toContain('<strong>Trusted &#38; &#60;Safe&#62;</strong> wants to access');
    expect(html).toContain('This name was chosen by the application itself and has not been verified.');
    expect(html).not.toContain('class="host"');
    expect(html).not.toContain('<Safe>');
  });

  it('L4: an operator-configured client shows neither a host nor the unverified note', async () => {
    const html = await consentPageFor({ clientId: 'configured-1', clientName: 'Ops Console', source: 'configured', redirectUri: 'https://ops.example/cb' });
    expect(html).toContain('<strong>Ops Console</strong> wants to access');
    expect(html).not.toContain('class="host"');
    expect(html).not.toContain('has not been verified');
  });
});

describe('hostile input is shown as text', () => {
  it('a hostile client_name is escaped on the login and consent pages', async () => {
    const { url } = await begin(t, { client_id: 'evil', redirect_uri: 'https://evil.example/cb' });
    const login1 = await (await get(t, url)).text();
    expect(login1).not.toContain('<script>');
    expect(login1).not.toContain('<b>');
    expect(login1).toContain('&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62;&#38;&#60;b&#62;');
    const consent = await login(t, url, 'bob');
    const html = await consent.text();
    expect(html).not.toContain('<script>');
    expect(html).toContain('&#60;script&#62;');
  });

  it('a hostile username is escaped when the form is shown again', async () => {
    const { url } = await begin(t);
    const res = await login(t, url, '"><script>alert(1)</script>', 'whatever-password');
    const html = await res.text();
    expect(html).not.toContain('<script>');
    expect(html).toContain('value="&#34;&#62;&#60;script&#62;');
  });

  it('a client deleted after /authorize cannot receive a code', async () => {
    const { url } = await begin(t, { client_id: 'narrow', redirect_uri: 'https://narrow.example/cb' });
    await t.server.context.stores.clients.delete('narrow');
    const res = await get(t, url);
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
    expect(await res.text()).toContain('registration changed');
  });
});

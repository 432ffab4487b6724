/**
 * Signing in to Warden through "the company IdP": node-oidc-provider in its own process with its
 * own login and consent pages, Warden's authorization server in this one, Chromium in between.
 * The positive flow ends with a Warden access token for a stable federated subject carrying the
 * IdP's groups; every failure (IdP error, wrong state, mix-up, wrong nonce, expired ID token) ends
 * on Warden's error page with nothing issued.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { decodeJwt } from 'jose';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { browserSupport, launchBrowser, trackConsoleErrors } from '../helpers/browser.js';
import { freePort } from '../helpers/free-port.js';
import { csrfOf, get, pkcePair, postForm, RESOURCE, startAuthorizationServer, TEST_CLIENTS, type TestAs } from '../helpers/login-flow.js';
import { federatedSubject } from '../../src/authorization-server/federation/federated-user.js';

const support = await browserSupport();
const IDP_SCRIPT = fileURLToPath(new URL('../helpers/company-idp.mjs', import.meta.url));
const IDP_SECRET = 'company-idp-client-secret-0123456789abcdef';

/** Starts the company IdP; resolves with its issuer once it listens. */
function startIdp(port: number, wardenCallback: string): Promise<{ issuer: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [IDP_SCRIPT, String(port), wardenCallback, IDP_SECRET, wardenCallback.replace('/federation/callback', '/jwks')], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = /ready (\S+)/.exec(out);
      if (m !== null) resolve({ issuer: m[1] as string, child });
    });
    child.on('exit', (code) => reject(new Error(`company IdP exited (${code})`)));
  });
}

describe.skipIf(support.skip)(`sign-in through an upstream OpenID provider (node-oidc-provider), in Chromium${support.note}`, () => {
  let t: TestAs;
  let idp: { issuer: string; child: ChildProcess };
  let browser: Browser;
  let offset = 0;
  let client: Server;
  let CALLBACK = '';

  beforeAll(async () => {
    // The client's loopback redirect URI (RFC 8252 §7.3): a real listener, as a native app has.
    const clientPort = await freePort();
    CALLBACK = `http://127.0.0.1:${clientPort}/callback`;
    client = createServer((_req, res) => res.end('client callback'));
    await new Promise<void>((resolve) => client.listen(clientPort, '127.0.0.1', resolve));
    const idpPort = await freePort();
    t = await startAuthorizationServer({
      now: () => Math.floor(Date.now() / 1000) + offset,
      overrides: {
        clients: TEST_CLIENTS,
        // Long enough to outlive the IdP's one-hour ID tokens (the expired-token test moves the clock).
        lifetimes: { interactionSeconds: 3 * 3600 },
        identityProviders: [
          { id: 'company', name: 'Company SSO', issuer: `http://127.0.0.1:${idpPort}`, clientId: 'warden', clientSecret: IDP_SECRET, scopes: ['openid', 'email', 'groups'] },
          { id: 'company-keys', name: 'Company SSO with keys', issuer: `http://127.0.0.1:${idpPort}`, clientId: 'warden-pkjwt', privateKeyJwt: true, scopes: ['openid', 'email', 'groups'] },
        ],
      },
    });
    idp = await startIdp(idpPort, `${t.base}/federation/callback`);
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    idp?.child.kill();
    await t?.close();
    client?.close();
  });
  beforeEach(() => {
    offset = 0;
  });

  /** An authorization request of the public client `app`; the browser's landing at the client is caught. */
  async function authorize(page: Page): Promise<{ verifier: string; url: string }> {
    const { verifier, challenge } = pkcePair();
    const params = new URLSearchParams({ response_type: 'code', client_id: 'app', redirect_uri: CALLBACK, code_challenge: challenge, code_challenge_method: 'S256', resource: RESOURCE, scope: 'mcp:tools', state: 'client-state' });
    return { verifier, url: `${t.base}/authorize?${params}` };
  }

  /** At the company IdP's own pages: any login (development interactions), then its consent. */
  async function signInAtIdp(page: Page, login: string): Promise<void> {
    await page.locator('input[name="login"]').fill(login);
    await page.locator('input[name="password"]').fill('any password');
    await page.locator('button[type="submit"]').click();
    await page.getByRole('button', { name: 'Continue' }).click();
  }

  it('OIDC Core §3.1 / RFC 9207: Warden sign-in page → Company SSO → back, consent → code → token with the stable subject and the IdP groups', async () => {
    const page = await browser.newPage();
    const errors = trackConsoleErrors(page);
    try {
      const { verifier, url } = await authorize(page);
      await page.goto(url);
      await page.getByRole('button', { name: 'Sign in with Company SSO', exact: true }).click();
      await page.waitForURL((u) => u.origin === idp.issuer);
      await signInAtIdp(page, 'alice.sso');
      await page.getByRole('heading', { name: 'Allow access?' }).waitFor();
      await Promise.all([page.waitForURL((u) => u.href.startsWith(CALLBACK)), page.getByRole('button', { name: 'Allow', exact: true }).click()]);
      const back = new URL(page.url());
      expect(back.searchParams.get('iss')).toBe(t.base);
      const token = await postForm(t, '/token', { grant_type: 'authorization_code', code: back.searchParams.get('code') as string, redirect_uri: CALLBACK, code_verifier: verifier, client_id: 'app' });
      expect(token.status).toBe(200);
      const claims = decodeJwt(((await token.json()) as { access_token: string }).access_token);
      expect(claims.sub).toBe(federatedSubject(idp.issuer, 'alice.sso'));
      expect(claims.groups).toEqual(['engineering', 'mcp-admins']);
      const user = await t.server.context.stores.users.get(claims.sub as string);
      expect(user?.federation).toMatchObject({ issuer: idp.issuer, subject: 'alice.sso', email: 'alice.sso@company.example' });
      // The IdP's development pages load web fonts and a favicon; Warden's own pages must be clean.
      expect(errors().filter((e) => e.includes(t.base))).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('RFC 7523 §2.2: with privateKeyJwt Warden authenticates at the IdP with an assertion signed by its own key (the IdP reads {issuer}/jwks)', async () => {
    const page = await browser.newPage();
    try {
      const { verifier, url } = await authorize(page);
      await page.goto(url);
      await page.getByRole('button', { name: 'Sign in with Company SSO with keys' }).click();
      await page.waitForURL((u) => u.origin === idp.issuer);
      await signInAtIdp(page, 'bob.sso');
      await page.getByRole('heading', { name: 'Allow access?' }).waitFor();
      await Promise.all([page.waitForURL((u) => u.href.startsWith(CALLBACK)), page.getByRole('button', { name: 'Allow', exact: true }).click()]);
      const back = new URL(page.url());
      const token = await postForm(t, '/token', { grant_type: 'authorization_code', code: back.searchParams.get('code') as string, redirect_uri: CALLBACK, code_verifier: verifier, client_id: 'app' });
      expect(token.status).toBe(200);
      // The same person at the same IdP is the same Warden subject, whichever client signed them in.
      expect(decodeJwt(((await token.json()) as { access_token: string }).access_token).sub).toBe(federatedSubject(idp.issuer, 'bob.sso'));
    } finally {
      await page.close();
    }
  });

  /** Starts a sign-in at the IdP over HTTP and returns the `state` Warden sent (the browser is not needed for that leg). */
  async function startAtIdp(): Promise<{ state: string; location: URL; cookie: string }> {
    const { challenge } = pkcePair();
    const params = new URLSearchParams({ response_type: 'code', client_id: 'app', redirect_uri: CALLBACK, code_challenge: challenge, code_challenge_method: 'S256', resource: RESOURCE, scope: 'mcp:tools' });
    const started = await get(t, `/authorize?${params}`);
    const interaction = started.headers.get('location') as string;
    const page = await get(t, interaction);
    const sent = await postForm(t, interaction, { csrf: csrfOf(await page.text()), action: 'idp:company' }, undefined, { origin: t.base });
    expect(sent.status).toBe(303);
    const location = new URL(sent.headers.get('location') as string);
    expect(location.origin).toBe(idp.issuer);
    expect(location.searchParams.get('code_challenge_method')).toBe('S256');
    expect(location.searchParams.get('nonce')).toMatch(/^[\w-]{43}$/);
    return { state: location.searchParams.get('state') as string, location, cookie: (sent.headers.get('set-cookie') as string).split(';')[0] as string };
  }

  const callback = (query: Record<string, string>, cookie?: string) => get(t, `/federation/callback?${new URLSearchParams(query)}`, cookie);
  /** The browser gets the binding cookie the HTTP leg received, as if it had started the sign-in. */
  const adopt = async (page: Page, cookie: string) => {
    const [name, value] = cookie.split('=') as [string, string];
    await page.context().addCookies([{ name, value, url: t.base }]);
  };
  const issuedNothing = () => expect(t.audits.filter((a) => a.type === 'login.succeeded' || a.type === 'token.issued')).toEqual([]);

  it('OIDC Core §3.1.2.6: an error from the IdP ends on an error page naming it; nothing issued', async () => {
    t.audits.length = 0;
    const { state, cookie } = await startAtIdp();
    const r = await callback({ error: 'access_denied', state, iss: idp.issuer }, cookie);
    expect(r.status).toBe(400);
    expect(await r.text()).toContain('Company SSO did not sign you in (access_denied)');
    issuedNothing();
  });

  it('RFC 6749 §10.12: a wrong or reused state ends on an error page; nothing issued', async () => {
    t.audits.length = 0;
    const { state, cookie } = await startAtIdp();
    const wrong = await callback({ code: 'x', state: 'not-the-state', iss: idp.issuer }, cookie);
    expect(wrong.status).toBe(400);
    expect(await wrong.text()).toContain('was not started in this browser');
    const first = await callback({ error: 'access_denied', state, iss: idp.issuer }, cookie);
    expect(first.status).toBe(400);
    const reused = await callback({ code: 'x', state, iss: idp.issuer }, cookie);
    expect(await reused.text()).toContain('was already used');
    issuedNothing();
  });

  it('RFC 9700 §4.7.1: the callback of a sign-in started in another browser (login CSRF) is refused, and does not burn it', async () => {
    t.audits.length = 0;
    const { state, cookie } = await startAtIdp();
    const csrf = await callback({ code: 'x', state, iss: idp.issuer });
    expect(csrf.status).toBe(400);
    expect(await csrf.text()).toContain('was not started in this browser');
    // The owner's own callback still finds its sign-in.
    const own = await callback({ error: 'access_denied', state, iss: idp.issuer }, cookie);
    expect(await own.text()).toContain('did not sign you in (access_denied)');
    issuedNothing();
  });

  it('RFC 9207 §2.4: a response naming another issuer (mix-up), or none from an IdP that sends it, is refused', async () => {
    t.audits.length = 0;
    const one = await startAtIdp();
    const mixed = await callback({ code: 'x', state: one.state, iss: 'https://attacker.example' }, one.cookie);
    expect(mixed.status).toBe(400);
    expect(await mixed.text()).toContain('RFC 9207');
    const two = await startAtIdp();
    const missing = await callback({ code: 'x', state: two.state }, two.cookie);
    expect(missing.status).toBe(400);
    expect(await missing.text()).toContain('RFC 9207');
    issuedNothing();
  });

  it('OIDC Core §3.1.3.7: an ID token with another nonce (the request to the IdP tampered with) is refused; nothing issued', async () => {
    t.audits.length = 0;
    const { location, cookie } = await startAtIdp();
    location.searchParams.set('nonce', 'a-nonce-the-attacker-chose');
    const page = await browser.newPage();
    try {
      await adopt(page, cookie);
      await page.goto(location.href);
      await signInAtIdp(page, 'mallory.sso');
      await page.getByRole('heading', { name: 'Sign-in failed' }).waitFor();
      expect(await page.getByRole('alert').innerText()).toContain('does not carry the nonce of this sign-in');
      issuedNothing();
    } finally {
      await page.close();
    }
  });

  it("OIDC Core §3.1.3.7: an expired ID token (Warden's clock two hours on, the IdP's tokens live one) is refused; nothing issued", async () => {
    t.audits.length = 0;
    const { location, cookie } = await startAtIdp();
    const page = await browser.newPage();
    try {
      await adopt(page, cookie);
      await page.goto(location.href);
      await page.locator('input[name="login"]').fill('late.sso');
      await page.locator('input[name="password"]').fill('any password');
      await page.locator('button[type="submit"]').click();
      await page.getByRole('button', { name: 'Continue' }).waitFor();
      offset = 2 * 3600;
      await page.getByRole('button', { name: 'Continue' }).click();
      await page.getByRole('heading', { name: 'Sign-in failed' }).waitFor();
      expect(await page.getByRole('alert').innerText()).toContain('the ID token has expired');
      issuedNothing();
    } finally {
      await page.close();
    }
  });
});

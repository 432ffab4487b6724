/**
 * Warden's sign-in and consent pages in a real browser (Chromium), against `warden start` in a
 * child process, as the public client `demo-cli` whose redirect URI is a loopback listener this
 * test serves: what a person sees and does — keyboard submission, Allow and Deny, no script errors,
 * and the basic accessibility a screen reader and a keyboard user need.
 *
 * Screenshots of both pages go to `test-artifacts/screenshots/login-pages/` for a human to look at.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile, rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditAccessibility, tabOrder } from '../helpers/accessibility.js';
import { approveInBrowser, browserSupport, launchBrowser, trackConsoleErrors } from '../helpers/browser.js';
import { freePort } from '../helpers/free-port.js';
import { pkcePair } from '../helpers/login-flow.js';
import { spawnWarden, type SpawnedWarden } from '../helpers/spawn-warden.js';

const SCREENSHOTS = fileURLToPath(new URL('../../test-artifacts/screenshots/login-pages/', import.meta.url));
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

const support = await browserSupport();

describe.skipIf(support.skip)(`login and consent pages in Chromium, against warden start${support.note}`, () => {
  let warden: SpawnedWarden;
  let browser: Browser;
  let callback: Server;
  let redirectUri: string;

  beforeAll(async () => {
    [warden, browser] = await Promise.all([spawnWarden({ command: 'start', port: await freePort() }), launchBrowser()]);
    // The client's side of the redirect (RFC 8252 §7.3): answers anything, so the callback page itself logs no errors.
    callback = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('ok'));
    await new Promise<void>((resolve) => callback.listen(0, '127.0.0.1', resolve));
    redirectUri = `http://127.0.0.1:${(callback.address() as AddressInfo).port}/callback`;
  });
  afterAll(async () => {
    await browser?.close();
    callback?.closeAllConnections();
    await new Promise((resolve) => callback?.close(resolve) ?? resolve(undefined));
    await warden?.stop();
  });

  /** A valid authorization request, by default for demo-cli (RFC 6749 §4.1.1, RFC 7636 §4.3, RFC 8707 §2). */
  function authorizationRequest(scope: string, clientId = 'demo-cli'): { url: URL; state: string; verifier: string } {
    const { verifier, challenge } = pkcePair();
    const state = randomBytes(16).toString('base64url');
    const url = new URL(`${warden.stack.issuer}/authorize`);
    url.search = new URLSearchParams({
      response_type: 'code', client_id: clientId, redirect_uri: redirectUri, code_challenge: challenge, code_challenge_method: 'S256',
      state, resource: warden.stack.resources[0]!.url, scope,
    }).toString();
    return { url, state, verifier };
  }

  /** A page in a fresh context: no session cookie, so the sign-in page always comes first. */
  async function freshPage(): Promise<{ page: Page; errors: () => string[]; close: () => Promise<void> }> {
    const context = await browser.newContext();
    const page = await context.newPage();
    return { page, errors: trackConsoleErrors(page), close: () => context.close() };
  }

  it('RFC 6749 §4.1.2, RFC 9207 §2: Enter in the password field signs in, Allow returns code, state and iss to the redirect URI; no console errors; screenshots saved', async () => {
    await rm(SCREENSHOTS, { recursive: true, force: true });
    const { url, state, verifier } = authorizationRequest('mcp:tools');
    const { page, errors, close } = await freshPage();
    const seen: string[] = [];
    const user = warden.stack.users[0]!;
    try {
      const result = await approveInBrowser(page, url, {
        ...user,
        screenshots: SCREENSHOTS,
        inspect: async (_page, which) => void seen.push(which),
      });
      expect(seen).toEqual(['login', 'consent']);
      expect(`${result.origin}${result.pathname}`).toBe(redirectUri);
      expect([...result.searchParams.keys()].sort()).toEqual(['code', 'iss', 'state']);
      expect(result.searchParams.get('state')).toBe(state);
      expect(result.searchParams.get('iss')).toBe(warden.stack.issuer);
      expect(errors()).toEqual([]);

      // The code is real: it redeems once at the token endpoint with the PKCE verifier (RFC 7636 §4.5).
      const token = await fetch(`${warden.stack.issuer}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'authorization_code', code: result.searchParams.get('code')!, redirect_uri: redirectUri, client_id: 'demo-cli',
          code_verifier: verifier, resource: warden.stack.resources[0]!.url,
        }).toString(),
      });
      expect(token.status).toBe(200);
      expect(await token.json()).toMatchObject({ token_type: 'Bearer', scope: 'mcp:tools' });
    } finally {
      await close();
    }
    for (const file of ['login.png', 'consent.png']) {
      const png = await readFile(`${SCREENSHOTS}${file}`);
      expect(png.length, file).toBeGreaterThan(10_000);
      expect(png.subarray(0, 8).equals(PNG_SIGNATURE), file).toBe(true);
    }
  });

  it('WCAG 2.x: both pages have lang, one h1, labelled inputs, named buttons, text contrast ≥ 4.5:1 in light and dark mode, and a Tab order that follows the form', async () => {
    const { url } = authorizationRequest('mcp:admin');
    const { page, errors, close } = await freshPage();
    const TAB_ORDER = {
      login: ['input#username', 'input#password', 'button "Sign in"', 'button "Cancel"'],
      consent: ['input#scope-0', 'button "Allow"', 'button "Deny"', 'button "Use a different account"'],
    };
    const seen: string[] = [];
    // Checked on each page as it appears, so a page that fails here says why before the flow goes on.
    const inspect = async (p: Page, which: 'login' | 'consent'): Promise<void> => {
      seen.push(which);
      for (const colorScheme of ['light', 'dark'] as const) {
        await p.emulateMedia({ colorScheme });
        const report = await auditAccessibility(p);
        expect(report.problems, `${which} page, ${colorScheme} mode`).toEqual([]);
        // Not vacuous: the summary, the labels and the buttons were all measured.
        expect(report.textElements, `${which} page, ${colorScheme} mode`).toBeGreaterThanOrEqual(15);
      }
      await p.emulateMedia({ colorScheme: 'light' });
      expect(await tabOrder(p, TAB_ORDER[which].length), `${which} page`).toEqual(TAB_ORDER[which]);
      if (which === 'consent') {
        // The demo resource's scope description is visible beside its checkbox, whose accessible name stays the scope.
        const box = p.getByRole('checkbox', { name: 'mcp:admin', exact: true });
        await expect(box.isChecked()).resolves.toBe(true);
        const description = p.locator('.scope', { has: box }).locator('.scope-description');
        await expect(description.isVisible()).resolves.toBe(true);
        expect(await description.innerText()).toBe('Reset the demo server (admin_reset)');
        expect(await box.getAttribute('aria-describedby')).toBe(await description.getAttribute('id'));
      }
    };
    try {
      await approveInBrowser(page, url, { ...warden.stack.users[0]!, decision: 'deny', inspect });
      expect(seen).toEqual(['login', 'consent']);
      expect(errors()).toEqual([]);
    } finally {
      await close();
    }
  });

  it('RFC 6749 §4.1.2.1, RFC 9207 §2: Deny on the consent page returns error=access_denied with the same state and iss', async () => {
    // mcp:admin was never allowed for demo-cli, and a fresh context has no session: the consent page must appear.
    const { url, state } = authorizationRequest('mcp:admin');
    const { page, errors, close } = await freshPage();
    const seen: string[] = [];
    try {
      const result = await approveInBrowser(page, url, { ...warden.stack.users[0]!, decision: 'deny', inspect: async (_p, which) => void seen.push(which) });
      expect(seen).toEqual(['login', 'consent']);
      expect(`${result.origin}${result.pathname}`).toBe(redirectUri);
      expect(Object.fromEntries(result.searchParams)).toEqual({
        error: 'access_denied',
        error_description: 'the user denied the request',
        state,
        iss: warden.stack.issuer,
      });
      expect(errors()).toEqual([]);
    } finally {
      await close();
    }
  });

  it('WCAG 2.x SC 3.3.1: a wrong password brings the sign-in page back with the error announced (role=alert), the username kept and the password cleared', async () => {
    const { url } = authorizationRequest('mcp:tools');
    const { page, close } = await freshPage();
    const user = warden.stack.users[0]!;
    try {
      await expect(approveInBrowser(page, url, { username: user.username, password: `${user.password}x` })).rejects.toThrow(/ says: Incorrect username or password\.$/);
      expect(new URL(page.url()).pathname).toMatch(/^\/interaction\/[\w-]+$/);
      expect(await page.getByRole('alert').innerText()).toBe('Incorrect username or password.');
      expect(await page.getByLabel('Username', { exact: true }).inputValue()).toBe(user.username);
      expect(await page.getByLabel('Password', { exact: true }).inputValue()).toBe('');
    } finally {
      await close();
    }
  });

  it('RFC 6749 §4.1.2: in a browser that is signed in and has consented, a new authorization returns the code without showing a page', async () => {
    // A client of its own (RFC 7591), so the consent remembered here changes no other test's pages.
    const registration = await fetch(`${warden.stack.issuer}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_name: 'Browser session test', redirect_uris: [redirectUri], token_endpoint_auth_method: 'none', grant_types: ['authorization_code'], response_types: ['code'] }),
    });
    expect(registration.status).toBe(201);
    const { client_id: clientId } = (await registration.json()) as { client_id: string };
    const context = await browser.newContext();
    const page = await context.newPage();
    const errors = trackConsoleErrors(page);
    const user = warden.stack.users[0]!;
    try {
      const first = authorizationRequest('mcp:tools', clientId);
      const firstSeen: string[] = [];
      await approveInBrowser(page, first.url, { ...user, inspect: async (_p, which) => void firstSeen.push(which) });
      expect(firstSeen).toEqual(['login', 'consent']);

      const second = authorizationRequest('mcp:tools', clientId);
      const secondSeen: string[] = [];
      const result = await approveInBrowser(page, second.url, { ...user, inspect: async (_p, which) => void secondSeen.push(which) });
      expect(secondSeen).toEqual([]);
      expect([...result.searchParams.keys()].sort()).toEqual(['code', 'iss', 'state']);
      expect(result.searchParams.get('state')).toBe(second.state);
      expect(errors()).toEqual([]);
    } finally {
      await context.close();
    }
  });
});

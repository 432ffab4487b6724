/**
 * The operator console in Chromium (playwright-core, /usr/bin/chromium): sign-in through the
 * stack's own authorization server, only admin subjects and users with the admin role get in;
 * every page passes the accessibility checks (contrast ≥ 4.5:1 from computed styles in light and
 * dark mode, labels, one h1) and Tab reaches every control in document order; every action the
 * console offers works and is itself an audit event naming the operator; no console errors; the
 * same-origin and CSRF rules of the sign-in pages hold. Screenshots (light, dark) go to a
 * temporary directory.
 */
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditAccessibility } from '../helpers/accessibility.js';
import { browserSupport, launchBrowser, trackConsoleErrors } from '../helpers/browser.js';
import { signInToWarden } from '../helpers/warden-sign-in.js';
import { DEMO_CLI_REDIRECT_URIS } from '../../src/stack/index.js';
import { addUser } from '../../src/authorization-server/users.js';
import { resolveConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/observability/logger.js';
import { startStack, type RunningStack } from '../../src/stack/index.js';

const support = await browserSupport();
const BOB = { username: 'bob', password: 'bob-password-long-enough-1' };
/** An administrator by role (what `warden users add carol --admin` stores), not in admin.subjects. */
const CAROL = { username: 'carol', password: 'carol-password-long-enough-1' };

let stack: RunningStack;
let browser: Browser;
let admin: { username: string; password: string };
let auditPath: string;

async function auditRecords(): Promise<Array<Record<string, unknown>>> {
  await stack.auditTrail!.flush();
  return (await readFile(auditPath, 'utf8')).trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
}

beforeAll(async () => {
  if (support.skip) return;
  auditPath = join(await mkdtemp(join(tmpdir(), 'warden-console-audit-')), 'audit.log');
  // The demo user is the administrator; bob is an ordinary user.
  const config = resolveConfig(
    {
      storage: { kind: 'memory' },
      authorizationServer: { demo: true },
      resources: [{ name: 'demo', path: '/mcp', upstream: 'builtin:demo' }],
      admin: { subjects: ['demo'] },
      audit: { sink: 'file', path: auditPath },
    },
    { env: {} },
  );
  stack = await startStack(config, { port: 0, logger: createLogger({ write: () => {} }) });
  admin = stack.info.users[0]!;
  expect(admin.username).toBe('demo');
  await addUser(stack.authorizationServer!.context, BOB.username, BOB.password);
  await addUser(stack.authorizationServer!.context, CAROL.username, CAROL.password, { roles: ['admin'] });
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

/** Opens the console and signs in at the stack's own sign-in and consent pages. */
async function signIn(page: Page, user: { username: string; password: string }): Promise<void> {
  await page.goto(`${stack.url}/admin`);
  await page.getByLabel('Username', { exact: true }).fill(user.username);
  const password = page.getByLabel('Password', { exact: true });
  await password.fill(user.password);
  await password.press('Enter');
  // The console's consent is remembered after the first sign-in: then there is no Allow to press.
  const allow = page.getByRole('button', { name: 'Allow', exact: true });
  await allow.or(page.getByRole('navigation', { name: 'Console' })).first().waitFor();
  if (await allow.isVisible()) await allow.click();
  await page.waitForURL((url) => url.pathname.startsWith('/admin/') && !url.pathname.endsWith('/callback'));
}

describe(`operator console /admin (Chromium)${support.note}`, () => {
  it.skipIf(support.skip)('an admin signs in through the stack\'s AS, rotates the keys (an audit event naming them), with labelled forms and no console errors', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    page.setDefaultTimeout(8000);
    const errors = trackConsoleErrors(page);
    await signIn(page, admin);
    await expect(page.getByRole('heading', { name: 'Overview' }).isVisible()).resolves.toBe(true);
    const headers = (await page.request.get(`${stack.url}/admin/`)).headers();
    expect(headers['content-security-policy']).toContain("frame-ancestors 'none'");

    await page.getByRole('link', { name: 'Signing keys' }).click();
    const before = await page.locator('tbody tr').count();
    await page.getByRole('button', { name: 'Rotate signing keys' }).click();
    await expect(page.getByRole('status').innerText()).resolves.toBe('Signing keys rotated.');
    expect(await page.locator('tbody tr').count()).toBe(before + 1);

    await page.getByRole('link', { name: 'Servers and policies' }).click();
    await expect(page.locator('tbody').innerText()).resolves.toContain('admin_reset: mcp:admin');

    await page.getByRole('link', { name: 'Audit trail' }).click();
    await page.getByLabel('Event').selectOption('keys.rotated');
    await page.getByRole('button', { name: 'Filter' }).click();
    const rows = page.locator('tbody tr');
    await expect(rows.count()).resolves.toBe(1);
    await expect(rows.first().innerText()).resolves.toContain('demo');
    expect((await auditRecords()).filter((r) => r['type'] === 'keys.rotated')).toEqual([expect.objectContaining({ admin: 'demo' })]);

    // Every visible form control has a label (WCAG 1.3.1 / 4.1.2).
    const unlabelled = await page.$$eval('input:not([type=hidden]), select', (els) => els.filter((el) => !(el as unknown as { labels: { length: number } | null }).labels?.length).map((el) => el.outerHTML));
    expect(unlabelled).toEqual([]);

    const dir = await mkdtemp(join(tmpdir(), 'warden-console-'));
    await page.emulateMedia({ colorScheme: 'light' });
    await page.screenshot({ path: join(dir, 'audit-light.png'), fullPage: true });
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.screenshot({ path: join(dir, 'audit-dark.png'), fullPage: true });
    expect(errors()).toEqual([]);
    await context.close();
  });

  it.skipIf(support.skip)('a signed-in user who is not an admin is refused (403), and that refusal is an audit event', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${stack.url}/admin`);
    await page.getByLabel('Username', { exact: true }).fill(BOB.username);
    await page.getByLabel('Password', { exact: true }).fill(BOB.password);
    await page.getByLabel('Password', { exact: true }).press('Enter');
    const [response] = await Promise.all([page.waitForResponse((r) => new URL(r.url()).pathname === '/admin/callback'), page.getByRole('button', { name: 'Allow', exact: true }).click()]);
    expect(response.status()).toBe(403);
    await expect(page.getByRole('heading', { name: 'Not an administrator' }).isVisible()).resolves.toBe(true);
    expect((await auditRecords()).filter((r) => r['type'] === 'login.failed')).toEqual([expect.objectContaining({ subject: 'bob', clientId: 'warden-console', detail: 'operator console: not an administrator' })]);
    await context.close();
  });

  it.skipIf(support.skip)('a POST without the session, or from another origin, is refused (403) and changes nothing', async () => {
    const keys = (await stack.authorizationServer!.context.stores.keys.list()).length;
    const foreign = await fetch(`${stack.url}/admin/keys/rotate`, { method: 'POST', headers: { origin: 'https://evil.example', 'content-type': 'application/x-www-form-urlencoded' }, body: 'csrf=x' });
    expect(foreign.status).toBe(403);
    const noSession = await fetch(`${stack.url}/admin/keys/rotate`, { method: 'POST', headers: { origin: stack.url, 'content-type': 'application/x-www-form-urlencoded' }, body: 'csrf=x' });
    expect(noSession.status).toBe(403);
    expect((await stack.authorizationServer!.context.stores.keys.list()).length).toBe(keys);
  });

  it.skipIf(support.skip)('a user with the admin role (warden users add --admin), not in admin.subjects, signs in', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    page.setDefaultTimeout(8000);
    await signIn(page, CAROL);
    await expect(page.getByRole('heading', { name: 'Overview' }).isVisible()).resolves.toBe(true);
    await expect(page.getByText('Signed in as carol.').isVisible()).resolves.toBe(true);
    await context.close();
  });

  it.skipIf(support.skip)('WCAG 2.1 SC 1.4.3, 1.3.1, 2.4.3: every page in light and dark mode — contrast ≥ 4.5:1 from computed styles, labelled controls, one h1 — and Tab reaches every control in document order, navigation first', async () => {
    // Something on every page: a consent of bob's, a client inspected.
    await consentOf(BOB);
    const context = await browser.newContext();
    const page = await context.newPage();
    page.setDefaultTimeout(8000);
    const errors = trackConsoleErrors(page);
    await signIn(page, admin);
    const dir = await mkdtemp(join(tmpdir(), 'warden-console-pages-'));
    let checked = 0;
    for (const [name, path] of PAGES) {
      await page.goto(`${stack.url}${path}`);
      for (const colorScheme of ['light', 'dark'] as const) {
        await page.emulateMedia({ colorScheme });
        const report = await auditAccessibility(page);
        expect({ page: name, colorScheme, problems: report.problems }).toEqual({ page: name, colorScheme, problems: [] });
        expect(report.textElements).toBeGreaterThan(5);
        expect(report.minContrast).toBeGreaterThanOrEqual(4.5);
        await page.screenshot({ path: join(dir, `${name}-${colorScheme}.png`), fullPage: true });
        checked++;
      }
      // Keyboard: from the top, Tab visits every focusable control once, in document order.
      const expected = (await page.evaluate(`[...document.querySelectorAll(${JSON.stringify(FOCUSABLE)})].filter((el) => el.getClientRects().length > 0 && !el.disabled).map(${DESCRIBE})`)) as string[];
      await page.evaluate('document.activeElement && document.activeElement.blur && document.activeElement.blur()');
      const visited: string[] = [];
      for (let i = 0; i < expected.length; i++) {
        await page.keyboard.press('Tab');
        visited.push((await page.evaluate(`(${DESCRIBE})(document.activeElement)`)) as string);
      }
      expect({ page: name, visited }).toEqual({ page: name, visited: expected });
      expect(expected.slice(0, NAV.length)).toEqual(NAV.map((label) => `a "${label}"`));
      expect(expected.length).toBeGreaterThanOrEqual(NAV.length);
    }
    expect(checked).toBe(PAGES.length * 2);
    expect(errors()).toEqual([]);
    await context.close();
  });

  it.skipIf(support.skip)('every action the console offers works from the browser and is itself an audit event naming the operator', async () => {
    await consentOf(BOB);
    await stack.authorizationServer!.context.stores.clients.put({ clientId: 'throwaway', tokenEndpointAuthMethod: 'none', redirectUris: ['http://127.0.0.1/cb'], grantTypes: ['authorization_code'], responseTypes: ['code'], source: 'registered', createdAt: Math.floor(Date.now() / 1000), usedAt: Math.floor(Date.now() / 1000) });
    const context = await browser.newContext();
    const page = await context.newPage();
    page.setDefaultTimeout(8000);
    const errors = trackConsoleErrors(page);
    await signIn(page, admin);
    const offered = new Set<string>();
    const collect = async () => {
      for (const action of await page.$$eval('form[method=post]', (forms) => forms.map((f) => new URL((f as unknown as { action: string }).action).pathname))) offered.add(action);
    };
    const start = (await auditRecords()).length;
    const status = () => page.getByRole('status').innerText();

    await page.getByRole('link', { name: 'Clients' }).click();
    await page.getByLabel('Client ID').fill('demo-service');
    await page.getByRole('button', { name: 'Inspect' }).click();
    await collect();
    await page.getByRole('button', { name: 'Disable client demo-service' }).click();
    await expect(status()).resolves.toBe('Client demo-service disabled.');
    await collect();
    await page.getByRole('button', { name: 'Enable client demo-service' }).click();
    await expect(status()).resolves.toBe('Client demo-service enabled.');
    await page.getByLabel('Client ID').fill('throwaway');
    await page.getByRole('button', { name: 'Inspect' }).click();
    await page.getByRole('button', { name: 'Delete client throwaway' }).click();
    await expect(status()).resolves.toBe('Client throwaway deleted.');

    await page.getByRole('link', { name: 'Users and grants' }).click();
    await collect();
    await page.getByLabel('User').fill('bob');
    await page.getByLabel('Client ID').fill('demo-service');
    await page.getByRole('button', { name: 'Revoke grants' }).click();
    await expect(status()).resolves.toMatch(/^Revoked 0 grant\(s\)/);

    await page.getByRole('link', { name: 'Consents' }).click();
    await collect();
    await page.getByRole('button', { name: 'Revoke consent of bob for demo-cli' }).click();
    await expect(status()).resolves.toMatch(/^Revoked the consent of bob for demo-cli/);

    await page.getByRole('link', { name: 'Signing keys' }).click();
    await collect();
    await page.getByRole('button', { name: 'Rotate signing keys' }).click();
    await expect(status()).resolves.toBe('Signing keys rotated.');

    // The fleet (issue 12): add a run-time server, edit its entry (a policy rule), remove it.
    await page.getByRole('link', { name: 'Servers and policies' }).click();
    await collect();
    await page.getByLabel('Name', { exact: true }).fill('scratch');
    await page.getByLabel('Entry (JSON)', { exact: true }).fill(JSON.stringify({ path: '/scratch', upstream: 'builtin:demo' }));
    await page.getByRole('button', { name: 'Add server' }).click();
    await expect(status()).resolves.toBe('Server scratch added.');
    await collect();
    await page.getByLabel('Entry of scratch (JSON)').fill(JSON.stringify({ path: '/scratch', upstream: 'builtin:demo', policy: { rules: [{ name: 'no-reset', tools: ['admin_reset'], deny: 'true' }] } }));
    await page.getByRole('button', { name: 'Save server scratch' }).click();
    await expect(status()).resolves.toBe('Server scratch replaced.');
    await expect(page.locator('tbody').innerText()).resolves.toContain('no-reset');
    // A rule that does not compile: refused with its key path, line and column; the page passes the checks in both themes.
    await page.getByLabel('Entry of scratch (JSON)').fill(JSON.stringify({ path: '/scratch', upstream: 'builtin:demo', policy: { rules: [{ name: 'broken', deny: 'tool ==' }] } }));
    await page.getByRole('button', { name: 'Save server scratch' }).click();
    await expect(page.getByRole('alert').innerText()).resolves.toMatch(/policy\.rules\[0\]\.deny: .*\(line 1, column \d+\)/);
    const shots = await mkdtemp(join(tmpdir(), 'warden-console-servers-'));
    for (const colorScheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme });
      const report = await auditAccessibility(page);
      expect({ colorScheme, problems: report.problems }).toEqual({ colorScheme, problems: [] });
      expect(report.minContrast).toBeGreaterThanOrEqual(4.5);
      await page.screenshot({ path: join(shots, `servers-refused-${colorScheme}.png`), fullPage: true });
    }
    await page.emulateMedia({ colorScheme: 'light' });
    await page.getByRole('button', { name: 'Remove server scratch' }).click();
    await expect(status()).resolves.toBe('Server scratch removed.');
    for (const [, path] of PAGES) {
      await page.goto(`${stack.url}${path}`);
      await collect();
    }

    const actions = ['/admin/clients/disable', '/admin/clients/enable', '/admin/clients/delete', '/admin/grants/revoke', '/admin/consents/revoke', '/admin/keys/rotate', '/admin/servers/add', '/admin/servers/edit', '/admin/servers/remove'];
    // Every POST form seen on any page is one of the actions exercised here.
    expect([...offered].filter((a) => !actions.includes(a))).toEqual([]);
    const byOperator = (await auditRecords()).slice(start).filter((r) => r['admin'] === 'demo').map((r) => [r['type'], r['clientId'] ?? null, r['subject'] ?? null]);
    expect(byOperator).toEqual([
      ['client.disabled', 'demo-service', null],
      ['client.enabled', 'demo-service', null],
      ['client.deleted', 'throwaway', null],
      ['grant.revoked', 'demo-service', 'bob'],
      ['consent.revoked', 'demo-cli', 'bob'],
      ['grant.revoked', 'demo-cli', 'bob'],
      ['keys.rotated', null, null],
      ['registry.changed', 'warden-console', null],
      ['registry.changed', 'warden-console', null],
      ['registry.changed', 'warden-console', null],
    ]);
    // Chromium logs every 4xx page load; the refused entry answers 400 (as the sign-in page's wrong password does): that one alone.
    const refusedLoad = /^console: Failed to load resource: the server responded with a status of 400 \(Bad Request\) \(http:\/\/[^/]+\/admin\/servers\/edit\)$/;
    expect(errors().filter((line) => refusedLoad.test(line))).toHaveLength(1);
    expect(errors().filter((line) => !refusedLoad.test(line))).toEqual([]);
    await context.close();
  });
});

/** The console's navigation, in order (the first stops of Tab on every page). */
const NAV = ['Overview', 'Clients', 'Users and grants', 'Consents', 'Signing keys', 'Servers and policies', 'Audit trail'];
/** Every console page, with something to show. */
const PAGES: ReadonlyArray<readonly [string, string]> = [
  ['overview', '/admin/'],
  // With an action's notice (the green status box) shown too.
  ['clients', '/admin/clients?client_id=demo-service&done=Client%20demo-service%20enabled.'],
  ['grants', '/admin/grants'],
  ['consents', '/admin/consents'],
  ['keys', '/admin/keys'],
  ['servers', '/admin/servers'],
  ['audit', '/admin/audit'],
];
const FOCUSABLE = 'a[href], button, input:not([type=hidden]), select, textarea, [tabindex]:not([tabindex="-1"])';
/** An element as the keyboard test names it: tag, id, and its accessible name. */
const DESCRIBE = `(el) => !el || el === document.body ? 'body' : el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + ' "' + ((el.getAttribute('aria-label') || el.textContent || '').trim()) + '"'`;

/** `user` allows the public demo-cli (a remembered consent), over HTTP at the stack's sign-in pages. */
async function consentOf(user: { username: string; password: string }): Promise<void> {
  const authorize = new URL(`${stack.info.issuer}/authorize`);
  for (const [k, v] of Object.entries({ response_type: 'code', client_id: 'demo-cli', redirect_uri: DEMO_CLI_REDIRECT_URIS[0]!, code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256', resource: stack.info.resources[0]!.url, scope: 'mcp:tools', state: 's' })) authorize.searchParams.set(k, v);
  const back = await signInToWarden(authorize, user);
  expect(back.searchParams.get('code')).toBeTruthy();
}

/**
 * The operator console in Chromium (playwright-core, /usr/bin/chromium): sign-in through the
 * stack's own authorization server, only admin subjects get in, an action (rotate the signing
 * keys) works and is itself an audit event, forms are labelled, no console errors, and the
 * same-origin and CSRF rules of the sign-in pages hold. Screenshots (light, dark) go to a
 * temporary directory.
 */
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserSupport, launchBrowser, trackConsoleErrors } from '../helpers/browser.js';
import { addUser } from '../../src/authorization-server/users.js';
import { resolveConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/observability/logger.js';
import { startStack, type RunningStack } from '../../src/stack/index.js';

const support = await browserSupport();
const BOB = { username: 'bob', password: 'bob-password-long-enough-1' };

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
  await page.getByRole('button', { name: 'Allow', exact: true }).click();
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
});

/**
 * A real browser for the login and consent pages: Debian's Chromium (`/usr/bin/chromium`) driven
 * by playwright-core, so nothing is downloaded at test time.
 *
 * - Chromium missing: suites are skipped, with a note saying what to install.
 * - Chromium missing under CI (`CI` set): suites run and fail at {@link launchBrowser}, so a CI
 *   image without a browser can never turn into a green build.
 *
 * @example
 * ```ts
 * const browser = await browserSupport();
 * describe.skipIf(browser.skip)(`login pages${browser.note}`, () => {
 *   let chromium: Browser;
 *   beforeAll(async () => (chromium = await launchBrowser()));
 *   afterAll(() => chromium?.close());
 *   it('...', async () => {
 *     const page = await (await chromium.newContext()).newPage();
 *     const callback = await approveInBrowser(page, authorizationUrl, { username, password });
 *   });
 * });
 * ```
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { isCi } from './services.js';

/** The Chromium the tests drive (Debian package `chromium`). */
export const CHROMIUM = '/usr/bin/chromium';

/** Whether browser suites run, and why not. */
export interface BrowserSupport {
  /** True when the suite must be skipped (see the module comment). */
  skip: boolean;
  /** Suffix for the suite title explaining a skip; empty when the suite runs. */
  note: string;
}

/** Resolves once per test file (top-level `await`); prints a note when the suite will be skipped. */
export async function browserSupport(): Promise<BrowserSupport> {
  if (existsSync(CHROMIUM) || isCi()) return { skip: false, note: '' };
  console.info(`[warden tests] browser suites skipped: ${CHROMIUM} is not installed (apt-get install chromium).`);
  return { skip: true, note: ` (skipped: ${CHROMIUM} not installed — apt-get install chromium)` };
}

/**
 * Launches headless Chromium without the background traffic (updates, sync, QUIC probes) that
 * would make a test depend on the network. `--no-sandbox`: test containers run as root.
 */
export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`launchBrowser: ${CHROMIUM} is not installed (apt-get install chromium)` + (isCi() ? '; CI is set, so this fails rather than skips' : ''));
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'],
  });
}

/**
 * Collects, from now on, the page's console messages of type `error` and its uncaught exceptions
 * (`pageerror`). Call before navigating.
 *
 * @returns A function giving what was collected so far, each as `console: <text> (<url>)` or
 * `pageerror: <message>`.
 */
export function trackConsoleErrors(page: Page): () => string[] {
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console: ${message.text()} (${message.location().url || 'no url'})`);
  });
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
  return () => [...errors];
}

/** How {@link approveInBrowser} plays the user. */
export interface ApproveOptions {
  username: string;
  password: string;
  /** The button to press on the consent page. Default `allow`. */
  decision?: 'allow' | 'deny';
  /** Scopes to untick on the consent page before the decision (found by their labels). */
  untick?: string[];
  /** A directory: when set, `login.png` and `consent.png` (when that page appears) are saved there. */
  screenshots?: string;
  /** How long to wait for each page or action. Default 10 s. */
  timeoutMs?: number;
  /** Called on the sign-in page (before it is filled in) and on the consent page (before the decision): for checks of the pages themselves. */
  inspect?: (page: Page, which: 'login' | 'consent') => Promise<void>;
}

/**
 * Plays the user at Warden's pages: opens `authorizationUrl`; on the sign-in page fills the
 * labelled fields and submits with Enter in the password field (keyboard submission); on the
 * consent page presses Allow or Deny. Either page may be skipped — the browser already has a
 * session (same context), or the consent is remembered — and then the code comes straight back.
 * Waits until the browser is at the redirect URI, whose path must be `/callback` (the caller
 * serves it).
 *
 * @returns The callback URL: `code`, `state` and `iss`, or `error` (RFC 6749 §4.1.2, RFC 9207 §2).
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-4.1.2
 */
export async function approveInBrowser(page: Page, authorizationUrl: string | URL, opts: ApproveOptions): Promise<URL> {
  const timeout = opts.timeoutMs ?? 10_000;
  const screenshot = async (name: string): Promise<void> => {
    if (opts.screenshots === undefined) return;
    await mkdir(opts.screenshots, { recursive: true });
    await page.screenshot({ path: join(opts.screenshots, name), fullPage: true });
  };

  await page.goto(String(authorizationUrl), { timeout });
  let stage = await nextStage(page, timeout, ['login', 'consent', 'callback', 'alert']);
  if (stage === 'login') {
    await screenshot('login.png');
    await opts.inspect?.(page, 'login');
    await page.getByLabel('Username', { exact: true }).fill(opts.username, { timeout });
    const password = page.getByLabel('Password', { exact: true });
    await password.fill(opts.password, { timeout });
    await password.press('Enter', { timeout });
    // Not 'login': the old document still shows the form until the answer arrives.
    stage = await nextStage(page, timeout, ['consent', 'callback', 'alert']);
  }
  if (stage === 'alert') throw new Error(`approveInBrowser: ${page.url()} says: ${await page.getByRole('alert').first().innerText()}`);
  if (stage === 'consent') {
    await screenshot('consent.png');
    await opts.inspect?.(page, 'consent');
    for (const scope of opts.untick ?? []) await page.getByLabel(scope, { exact: true }).uncheck({ timeout });
    const button = page.getByRole('button', { name: opts.decision === 'deny' ? 'Deny' : 'Allow', exact: true });
    await Promise.all([page.waitForURL(atCallback, { timeout, waitUntil: 'commit' }), button.click({ timeout })]);
  }
  return new URL(page.url());
}

type Stage = 'login' | 'consent' | 'callback' | 'alert';

const atCallback = (url: URL): boolean => url.pathname === '/callback';

/** Which of `stages` the page shows first: the sign-in form, the consent form, the redirect URI, or an error (`role=alert`). */
function nextStage(page: Page, timeout: number, stages: Stage[]): Promise<Stage> {
  const shown: Record<Stage, () => Promise<void>> = {
    login: () => page.getByLabel('Username', { exact: true }).waitFor({ timeout }),
    consent: () => page.getByRole('button', { name: 'Allow', exact: true }).waitFor({ timeout }),
    callback: () => page.waitForURL(atCallback, { timeout, waitUntil: 'commit' }),
    alert: () => page.getByRole('alert').first().waitFor({ timeout }),
  };
  // The losers keep waiting until `timeout` or until the page closes; race() has handled their rejections.
  return Promise.race(stages.map((stage) => shown[stage]().then(() => stage)));
}

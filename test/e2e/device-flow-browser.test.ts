/**
 * The device authorization grant (RFC 8628) as a person meets it: `warden demo-client --login
 * device` (a child process, the headless agent) prints a code; the person opens the verification
 * page in Chromium, types the code, signs in and allows; the agent's polling gets its DPoP-bound
 * token and calls tools. Against `warden start`, also a child process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditAccessibility } from '../helpers/accessibility.js';
import { browserSupport, launchBrowser, trackConsoleErrors } from '../helpers/browser.js';
import { freePort } from '../helpers/free-port.js';
import { spawnWarden, WARDEN_CLI, type SpawnedWarden } from '../helpers/spawn-warden.js';

const support = await browserSupport();

/** `demo-client --login device` running; `code()` resolves once it printed the user code. */
function startDeviceClient(stateDir: string): { child: ChildProcess; code: Promise<{ userCode: string; uri: string }>; done: Promise<{ code: number | null; stdout: string; stderr: string }> } {
  const child = spawn(process.execPath, [WARDEN_CLI, 'demo-client', '--state-dir', stateDir, '--login', 'device'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let found: (value: { userCode: string; uri: string }) => void = () => {};
  const code = new Promise<{ userCode: string; uri: string }>((resolve) => (found = resolve));
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    const m = /open (\S+) and enter the code ([A-Z]{4}-[A-Z]{4})/.exec(stdout);
    if (m !== null) found({ uri: m[1] as string, userCode: m[2] as string });
  });
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.on('close', (exit) => resolve({ code: exit, stdout, stderr })));
  return { child, code, done };
}

/** Types the code on the verification page, then signs in on the page that follows. */
async function enterCodeAndSignIn(page: Page, uri: string, userCode: string, user: { username: string; password: string }): Promise<void> {
  await page.goto(uri);
  // People type codes as they come: lower case, without the dash.
  await page.getByLabel('Code', { exact: true }).fill(userCode.replace('-', '').toLowerCase());
  await page.getByRole('button', { name: 'Continue', exact: true }).click();
  await page.getByLabel('Username', { exact: true }).fill(user.username);
  const password = page.getByLabel('Password', { exact: true });
  await password.fill(user.password);
  await password.press('Enter');
  await page.getByRole('heading', { name: 'Allow access?' }).waitFor();
}

describe.skipIf(support.skip)(`device authorization grant in Chromium, against warden start${support.note}`, () => {
  let warden: SpawnedWarden;
  let browser: Browser;
  beforeAll(async () => {
    warden = await spawnWarden({ command: 'start', port: await freePort() });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await warden?.stop();
  });

  it('RFC 8628 §3.3-3.5: the code entered in the browser, sign-in and Allow → the agent gets a DPoP-bound token and calls tools', async () => {
    const agent = startDeviceClient(warden.stateDir);
    const { uri, userCode } = await agent.code;
    expect(uri).toBe(`${warden.stack.issuer}/device`);
    const context = await browser.newContext();
    const page = await context.newPage();
    const errors = trackConsoleErrors(page);
    try {
      await enterCodeAndSignIn(page, uri, userCode, warden.stack.users[0]!);
      expect(await page.getByText('your device (it continues on its own)').count()).toBe(1);
      expect((await auditAccessibility(page)).problems).toEqual([]);
      await page.getByRole('button', { name: 'Allow', exact: true }).click();
      await page.getByRole('heading', { name: 'Device connected' }).waitFor();
      expect(errors()).toEqual([]);
    } finally {
      await context.close();
    }
    const { code, stdout, stderr } = await agent.done;
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    const steps = [
      'Device authorization (RFC 8628) as demo-cli',
      `enter the code ${userCode}`,
      'Token (urn:ietf:params:oauth:grant-type:device_code): type DPoP',
      'Allowed: a DPoP token',
      'tools/list → echo, add, whoami, admin_reset',
      `tools/call whoami → {`,
      'Done.',
    ];
    let at = 0;
    for (const step of steps) {
      const found = stdout.indexOf(step, at);
      expect(found, `step "${step}" (in order) in:\n${stdout}`).toBeGreaterThanOrEqual(0);
      at = found + step.length;
    }
    expect(stdout).toContain(`"subject":"${warden.stack.users[0]!.username}"`);
    expect(stdout).not.toMatch(/eyJ[\w-]+\.[\w-]+\./);
  });

  it('RFC 8628 §3.5: Deny in the browser → the agent stops with access_denied (exit 1)', async () => {
    const agent = startDeviceClient(warden.stateDir);
    const { uri, userCode } = await agent.code;
    const context = await browser.newContext();
    const page = await context.newPage();
    try {
      await enterCodeAndSignIn(page, uri, userCode, warden.stack.users[0]!);
      await page.getByRole('button', { name: 'Deny', exact: true }).click();
      await page.getByRole('heading', { name: 'Request denied' }).waitFor();
    } finally {
      await context.close();
    }
    const { code, stderr } = await agent.done;
    expect(code).toBe(1);
    expect(stderr).toContain('access_denied');
  });

  it('RFC 8628 §5.1: a wrong code shows the form again with an alert, and nothing continues', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    try {
      await page.goto(`${warden.stack.issuer}/device`);
      await page.getByLabel('Code', { exact: true }).fill('BBBB-BBBB');
      await page.getByRole('button', { name: 'Continue', exact: true }).click();
      await expect(page.getByRole('alert').innerText()).resolves.toContain('not valid or has expired');
      expect(new URL(page.url()).pathname).toBe('/device');
    } finally {
      await context.close();
    }
  });
});

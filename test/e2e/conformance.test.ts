/**
 * The MCP conformance suite's authorization-server scenarios (`@modelcontextprotocol/conformance
 * authorization`) against `warden start` in a child process: AS metadata discovery (RFC 8414, with
 * Client ID Metadata Document support) and a full authorization code grant (OAuth 2.1 §4.1) with
 * PKCE and the resource indicator, for the public client `demo-cli`.
 *
 * The suite prints an authorization URL and waits for the browser to come back to its own loopback
 * listener; Chromium plays the demo user at Warden's sign-in and consent pages. Both scenarios run in
 * one invocation: the code-grant scenario reads the metadata the other one fetched.
 *
 * The suite and the Node 22 it needs live in the nested package `test/conformance` (installed by the
 * root `prepare` script). Missing: skipped with a note, except under CI, where it fails.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approveInBrowser, browserSupport, launchBrowser } from '../helpers/browser.js';
import { freePort } from '../helpers/free-port.js';
import { isCi } from '../helpers/services.js';
import { spawnWarden, type SpawnedWarden } from '../helpers/spawn-warden.js';

const RUNNER = fileURLToPath(new URL('../conformance/node_modules/', import.meta.url));
const NODE22 = join(RUNNER, 'node/bin/node');
const SUITE = join(RUNNER, '@modelcontextprotocol/conformance/dist/index.js');

const browser = await browserSupport();
const suiteMissing = !existsSync(NODE22) || !existsSync(SUITE);
if (suiteMissing && !isCi()) console.info('[warden tests] conformance suite skipped: test/conformance is not installed (npm install --prefix test/conformance).');
const skip = browser.skip || (suiteMissing && !isCi());
const note = browser.skip ? browser.note : skip ? ' (skipped: test/conformance not installed — npm install --prefix test/conformance)' : '';

/** One entry of a scenario's `checks.json`. */
interface Check {
  id: string;
  status: 'SUCCESS' | 'FAILURE' | 'WARNING' | 'SKIPPED' | 'INFO';
  errorMessage?: string;
}

describe.skipIf(skip)(`MCP conformance suite, authorization-server scenarios, against warden start${note}`, () => {
  let warden: SpawnedWarden;
  let chromium: Browser;
  let suite: ChildProcess | undefined;
  let outDir: string;

  beforeAll(async () => {
    if (suiteMissing) throw new Error(`${NODE22} or ${SUITE} is missing (npm install --prefix test/conformance); CI is set, so this fails rather than skips`);
    [warden, chromium, outDir] = await Promise.all([
      spawnWarden({ command: 'start', port: await freePort() }),
      launchBrowser(),
      mkdtemp(join(tmpdir(), 'warden-conformance-')),
    ]);
  });
  afterAll(async () => {
    if (suite !== undefined && suite.exitCode === null && suite.signalCode === null) {
      const exited = new Promise((resolve) => suite?.once('exit', resolve));
      suite.kill('SIGKILL');
      await exited;
    }
    await chromium?.close();
    await warden?.stop();
    if (outDir !== undefined) await rm(outDir, { recursive: true, force: true });
  });

  it('OAuth 2.1 §4.1, RFC 8414 §3, RFC 8707, RFC 9207: every check of authorization-server-metadata-endpoint and authorization-code-grant is SUCCESS', { timeout: 60_000 }, async () => {
    const { issuer } = warden.stack;
    const user = warden.stack.users[0]!;
    const port = await freePort();
    const args = [SUITE, 'authorization', '--url', issuer, '--client-id', 'demo-cli', '--resource', warden.stack.resources[0]!.url, '--port', String(port), '-o', outDir];
    const child = spawn(NODE22, args, { cwd: outDir, stdio: ['ignore', 'pipe', 'pipe'] });
    suite = child;
    let output = '';
    const exited = new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code) => resolve(code));
    });

    // The suite prints the authorization request on a line of its own, then starts its callback
    // listener: drive the browser once both have happened, so it never meets a closed port.
    const authorizationUrl = await new Promise<string>((resolve, reject) => {
      const onData = (chunk: Buffer): void => {
        output += chunk.toString('utf8');
        const lines = output.split('\n').map((l) => l.trim());
        const url = lines.find((l) => l.startsWith(`${issuer}/authorize?`));
        if (url !== undefined && lines.includes(`Callback server started: http://127.0.0.1:${port}`)) resolve(url);
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
      void exited.then((code) => reject(new Error(`the suite exited (code ${code}) before asking for the browser\n${output}`)), reject);
    });

    const context = await chromium.newContext();
    try {
      const callback = await approveInBrowser(await context.newPage(), authorizationUrl, user);
      expect(`${callback.origin}${callback.pathname}`).toBe(`http://127.0.0.1:${port}/callback`);
      expect(callback.searchParams.get('iss')).toBe(issuer);
    } finally {
      await context.close();
    }

    const code = await exited;
    const checks: Record<string, Record<string, Check['status']>> = {};
    const failures: Check[] = [];
    for (const dir of await readdir(outDir)) {
      const scenario = dir.replace(/^authorization-server-/, '').replace(/-\d{4}-\d\d-\d\dT[\d-]+Z$/, '');
      for (const check of JSON.parse(await readFile(join(outDir, dir, 'checks.json'), 'utf8')) as Check[]) {
        (checks[scenario] ??= {})[check.id] = check.status;
        if (check.status !== 'SUCCESS') failures.push({ id: check.id, status: check.status, errorMessage: check.errorMessage ?? '' });
      }
    }
    expect(failures, output).toEqual([]);
    expect(checks).toEqual({
      'authorization-server-metadata-endpoint': { 'authorization-server-metadata': 'SUCCESS', 'authorization-server-metadata-cimd': 'SUCCESS' },
      'authorization-code-grant': { 'authorization-code-grant': 'SUCCESS' },
    });
    expect(code, output).toBe(0);
  });
});

/**
 * `warden audit` as a user runs it: the built CLI in a child process. `--list`; a full audit of
 * `warden start` with credentials given as files and an interactive `--sign-in` (this test plays
 * the person: it reads the URL the CLI prints, signs in at Warden's pages and lets the browser land
 * on the CLI's loopback redirect); `--json`/`--sarif`/`--html` files; `--fail-on` exit codes against
 * a flawed gallery server; 2 for bad option values; and no credential in anything the CLI printed.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkDefinitions } from '../../src/audit/index.js';
import { auditCommand } from '../../src/cli/audit.js';
import { freePort } from '../helpers/free-port.js';
import { startGallery, type Gallery } from '../helpers/gallery/index.js';
import { spawnWarden, WARDEN_CLI, type SpawnedWarden } from '../helpers/spawn-warden.js';
import { signInToWarden } from '../helpers/warden-sign-in.js';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI; `onStderr` sees stderr as it arrives (to play the user at --sign-in). */
function cli(args: string[], onStderr?: (text: string) => void): Promise<Run> {
  return new Promise((resolve) => {
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
    for (const name of Object.keys(env)) if (name.startsWith('WARDEN_')) delete env[name];
    const child = spawn(process.execPath, [WARDEN_CLI, 'audit', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
      onStderr?.(stderr);
    });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

let dir: string;
let warden: SpawnedWarden;
let gallery: Gallery;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'warden-audit-cli-'));
  [warden, gallery] = await Promise.all([spawnWarden({ command: 'start', port: await freePort() }), startGallery({ flaw: 'bearer-for-bound' })]);
});
afterAll(async () => {
  await Promise.all([warden?.stop(), gallery?.close()]);
  await rm(dir, { recursive: true, force: true });
});

describe('warden audit (CLI)', () => {
  it('--list prints every check with its id and severity, and exits 0', async () => {
    const run = await cli(['--list']);
    expect(run.code).toBe(0);
    for (const check of checkDefinitions()) expect(run.stdout).toContain(check.id);
    expect(run.stdout).toMatch(/dpop\.proof-replay\s+high/);
  });

  it('MCP 2025-11-25 authorization: audits warden start with --sign-in, credentials from files; writes JSON, SARIF and HTML; exits 0 with --fail-on medium', async () => {
    const service = warden.stack.clients.find((c) => c.client_secret !== undefined)!;
    const user = warden.stack.users[0]!;
    const secretFile = join(dir, 'client-secret');
    await writeFile(secretFile, `${service.client_secret}\n`);
    const [json, sarif, html] = ['report.json', 'report.sarif', 'report.html'].map((f) => join(dir, f)) as [string, string, string];
    let signedIn: Promise<void> | undefined;
    const run = await cli(
      [warden.stack.resources[0]!.url, '--client-id', service.client_id, '--client-secret', `@${secretFile}`, '--probe-tool', 'admin_reset', '--sign-in', '--allow-refresh', '--rate', '200', '--json', json, '--sarif', sarif, '--html', html, '--fail-on', 'medium'],
      (stderr) => {
        // The person at the browser: open the printed URL, sign in, and land on the loopback redirect.
        const url = /^\s+(http:\/\/\S+\/authorize\?\S+)$/m.exec(stderr)?.[1];
        if (url === undefined || signedIn !== undefined) return;
        signedIn = signInToWarden(new URL(url), user).then(async (callback) => void (await fetch(callback)).text());
      },
    );
    await signedIn;
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`warden audit ${warden.stack.resources[0]!.url}`);
    expect(run.stdout).toMatch(/Findings \(1\)/);
    const report = JSON.parse(await readFile(json, 'utf8')) as { findings: Array<{ id: string }>; checks: Array<{ id: string; status: string }> };
    expect(report.findings.map((f) => f.id).sort()).toEqual(['as.refresh-reuse']);
    // The sign-in worked: the checks that need it reached a verdict.
    expect(report.checks.find((c) => c.id === 'as.code-reuse')?.status).toBe('passed');
    expect((JSON.parse(await readFile(sarif, 'utf8')) as { version: string }).version).toBe('2.1.0');
    expect(await readFile(html, 'utf8')).toMatch(/^<!doctype html>/);
    const everything = [run.stdout, run.stderr, await readFile(json, 'utf8'), await readFile(sarif, 'utf8'), await readFile(html, 'utf8')].join('\n');
    expect(everything).not.toContain(service.client_secret);
    expect(everything).not.toContain(user.password);
  });

  it('--fail-on: exit 1 when a finding is that severe or worse (RFC 9449 §7.2 bound token as Bearer is high); --json to stdout', async () => {
    const high = await cli([gallery.resource, '--client-id', 'gallery-service', '--client-secret', 'gallery-service-secret-0123456789abcdef', '--rate', '500', '--fail-on', 'high', '--json']);
    expect(high.code, high.stderr).toBe(1);
    expect((JSON.parse(high.stdout) as { findings: Array<{ id: string }> }).findings.map((f) => f.id)).toEqual(['dpop.bound-token-as-bearer']);
  });

  it('exits 2 for a bad option value', async () => {
    const run = await cli([gallery.resource, '--rate', 'fast']);
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toBe('warden audit: --rate must be a positive number, got "fast"\n');
  });
});

/** The command's logic in-process (the spawned runs above prove the wiring to the exit code). */
describe('auditCommand', () => {
  function io() {
    const out = { stdout: '', stderr: '' };
    return { out, io: { stdout: (t: string) => void (out.stdout += t), stderr: (t: string) => void (out.stderr += t), stdoutTty: false, stderrTty: false, env: {} } };
  }

  it('exit 0 when no finding reaches --fail-on, 1 when one does', async () => {
    const options = { clientId: 'gallery-service', clientSecret: 'gallery-service-secret-0123456789abcdef', rate: '5000', checks: 'dpop.' };
    expect(await auditCommand(gallery.resource, { ...options, failOn: 'critical' }, io().io)).toBe(0);
    expect(await auditCommand(gallery.resource, { ...options, failOn: 'high' }, io().io)).toBe(1);
    expect(await auditCommand(gallery.resource, { ...options, failOn: 'none' }, io().io)).toBe(0);
  });

  it.each([
    [['--fail-on', 'severe'], /--fail-on must be one of critical, high, medium, low, info, none/],
    [['--checks', 'no.such-check'], /unknown check no\.such-check/],
    [['--max-requests', '1.5'], /--max-requests must be a positive integer/],
    [['--client-secret', 'x'], /--client-secret needs --client-id/],
    [['--dpop-key', '/nonexistent/key.json'], /--dpop-key: cannot read/],
    [['--token', '@/nonexistent/token'], /--token: cannot read/],
  ])('exit 2 for %j', async (args, message) => {
    const options: Record<string, string> = {};
    for (let i = 0; i < args.length; i += 2) options[(args[i] as string).slice(2).replace(/-(\w)/g, (_m, c: string) => c.toUpperCase())] = args[i + 1] as string;
    const { out, io: sink } = io();
    expect(await auditCommand(gallery.resource, options, sink)).toBe(2);
    expect(out.stderr).toMatch(message);
  });

  it('exit 2 without a URL or with one that is not http(s); 1 when the target cannot be reached', async () => {
    expect(await auditCommand(undefined, {}, io().io)).toBe(2);
    expect(await auditCommand('ftp://example.com/mcp', {}, io().io)).toBe(2);
    const { out, io: sink } = io();
    expect(await auditCommand(`http://127.0.0.1:${await freePort()}/mcp`, {}, sink)).toBe(1);
    expect(out.stderr).toMatch(/cannot reach/);
  });
});

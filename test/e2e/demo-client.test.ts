/**
 * `warden demo-client` against `warden start`, both as child processes, as a newcomer runs them:
 * every step of the flow is narrated, the tool calls work (step-up included), a replayed request
 * is refused, and nothing secret is printed.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/free-port.js';
import { spawnWarden, WARDEN_CLI, type SpawnedWarden } from '../helpers/spawn-warden.js';

let warden: SpawnedWarden;
beforeAll(async () => {
  warden = await spawnWarden({ command: 'start', port: await freePort() });
});
afterAll(async () => {
  await warden?.stop();
});

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WARDEN_CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('warden demo-client', () => {
  it('narrates discovery → metadata → registration → consent → DPoP token → tools → step-up → refresh → replay refused', async () => {
    const { code, stdout, stderr } = await run(['demo-client', '--state-dir', warden.stateDir]);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    const resource = warden.stack.resources[0]?.url as string;
    const steps = [
      `MCP server: ${resource}`,
      'Discovery: the MCP server answered 401 without a token',
      `Resource metadata (RFC 9728): authorization server ${warden.stack.issuer}`,
      'Authorization server metadata (RFC 8414)',
      'Registration (RFC 7591): this client is now',
      'Sign-in and consent: the authorization request asks for "mcp:tools"',
      'Token (authorization_code): type DPoP, scope "mcp:tools"',
      'tools/list → echo, add, whoami, admin_reset',
      'tools/call whoami → {',
      '403 insufficient_scope: the call needs "mcp:tools mcp:admin"',
      'Sign-in and consent: the authorization request asks for "mcp:tools mcp:admin"',
      'Token (authorization_code): type DPoP, scope "mcp:tools mcp:admin"',
      '→ demo state reset',
      'Token (refresh_token): type DPoP',
      'refresh token rotated',
      'tools/call echo → hello after refresh',
      '→ 401 invalid_dpop_proof: DPoP proof has already been used',
      'Done.',
    ];
    let at = 0;
    for (const step of steps) {
      const found = stdout.indexOf(step, at);
      expect(found, `step "${step}" (in order) in:\n${stdout}`).toBeGreaterThanOrEqual(0);
      at = found + step.length;
    }
    const thumbprint = /bound to: (\S+)/.exec(stdout)?.[1];
    expect(stdout).toContain(`"jkt":"${thumbprint}"`);
    // Only what tokens carry is printed: no JWT, no password.
    expect(stdout).not.toMatch(/eyJ[\w-]+\.[\w-]+\./);
    expect(stdout).not.toContain(warden.stack.users[0]?.password as string);
  });

  it('never sends the demo password to the sign-in page of a server --url leads to', async () => {
    const other = await spawnWarden({ command: 'start', port: await freePort() });
    try {
      const { code, stdout, stderr } = await run(['demo-client', '--state-dir', warden.stateDir, '--url', other.stack.resources[0]?.url as string]);
      expect(code).toBe(1);
      expect(stderr).toContain(`is ${new URL(other.stack.issuer).origin}, not this stack (${warden.stack.issuer}): the demo user's password stays here; use --login browser`);
      expect(stdout).not.toContain('Signing in as');
      expect(other.stdout()).not.toMatch(/login\.(failed|succeeded)/);
    } finally {
      await other.stop();
    }
  });

  it('says what to do when no stack is running there', async () => {
    const { code, stderr } = await run(['demo-client', '--state-dir', '/nonexistent-warden-state']);
    expect(code).toBe(1);
    expect(stderr).toMatch(/^warden: no running stack found in \/nonexistent-warden-state \(no stack.json\): start one with "warden start --state-dir/);
  });
});

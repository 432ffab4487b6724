/**
 * `warden policy test` as users run it: the built executable, a configuration file, claims and
 * arguments files; the decision explained, exit 0 allow, 1 deny, 2 usage or configuration.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const BIN = resolve(dirname(fileURLToPath(import.meta.url)), '../../dist/cli/main.js');
const ENV = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('WARDEN_')));

function warden(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: ENV });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

const CONFIG = `
publicUrl: https://mcp.example.com
storage: { kind: memory }
resources:
  - name: files
    path: /files
    upstream: http://127.0.0.1:9000/mcp
    scopes: { default: [mcp:tools], tools: { wipe: [mcp:admin] } }
    policy:
      groupsClaim: realm_access.roles
      rules:
        - { name: admins-delete, tools: [delete_file], allow: '"admins" in groups' }
        - { name: no-etc, tools: [read_file, delete_file], deny: 'has(arguments.path) && arguments.path.startsWith("/etc/")' }
        - { name: weekdays, allow: 'now.getDayOfWeek() >= 1 && now.getDayOfWeek() <= 5' }
`;

let dir: string;
const file = (name: string) => join(dir, name);

beforeAll(async () => {
  if (!existsSync(BIN)) throw new Error('dist/ is not built: run npx tsc -p tsconfig.build.json');
  dir = await mkdtemp(join(tmpdir(), 'warden-policy-test-'));
  await writeFile(file('warden.yaml'), CONFIG);
  await writeFile(file('broken.yaml'), CONFIG.replace('"admins" in groups', '"admins" in'));
  await writeFile(file('admin.json'), JSON.stringify({ sub: 'alice', client_id: 'agent', scope: 'mcp:tools', realm_access: { roles: ['admins'] } }));
  await writeFile(file('user.json'), JSON.stringify({ sub: 'bob', client_id: 'agent', scope: 'mcp:tools', realm_access: { roles: ['users'] } }));
  await writeFile(file('etc.json'), JSON.stringify({ path: '/etc/shadow' }));
  await writeFile(file('tmp.json'), JSON.stringify({ path: '/tmp/x' }));
  await writeFile(file('not-json.json'), '{ nope');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const MONDAY = '2026-12-07T10:00:00Z';
const base = (claims: string, tool: string, extra: string[] = []) => ['policy', 'test', '--config', file('warden.yaml'), '--server', 'files', '--tool', tool, '--claims', file(claims), '--at', MONDAY, ...extra];

describe('warden policy test', () => {
  it('allow: exit 0, every rule that applied shown', async () => {
    const r = await warden(base('admin.json', 'delete_file', ['--arguments', file('tmp.json')]));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('scopes: the call needs mcp:tools; the token has mcp:tools');
    expect(r.stdout).toContain('policy: groups (claim realm_access.roles) = ["admins"]');
    expect(r.stdout).toContain('rule admins-delete (allow): allow condition true');
    expect(r.stdout).toContain('rule no-etc (deny): deny condition false');
    expect(r.stdout.trim().split('\n').at(-1)).toBe('ALLOW');
  });

  it('deny by rule: exit 1, naming the rule and the 403 the gateway answers', async () => {
    const r = await warden(base('user.json', 'delete_file', ['--arguments', file('tmp.json')]));
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('rule admins-delete (allow): allow condition FALSE');
    expect(r.stdout.trim().split('\n').at(-1)).toBe('DENY by rule "admins-delete" (403 access_denied)');
    const etc = await warden(base('admin.json', 'read_file', ['--arguments', file('etc.json')]));
    expect(etc.code).toBe(1);
    expect(etc.stdout).toContain('rule admins-delete (allow): not about this tool');
    expect(etc.stdout.trim().split('\n').at(-1)).toBe('DENY by rule "no-etc" (403 access_denied)');
    // The time is a variable too: Sunday is refused by the weekdays rule.
    const sunday = await warden([...base('admin.json', 'read_file', ['--arguments', file('tmp.json')]).slice(0, -2), '--at', '2026-12-06T10:00:00Z']);
    expect(sunday.stdout.trim().split('\n').at(-1)).toBe('DENY by rule "weekdays" (403 access_denied)');
  });

  it('deny by scope (RFC 6750 §3.1 insufficient_scope), checked before the rules', async () => {
    const r = await warden(base('admin.json', 'wipe'));
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('scopes: the call needs mcp:tools mcp:admin; the token has mcp:tools');
    expect(r.stdout.trim().split('\n').at(-1)).toBe('DENY by scope: the token lacks mcp:admin (403 insufficient_scope)');
  });

  it('usage and configuration problems exit 2 with a message', async () => {
    const unknown = await warden(['policy', 'test', '--config', file('warden.yaml'), '--server', 'nope', '--tool', 'x', '--claims', file('admin.json')]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/no resource named "nope".*resources: files/);
    const badJson = await warden(base('not-json.json', 'x'));
    expect(badJson.code).toBe(2);
    expect(badJson.stderr).toMatch(/claims file .* is not JSON/);
    const missing = await warden(['policy', 'test', '--config', file('warden.yaml'), '--server', 'files', '--claims', file('admin.json')]);
    expect(missing.code).toBe(2);
    const broken = await warden(['policy', 'test', '--config', file('broken.yaml'), '--server', 'files', '--tool', 'x', '--claims', file('admin.json')]);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(/resources\[0\]\.policy\.rules\[0\]\.allow.*policy rule "admins-delete" allow \(line 1, column \d+\)/);
    const badTime = await warden([...base('admin.json', 'x').slice(0, -2), '--at', 'yesterday']);
    expect(badTime.code).toBe(2);
  });
});

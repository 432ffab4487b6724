/**
 * The console's actions over HTTP, with a session sealed by the server's own secret (as the
 * sign-in would give): the CSRF token and the same-origin rule guard every POST, and each
 * action is an audit event naming the operator.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { resolveConfig } from '../config/load.js';
import { createLogger } from '../observability/logger.js';
import type { AuditRecord } from '../observability/audit-event.js';
import { startStack, type RunningStack } from '../stack/stack.js';
import { sealCookie } from './signed-cookie.js';

const running: RunningStack[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
});

async function start(resource: Record<string, unknown> = {}): Promise<{ stack: RunningStack; records: AuditRecord[]; cookie: string; csrf: string }> {
  const records: AuditRecord[] = [];
  const config = resolveConfig({ storage: { kind: 'memory' }, authorizationServer: { demo: true }, resources: [{ name: 'demo', path: '/mcp', upstream: 'builtin:demo', ...resource }], admin: { subjects: ['demo'] } }, { env: {} });
  const stack = await startStack(config, { port: 0, logger: createLogger({ write: () => {} }) });
  running.push(stack);
  const ctx = stack.authorizationServer!.context;
  const csrf = 'c'.repeat(32);
  const cookie = `warden_admin=${sealCookie(ctx.hmac, 'warden_admin', { sub: 'demo', csrf, exp: Math.floor(Date.now() / 1000) + 600 })}`;
  // Without `audit:` the trail still runs (the console's audit page reads it): watch what it records.
  const trail = stack.auditTrail!;
  const emit = trail.emit.bind(trail);
  trail.emit = (body) => {
    const record = emit(body);
    records.push(record as AuditRecord);
    return record;
  };
  return { stack, records, cookie, csrf };
}

const post = (stack: RunningStack, path: string, cookie: string, fields: Record<string, string>, origin = stack.url) =>
  fetch(`${stack.url}${path}`, { method: 'POST', redirect: 'manual', headers: { cookie, origin, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() });

describe('operator console actions', () => {
  it('without a session, GET /admin starts the sign-in at the stack\'s own /authorize (PKCE S256, RFC 7636 §4.3)', async () => {
    const { stack } = await start();
    const res = await fetch(`${stack.url}/admin/clients`, { redirect: 'manual' });
    expect(res.status).toBe(303);
    const location = new URL(res.headers.get('location')!);
    expect(location.pathname).toBe('/authorize');
    expect(location.searchParams.get('client_id')).toBe('warden-console');
    expect(location.searchParams.get('code_challenge_method')).toBe('S256');
    expect(location.searchParams.get('resource')).toBe(`${stack.url}/admin`);
    expect(res.headers.get('set-cookie')).toMatch(/HttpOnly; SameSite=Lax/);
  });

  it('the servers page shows each configured scope description next to its scope, escaped; the AS registry carries them for the consent page (RFC 6749 §3.3)', async () => {
    const { stack, cookie } = await start({ scopes: { default: ['mcp:tools'], tools: { reset: ['mcp:admin'] }, descriptions: { 'mcp:tools': 'Use the demo tools', 'mcp:admin': 'Reset <b>everything</b>' } } });
    const res = await fetch(`${stack.url}/admin/servers`, { redirect: 'manual', headers: { cookie } });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('<th scope="col">Scope descriptions</th>');
    expect(html).toContain('<code>mcp:tools</code> Use the demo tools<br><code>mcp:admin</code> Reset &#60;b&#62;everything&#60;/b&#62;');
    expect(html).not.toContain('<b>everything');
    const registered = stack.authorizationServer!.context.resources.list().find((r) => r.name === 'demo');
    expect(registered?.scopeDescriptions).toEqual({ 'mcp:tools': 'Use the demo tools', 'mcp:admin': 'Reset <b>everything</b>' });
  });

  it('the servers page lists the live registry: config servers and servers added at run time, with source, policy rule names (not expressions) and rate limits; a removed one leaves', async () => {
    const { stack, cookie } = await start();
    const spec = {
      name: 'files',
      path: '/files',
      upstream: 'http://127.0.0.1:9/mcp',
      policy: { rules: [{ name: 'ops-only', tools: ['delete'], allow: '"ops" in groups' }] },
      rateLimit: { perClient: { rate: 2, burst: 5 } },
    };
    expect(await stack.registry.propose({ put: { name: 'files', spec } })).toMatchObject({ ok: true });
    const html = await (await fetch(`${stack.url}/admin/servers`, { redirect: 'manual', headers: { cookie } })).text();
    const rows = [...html.matchAll(/<tr>(.*?)<\/tr>/gs)].map((m) => [...m[1]!.matchAll(/<td>(.*?)<\/td>/gs)].map((c) => c[1])).filter((cells) => cells.length > 0);
    expect(rows.map((cells) => cells.slice(0, 2))).toEqual([['demo', 'config'], ['files', 'registry']]);
    expect(rows[1]).toContain('ops-only');
    expect(rows[1]).toContain('per client 2/s, burst 5');
    expect(html).not.toContain('in groups');
    expect(await stack.registry.propose({ remove: 'files' })).toMatchObject({ ok: true });
    const after = await (await fetch(`${stack.url}/admin/servers`, { redirect: 'manual', headers: { cookie } })).text();
    expect(after).not.toContain('/files');
  });

  it('a forged or tampered session is no session', async () => {
    const { stack, cookie } = await start();
    const tampered = cookie.replace(/\.([A-Za-z0-9_-])/, (_m, c: string) => `.${c === 'A' ? 'B' : 'A'}`);
    expect((await fetch(`${stack.url}/admin/keys`, { redirect: 'manual', headers: { cookie: tampered } })).status).toBe(303);
    expect((await fetch(`${stack.url}/admin/keys`, { redirect: 'manual', headers: { cookie } })).status).toBe(200);
  });

  it('a POST with a wrong CSRF token, or from another origin, is refused (403) and changes nothing', async () => {
    const { stack, cookie, csrf } = await start();
    expect((await post(stack, '/admin/clients/delete', cookie, { csrf: 'x'.repeat(32), client_id: 'demo-service' })).status).toBe(403);
    expect((await post(stack, '/admin/clients/delete', cookie, { csrf, client_id: 'demo-service' }, 'https://evil.example')).status).toBe(403);
    expect(await stack.authorizationServer!.context.stores.clients.get('demo-service')).toBeDefined();
  });

  it('deleting a client and revoking a user\'s grants work, each an audit event naming the operator', async () => {
    const { stack, cookie, csrf, records } = await start();
    const deleted = await post(stack, '/admin/clients/delete', cookie, { csrf, client_id: 'demo-service' });
    expect(deleted.status).toBe(303);
    expect(deleted.headers.get('location')).toMatch(/^\/admin\/clients\?done=/);
    expect(await stack.authorizationServer!.context.stores.clients.get('demo-service')).toBeUndefined();
    const revoked = await post(stack, '/admin/grants/revoke', cookie, { csrf, user: 'demo', client: 'demo-cli' });
    expect(revoked.status).toBe(303);
    expect(records.map((r) => [r.type, r.admin, r.clientId])).toEqual([
      ['client.deleted', 'demo', 'demo-service'],
      ['grant.revoked', 'demo', 'demo-cli'],
    ]);
  });
});

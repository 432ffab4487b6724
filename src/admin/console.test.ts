/**
 * The console's actions over HTTP, with a session sealed by the server's own secret (as the
 * sign-in would give): the CSRF token and the same-origin rule guard every POST, and each
 * action is an audit event naming the operator.
 */
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { addUser } from '../authorization-server/users.js';
import { resolveConfig } from '../config/load.js';
import { createLogger } from '../observability/logger.js';
import type { AuditRecord } from '../observability/audit-event.js';
import { startStack, type RunningStack } from '../stack/stack.js';
import { signInToWarden } from '../../test/helpers/warden-sign-in.js';
import { DEMO_CLI_REDIRECT_URIS } from '../stack/index.js';
import { sealCookie } from './signed-cookie.js';

const running: RunningStack[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
});

async function start(resource: Record<string, unknown> = {}, admin: Record<string, unknown> = { subjects: ['demo'] }): Promise<{ stack: RunningStack; records: AuditRecord[]; cookie: string; csrf: string }> {
  const records: AuditRecord[] = [];
  const config = resolveConfig({ storage: { kind: 'memory' }, authorizationServer: { demo: true }, resources: [{ name: 'demo', path: '/mcp', upstream: 'builtin:demo', ...resource }], admin }, { env: {} });
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

/** The demo user signs in for the public demo-cli (a remembered consent): its refresh token, and the authorization URL used. */
async function demoCliRefreshToken(stack: RunningStack): Promise<{ authorize: URL; refreshToken: string }> {
  const issuer = stack.info.issuer;
  const verifier = 'v'.repeat(43);
  const authorize = new URL(`${issuer}/authorize`);
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  for (const [k, v] of Object.entries({ response_type: 'code', client_id: 'demo-cli', redirect_uri: DEMO_CLI_REDIRECT_URIS[0]!, code_challenge: challenge, code_challenge_method: 'S256', resource: stack.info.resources[0]!.url, scope: 'mcp:tools', state: 's' })) authorize.searchParams.set(k, v);
  const back = await signInToWarden(authorize, stack.info.users[0]!);
  const issued = await fetch(`${issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code: back.searchParams.get('code')!, code_verifier: verifier, redirect_uri: DEMO_CLI_REDIRECT_URIS[0]!, client_id: 'demo-cli' }).toString(),
  });
  expect(issued.status).toBe(200);
  return { authorize, refreshToken: ((await issued.json()) as { refresh_token: string }).refresh_token };
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
    // The table names the rules; the expressions are in the server's edit form (its entry).
    expect(rows.flat().join(' ')).not.toContain('in groups');
    expect(html).toContain('&#34;allow&#34;: &#34;\\&#34;ops\\&#34; in groups&#34;');
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

  it('RFC 6749 §5.2: a disabled client gets invalid_client at the token endpoint (no new token, no refresh) and no authorization; enabled again it works; both are audit events', async () => {
    const { stack, cookie, csrf, records } = await start();
    const issuer = stack.info.issuer;
    const resource = stack.info.resources[0]!.url;
    const service = stack.info.clients.find((c) => c.client_id === 'demo-service')!;
    const token = (fields: Record<string, string>, headers: Record<string, string> = {}) =>
      fetch(`${issuer}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(fields).toString() });
    const serviceToken = () => token({ grant_type: 'client_credentials', resource }, { authorization: `Basic ${Buffer.from(`demo-service:${service.client_secret!}`).toString('base64')}` });
    expect((await serviceToken()).status).toBe(200);

    const { authorize, refreshToken } = await demoCliRefreshToken(stack);

    for (const clientId of ['demo-service', 'demo-cli']) {
      const res = await post(stack, '/admin/clients/disable', cookie, { csrf, client_id: clientId });
      expect(res.status).toBe(303);
      expect(new URL(res.headers.get('location')!, stack.url).searchParams.get('done')).toBe(`Client ${clientId} disabled.`);
    }
    const refused = await serviceToken();
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as { error: string }).error).toBe('invalid_client');
    const refresh = await token({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: 'demo-cli' });
    expect(refresh.status).toBe(401);
    expect(((await refresh.json()) as { error: string }).error).toBe('invalid_client');
    // RFC 6749 §4.1.2.1: an unknown (here: disabled) client is told to the user, never redirected to.
    const page = await fetch(authorize, { redirect: 'manual' });
    expect(page.status).toBe(400);
    expect(page.headers.get('location')).toBeNull();
    // The inspect page says so, and offers to enable it.
    const inspect = await (await fetch(`${stack.url}/admin/clients?client_id=demo-cli`, { headers: { cookie } })).text();
    expect(inspect).toMatch(/<dt>Status<\/dt><dd>disabled since \d{4}-/);
    expect(inspect).toContain('aria-label="Enable client demo-cli"');
    // The console's own client cannot be disabled (it would lock every operator out).
    await post(stack, '/admin/clients/disable', cookie, { csrf, client_id: 'warden-console' });
    expect((await stack.authorizationServer!.context.stores.clients.get('warden-console'))?.disabledAt).toBeUndefined();

    expect((await post(stack, '/admin/clients/enable', cookie, { csrf, client_id: 'demo-cli' })).status).toBe(303);
    const again = await token({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: 'demo-cli' });
    expect(again.status).toBe(200);
    expect((await serviceToken()).status).toBe(401);
    expect(records.filter((r) => r.type.startsWith('client.')).map((r) => [r.type, r.admin, r.clientId])).toEqual([
      ['client.disabled', 'demo', 'demo-service'],
      ['client.disabled', 'demo', 'demo-cli'],
      ['client.enabled', 'demo', 'demo-cli'],
    ]);
  });

  it('RFC 7009 §2.1: the consents page lists what a user allowed a client (scopes with their descriptions); revoking one forgets it and its grant (refresh refused), events naming the operator', async () => {
    const { stack, cookie, csrf, records } = await start({ scopes: { default: ['mcp:tools'], tools: { admin_reset: ['mcp:admin'] }, descriptions: { 'mcp:tools': 'Use the demo tools' } } });
    const { refreshToken } = await demoCliRefreshToken(stack);
    const page = await fetch(`${stack.url}/admin/consents`, { headers: { cookie } });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain(`<td>demo</td><td>demo-cli</td><td><code>${stack.info.resources[0]!.url}</code></td><td><code>mcp:tools</code> Use the demo tools</td>`);
    expect(html).toContain('aria-label="Revoke consent of demo for demo-cli"');
    // Filtered to another user: none.
    expect(await (await fetch(`${stack.url}/admin/consents?user=nobody`, { headers: { cookie } })).text()).toContain('Remembered consents: none.');

    const revoked = await post(stack, '/admin/consents/revoke', cookie, { csrf, user: 'demo', client: 'demo-cli' });
    expect(revoked.status).toBe(303);
    expect(new URL(revoked.headers.get('location')!, stack.url).searchParams.get('done')).toBe('Revoked the consent of demo for demo-cli (1 grant(s)).');
    expect(await stack.authorizationServer!.context.stores.consents.list('demo')).toEqual([]);
    const refresh = await fetch(`${stack.info.issuer}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: 'demo-cli' }).toString() });
    expect(refresh.status).toBe(400);
    expect(((await refresh.json()) as { error: string }).error).toBe('invalid_grant');
    expect(records.filter((r) => r.admin !== undefined).map((r) => [r.type, r.admin, r.subject, r.clientId])).toEqual([
      ['consent.revoked', 'demo', 'demo', 'demo-cli'],
      ['grant.revoked', 'demo', 'demo', 'demo-cli'],
    ]);
    expect(await (await fetch(`${stack.url}/admin/consents`, { headers: { cookie } })).text()).toContain('Remembered consents: none.');
  });

  it('the overview counts requests, refusals by reason (RFC 6750 §3.1), replays and refresh reuse over the last hour and since start, from the metrics', async () => {
    const { stack, cookie } = await start();
    for (let i = 0; i < 3; i++) {
      const res = await fetch(stack.info.resources[0]!.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"jsonrpc":"2.0","id":1,"method":"tools/list"}' });
      expect(res.status).toBe(401);
    }
    const html = await (await fetch(`${stack.url}/admin/`, { headers: { cookie } })).text();
    expect(html).toContain('<th scope="col">Last hour</th><th scope="col">Since start</th>');
    expect(html).toMatch(/the last hour \(since \d{4}-\d\d-\d\d \d\d:\d\d UTC\)/);
    expect(html).toContain('<tr><td>Refused: no_credentials</td><td>3</td><td>3</td></tr>');
    expect(html).toContain('<tr><td>Refusals at protected resources (all reasons)</td><td>3</td><td>3</td></tr>');
    expect(html).toContain('<tr><td>DPoP proofs replayed</td><td>0</td><td>0</td></tr>');
    expect(html).toContain('<tr><td>Refresh token reuse (families revoked)</td><td>0</td><td>0</td></tr>');
    const requests = /<tr><td>Requests answered \(every route\)<\/td><td>(\d+)<\/td><td>(\d+)<\/td><\/tr>/.exec(html);
    expect(Number(requests?.[1])).toBeGreaterThanOrEqual(3);
  });

  it('admin.console: true runs the console for users with the admin role alone; a configuration naming no admin at all is refused with what to set', async () => {
    const { stack } = await start({}, { console: true });
    const ctx = stack.authorizationServer!.context;
    await addUser(ctx, 'root', 'root-password-long-enough', { roles: ['admin'] });
    const session = (sub: string) => `warden_admin=${sealCookie(ctx.hmac, 'warden_admin', { sub, csrf: 'c'.repeat(32), exp: Math.floor(Date.now() / 1000) + 600 })}`;
    expect((await fetch(`${stack.url}/admin/keys`, { redirect: 'manual', headers: { cookie: session('root') } })).status).toBe(200);
    // The demo user is no administrator here (no role, no admin.subjects): back to the sign-in.
    expect((await fetch(`${stack.url}/admin/keys`, { redirect: 'manual', headers: { cookie: session('demo') } })).status).toBe(303);
    expect(() => resolveConfig({ storage: { kind: 'memory' }, admin: {} }, { env: {} })).toThrow(/admin: name admin clients \(the admin API\), admin subjects \(the console\), or set console: true/);
  });
});

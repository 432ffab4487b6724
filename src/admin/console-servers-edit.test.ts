/**
 * Editing the fleet from the console's servers page (issue 12): add, edit and remove run-time
 * servers, each a `registry.changed` audit event naming the operator; a refused entry is shown
 * with the registry's key paths and reasons, escaped, and the running registry stays; servers
 * declared in the configuration are read-only; the CSRF token, the same-origin rule and the admin
 * check guard every POST.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { addUser } from '../authorization-server/users.js';
import { resolveConfig } from '../config/load.js';
import { createLogger } from '../observability/logger.js';
import type { AuditRecord } from '../observability/audit-event.js';
import { startStack, type RunningStack } from '../stack/stack.js';
import { sealCookie } from './signed-cookie.js';

const running: RunningStack[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
});

const CSRF = 'c'.repeat(32);

async function start(): Promise<{ stack: RunningStack; records: AuditRecord[]; session: (sub: string) => string }> {
  const records: AuditRecord[] = [];
  const config = resolveConfig({ storage: { kind: 'memory' }, authorizationServer: { demo: true }, resources: [{ name: 'demo', path: '/mcp', upstream: 'builtin:demo' }], admin: { subjects: ['demo'] } }, { env: {} });
  const stack = await startStack(config, { port: 0, logger: createLogger({ write: () => {} }) });
  running.push(stack);
  const ctx = stack.authorizationServer!.context;
  const session = (sub: string) => `warden_admin=${sealCookie(ctx.hmac, 'warden_admin', { sub, csrf: CSRF, exp: Math.floor(Date.now() / 1000) + 600 })}`;
  const trail = stack.auditTrail!;
  const emit = trail.emit.bind(trail);
  trail.emit = (body) => {
    const record = emit(body);
    records.push(record as AuditRecord);
    return record;
  };
  return { stack, records, session };
}

const post = (stack: RunningStack, path: string, cookie: string, fields: Record<string, string>, origin = stack.url) =>
  fetch(`${stack.url}${path}`, { method: 'POST', redirect: 'manual', headers: { cookie, origin, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() });

const page = async (stack: RunningStack, cookie: string) => (await fetch(`${stack.url}/admin/servers`, { redirect: 'manual', headers: { cookie } })).text();
const notice = (res: Response, stack: RunningStack) => new URL(res.headers.get('location')!, stack.url).searchParams.get('done');

/** The entry an edit form holds (its textarea, unescaped and parsed). */
function formEntry(html: string, name: string): unknown {
  const label = new RegExp(`<label for="(entry-\\d+)">Entry of ${name} \\(JSON\\)</label>`).exec(html);
  const text = label && new RegExp(`<textarea id="${label[1]}"[^>]*>\n([^<]*)</textarea>`).exec(html)?.[1];
  if (!text) return undefined;
  return JSON.parse(text.replace(/&#(\d+);/g, (_m, code: string) => String.fromCharCode(Number(code))).replaceAll('&amp;', '&'));
}

const FILES = { path: '/files', upstream: 'http://127.0.0.1:9/mcp', scopes: { default: ['mcp:tools'] } };

describe('console: editing the fleet registry (issue 12)', () => {
  it('adds a server, edits its entry (policy rules included), removes it — each through the registry, each a registry.changed event naming the operator', async () => {
    const { stack, records, session } = await start();
    const cookie = session('demo');
    const added = await post(stack, '/admin/servers/add', cookie, { csrf: CSRF, name: 'files', entry: JSON.stringify(FILES) });
    expect(added.status).toBe(303);
    expect(notice(added, stack)).toBe('Server files added.');
    expect(stack.registry.record('files')?.spec).toEqual({ ...FILES, name: 'files' });
    expect(stack.authorizationServer!.context.resources.list().map((r) => r.name)).toContain('files');

    // The page offers the stored entry in a labelled textarea, and a remove button; the config server only read-only.
    const html = await page(stack, cookie);
    expect(html).toContain('<label for="entry-0">Entry of files (JSON)</label><textarea id="entry-0" name="entry"');
    expect(formEntry(html, 'files')).toEqual({ ...FILES, name: 'files' });
    expect(html).toContain('aria-label="Remove server files"');
    expect(html).toContain('Read-only here: <strong>demo</strong>. The configuration file declares them');
    expect(html).not.toContain('Entry of demo');
    expect(html).toContain('action="/admin/servers/add"');

    const policy = { rules: [{ name: 'ops-only', tools: ['delete'], allow: '"ops" in groups' }] };
    const edited = await post(stack, '/admin/servers/edit', cookie, { csrf: CSRF, name: 'files', entry: JSON.stringify({ ...FILES, name: 'files', policy }) });
    expect(edited.status).toBe(303);
    expect(notice(edited, stack)).toBe('Server files replaced.');
    expect(stack.registry.current().servers.find((s) => s.name === 'files')?.policy?.rules.map((r) => r.name)).toEqual(['ops-only']);
    expect(formEntry(await page(stack, cookie), 'files')).toEqual({ ...FILES, name: 'files', policy });

    const removed = await post(stack, '/admin/servers/remove', cookie, { csrf: CSRF, name: 'files' });
    expect(removed.status).toBe(303);
    expect(notice(removed, stack)).toBe('Server files removed.');
    expect(stack.registry.current().servers.map((s) => s.name)).toEqual(['demo']);

    expect(records.filter((r) => r.type === 'registry.changed').map((r) => [r.admin, r.clientId, r.detail])).toEqual([
      ['demo', 'warden-console', expect.stringMatching(/^operator console: server "files" added \(revision \d+\)$/)],
      ['demo', 'warden-console', expect.stringMatching(/^operator console: server "files" replaced \(revision \d+\)$/)],
      ['demo', 'warden-console', expect.stringMatching(/^operator console: server "files" removed \(revision \d+\)$/)],
    ]);
  });

  it('a policy rule that does not compile is refused (400) with its key path, line and column — the registry\'s own problems, escaped — the entry shown again, and the running registry stays', async () => {
    const { stack, records, session } = await start();
    const cookie = session('demo');
    expect((await post(stack, '/admin/servers/add', cookie, { csrf: CSRF, name: 'files', entry: JSON.stringify(FILES) })).status).toBe(303);
    const before = stack.registry.current();
    const bad = { ...FILES, name: 'files', upstream: 'http://127.0.0.1:9/<script>', policy: { rules: [{ name: 'broken', allow: '"admins" in groups &&\n  tool ==' }] } };
    const res = await post(stack, '/admin/servers/edit', cookie, { csrf: CSRF, name: 'files', entry: JSON.stringify(bad, null, 2) });
    expect(res.status).toBe(400);
    const html = await res.text();
    // The same problems the registry gives for the same entry (the admin API's path).
    const direct = await stack.registry.propose({ put: { name: 'files', spec: bad } });
    expect(direct.ok).toBe(false);
    const problems = direct.ok ? [] : 'problems' in direct ? direct.problems : [];
    const compile = problems.find((p) => p.path === 'policy.rules[0].allow');
    expect(compile?.message).toMatch(/policy rule "broken" allow \(line 2, column \d+\)/);
    expect(html).toContain('<div class="alert" role="alert"><p>The change to server files was refused; the running registry is unchanged.</p>');
    expect(html).toContain(`<li><code>policy.rules[0].allow</code>: ${compile!.message.replaceAll('"', '&#34;').replaceAll('<', '&#60;').replaceAll('>', '&#62;')}</li>`);
    // What was sent stays in the form to be fixed, escaped.
    expect(html).toContain('http://127.0.0.1:9/&#60;script&#62;');
    expect(html).not.toContain('<script>');
    expect(stack.registry.current()).toEqual(before);
    expect(stack.registry.record('files')?.spec).toEqual({ ...FILES, name: 'files' });
    expect(records.filter((r) => r.type === 'registry.changed')).toHaveLength(1);
  });

  it('refusals: not JSON, another name in the entry, too large, adding over a running server, a server declared in config (409), removing an unknown one — each shown, nothing changed', async () => {
    const { stack, records, session } = await start();
    const cookie = session('demo');
    const bodyOf = async (res: Response, status: number) => {
      expect(res.status).toBe(status);
      return res.text();
    };
    expect(await bodyOf(await post(stack, '/admin/servers/add', cookie, { csrf: CSRF, name: 'files', entry: '{"path": "/files",' }), 400)).toMatch(/<li><code>\(top level\)<\/code>: /);
    expect(await bodyOf(await post(stack, '/admin/servers/add', cookie, { csrf: CSRF, name: 'files', entry: JSON.stringify({ ...FILES, name: 'other' }) }), 400)).toContain('<li><code>name</code>: must be &#34;files&#34; (the name in the URL), or left out</li>');
    expect(await bodyOf(await post(stack, '/admin/servers/add', cookie, { csrf: CSRF, name: '', entry: JSON.stringify(FILES) }), 400)).toContain('<li><code>name</code>: required</li>');
    expect(await bodyOf(await post(stack, '/admin/servers/add', cookie, { csrf: CSRF, name: 'demo', entry: JSON.stringify({ path: '/other', upstream: 'builtin:demo' }) }), 409)).toContain('server &#34;demo&#34; is declared in the configuration file: change it there');
    expect(await bodyOf(await post(stack, '/admin/servers/remove', cookie, { csrf: CSRF, name: 'demo' }), 409)).toContain('is declared in the configuration file');
    expect(await bodyOf(await post(stack, '/admin/servers/remove', cookie, { csrf: CSRF, name: 'nope' }), 404)).toContain('no server named &#34;nope&#34;');
    // The admin API's size limit for an entry (64 KiB); a form beyond the console's limit is 413.
    const big = JSON.stringify({ ...FILES, pad: 'x'.repeat(70 * 1024) });
    expect(await bodyOf(await post(stack, '/admin/servers/add', cookie, { csrf: CSRF, name: 'files', entry: big }), 400)).toContain('<li><code>(top level)</code>: at most 65536 bytes</li>');
    expect((await post(stack, '/admin/servers/add', cookie, { csrf: CSRF, name: 'files', entry: '%'.repeat(80 * 1024) })).status).toBe(413);
    expect((await post(stack, '/admin/servers/add', cookie, { csrf: CSRF, name: 'files', entry: JSON.stringify(FILES) })).status).toBe(303);
    expect(await bodyOf(await post(stack, '/admin/servers/add', cookie, { csrf: CSRF, name: 'files', entry: JSON.stringify({ ...FILES, path: '/files2' }) }), 409)).toContain('runs already: edit it instead');
    expect(stack.registry.record('files')?.spec).toEqual({ ...FILES, name: 'files' });
    expect(stack.registry.current().servers.map((s) => s.name)).toEqual(['demo', 'files']);
    expect(records.filter((r) => r.type === 'registry.changed')).toHaveLength(1);
  });

  it('without the CSRF token, with a wrong one, from another origin, or from a non-admin session, a change is refused (403) and nothing changes', async () => {
    const { stack, records, session } = await start();
    await addUser(stack.authorizationServer!.context, 'bob', 'bob-password-long-enough-1');
    const entry = JSON.stringify(FILES);
    expect((await post(stack, '/admin/servers/add', session('demo'), { name: 'files', entry })).status).toBe(403);
    expect((await post(stack, '/admin/servers/add', session('demo'), { csrf: 'x'.repeat(32), name: 'files', entry })).status).toBe(403);
    expect((await post(stack, '/admin/servers/add', session('demo'), { csrf: CSRF, name: 'files', entry }, 'https://evil.example')).status).toBe(403);
    // A signed-in user, but no administrator (not in admin.subjects, no admin role).
    expect((await post(stack, '/admin/servers/add', session('bob'), { csrf: CSRF, name: 'files', entry })).status).toBe(403);
    expect(stack.registry.current().servers.map((s) => s.name)).toEqual(['demo']);
    // The same for a remove of a server that runs.
    expect((await post(stack, '/admin/servers/add', session('demo'), { csrf: CSRF, name: 'files', entry })).status).toBe(303);
    expect((await post(stack, '/admin/servers/remove', session('demo'), { name: 'files' })).status).toBe(403);
    expect((await post(stack, '/admin/servers/remove', session('bob'), { csrf: CSRF, name: 'files' })).status).toBe(403);
    expect(stack.registry.current().servers.map((s) => s.name)).toEqual(['demo', 'files']);
    expect(records.filter((r) => r.type === 'registry.changed')).toHaveLength(1);
  });
});

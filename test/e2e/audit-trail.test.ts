/**
 * Who did what (issue 12, "done means"): one run drives a sign-in (a wrong password first), an
 * allowed tool call, a denied one and its step-up (403 insufficient_scope → authorize again with
 * the scope the challenge names), a refresh reuse that revokes the family, and a revocation from
 * the operator console (signed in through the stack's own AS as a configured admin, CSRF token
 * from the console's page) — then finds exactly those events in the JSON-lines audit log (hash
 * chain intact), as OTLP log records and as the spans of the requests they happened in, at an
 * in-test OTLP/HTTP receiver, with no password, code, verifier, token, cookie or secret anywhere.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cookiePair, csrfOf } from '../helpers/login-flow.js';
import { WARDEN_CLI } from '../helpers/spawn-warden.js';
import { resolveConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/observability/logger.js';
import { startStack, verifyAuditLogFiles, type AuditRecord, type RunningStack } from '../../src/stack/index.js';

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

type OtlpAttribute = { key: string; value: Record<string, unknown> };
type OtlpItem = { traceId?: string; spanId?: string; attributes?: OtlpAttribute[]; eventName?: string; body?: { stringValue?: string } };

/** A plain node:http OTLP/HTTP receiver decoding the JSON export (`/v1/traces`, `/v1/logs`). */
async function otlpReceiver(): Promise<{ url: string; bodies: Array<{ path: string; raw: string }>; spans(): OtlpItem[]; logs(): OtlpItem[] }> {
  const bodies: Array<{ path: string; raw: string }> = [];
  const server = createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (raw += c));
    req.on('end', () => {
      bodies.push({ path: req.url ?? '', raw });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanup.push(() => new Promise((resolve) => server.close(resolve)));
  const parsed = (path: string) => bodies.filter((b) => b.path === path).map((b) => JSON.parse(b.raw) as Record<string, unknown>);
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    bodies,
    spans: () => parsed('/v1/traces').flatMap((j) => (j['resourceSpans'] as Array<{ scopeSpans: Array<{ spans: OtlpItem[] }> }>).flatMap((r) => r.scopeSpans.flatMap((s) => s.spans))),
    logs: () => parsed('/v1/logs').flatMap((j) => (j['resourceLogs'] as Array<{ scopeLogs: Array<{ logRecords: OtlpItem[] }> }>).flatMap((r) => r.scopeLogs.flatMap((s) => s.logRecords))),
  };
}

const attr = (item: OtlpItem | undefined, key: string): unknown => {
  const v = item?.attributes?.find((a) => a.key === key)?.value;
  return v === undefined ? undefined : (v['stringValue'] ?? v['intValue'] ?? v['arrayValue']);
};

/** `warden audit-log verify FILE` (the built CLI): exit code and output. */
const verifyWithCli = (file: string) =>
  new Promise<{ code: number; stdout: string }>((resolve) => {
    execFile(process.execPath, [WARDEN_CLI, 'audit-log', 'verify', file], (error, stdout) => resolve({ code: error === null ? 0 : Number(error.code), stdout }));
  });

const REDIRECT = 'http://127.0.0.1/callback';
const form = (url: string, fields: Record<string, string>, headers: Record<string, string> = {}) =>
  fetch(url, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(fields).toString() });

/** Everything a run must never write: filled in as the run sees it. */
const secrets: string[] = [];

/**
 * Signs in on the stack's login page and allows (RFC 6749 §4.1.1–4.1.2): from the `/authorize`
 * URL to the redirect carrying the code. Optionally a wrong password first.
 */
async function signInAndAllow(stack: RunningStack, authorizeUrl: string, opts: { wrongPasswordFirst?: boolean } = {}): Promise<URL> {
  const user = stack.info.users[0]!;
  const start = await fetch(authorizeUrl, { redirect: 'manual' });
  expect(start.status).toBe(303);
  const interaction = new URL(start.headers.get('location')!, authorizeUrl).href;
  let page = await (await fetch(interaction)).text();
  if (opts.wrongPasswordFirst) {
    const wrong = await form(interaction, { csrf: csrfOf(page), action: 'login', username: user.username, password: `${user.password}-wrong` });
    expect(wrong.status).toBe(400);
    page = await wrong.text();
  }
  secrets.push(csrfOf(page));
  const signedIn = await form(interaction, { csrf: csrfOf(page), action: 'login', username: user.username, password: user.password });
  const session = cookiePair(signedIn.headers.get('set-cookie') ?? '');
  secrets.push(session.split('=')[1]!);
  const consentPage = await signedIn.text();
  secrets.push(csrfOf(consentPage));
  const allowed = await form(interaction, { csrf: csrfOf(consentPage), action: 'allow' }, { cookie: session });
  expect(allowed.status).toBe(303);
  const back = new URL(allowed.headers.get('location')!);
  secrets.push(back.searchParams.get('code')!);
  return back;
}

/** An authorization as the demo CLI (public client, PKCE RFC 7636 S256), for `scope`. */
async function authorize(stack: RunningStack, scope: string, opts: { wrongPasswordFirst?: boolean } = {}): Promise<{ code: string; verifier: string }> {
  const verifier = randomBytes(32).toString('base64url');
  secrets.push(verifier);
  const url = new URL(`${stack.url}/authorize`);
  const params = { response_type: 'code', client_id: 'demo-cli', redirect_uri: REDIRECT, code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256', resource: `${stack.url}/mcp`, scope, state: 's1' };
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  const back = await signInAndAllow(stack, url.href, opts);
  expect(back.searchParams.get('iss')).toBe(stack.info.issuer);
  return { code: back.searchParams.get('code')!, verifier };
}

async function token(stack: RunningStack, fields: Record<string, string>): Promise<{ status: number; requestId: string | null; body: Record<string, string> }> {
  const res = await form(`${stack.url}/token`, { client_id: 'demo-cli', ...fields });
  const body = (await res.json()) as Record<string, string>;
  for (const key of ['access_token', 'refresh_token']) if (body[key] !== undefined) secrets.push(body[key]);
  return { status: res.status, requestId: res.headers.get('x-request-id'), body };
}

const callTool = (stack: RunningStack, accessToken: string, name: string) =>
  fetch(`${stack.url}/mcp`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${accessToken}` },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: { text: 'hi' } } }),
  });

/**
 * The operator console's sign-in (its own code flow with PKCE to the stack's AS), then its
 * revoke-grants form with the session's CSRF token, from the console's origin. Returns the
 * `X-Request-Id` of the revoking POST.
 */
async function revokeFromConsole(stack: RunningStack, user: string, client: string): Promise<string | null> {
  const open = await fetch(`${stack.url}/admin/grants`, { redirect: 'manual' });
  expect(open.status).toBe(303);
  const login = cookiePair(open.headers.get('set-cookie') ?? '');
  secrets.push(login.split('=')[1]!);
  const back = await signInAndAllow(stack, open.headers.get('location')!);
  expect(back.pathname).toBe('/admin/callback');
  const callback = await fetch(back, { redirect: 'manual', headers: { cookie: login } });
  expect(callback.status).toBe(303);
  const session = callback.headers.getSetCookie().map(cookiePair).find((c) => c.startsWith('warden_admin='))!;
  expect(session).toBeDefined();
  secrets.push(session.split('=')[1]!);
  const page = await fetch(`${stack.url}/admin/grants`, { headers: { cookie: session } });
  expect(page.status).toBe(200);
  const csrf = csrfOf(await page.text());
  secrets.push(csrf);
  const revoked = await form(`${stack.url}/admin/grants/revoke`, { csrf, user, client }, { cookie: session, origin: new URL(stack.url).origin });
  expect(revoked.status).toBe(303);
  expect(decodeURIComponent(revoked.headers.get('location')!)).toMatch(/Revoked 1 grant\(s\)/);
  return revoked.headers.get('x-request-id');
}

describe('audit trail end to end (issue 12)', () => {
  it('sign-in, step-up (RFC 6750 §3.1 insufficient_scope), tool calls, refresh reuse (RFC 9700 §4.14.2) and a console revocation: exactly those events in the chained JSON log, as OTLP log records and spans, no credential anywhere', async () => {
    secrets.length = 0;
    const receiver = await otlpReceiver();
    const dir = await mkdtemp(join(tmpdir(), 'warden-e2e-audit-'));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    const path = join(dir, 'audit.log');
    const config = resolveConfig(
      {
        storage: { kind: 'memory' },
        authorizationServer: { demo: true },
        resources: [{ name: 'demo', path: '/mcp', upstream: 'builtin:demo' }],
        audit: { sink: 'file', path, instance: 'e2e' },
        openTelemetry: { endpoint: receiver.url },
        admin: { subjects: ['demo'] },
      },
      { env: {} },
    );
    const stack = await startStack(config, { port: 0, logger: createLogger({ write: () => {} }) });
    cleanup.push(() => stack.close());
    const user = stack.info.users[0]!;
    expect(user.username).toBe('demo');
    secrets.push(user.password, ...stack.info.clients.flatMap((c) => (c.client_secret ? [c.client_secret] : [])));

    // Sign-in (one wrong password first), consent, code, tokens.
    const first = await authorize(stack, 'mcp:tools', { wrongPasswordFirst: true });
    const t1 = await token(stack, { grant_type: 'authorization_code', code: first.code, code_verifier: first.verifier, redirect_uri: REDIRECT });
    expect(t1.status).toBe(200);

    // An allowed tool call; a denied one, whose challenge names the scope to step up to.
    expect((await callTool(stack, t1.body['access_token']!, 'echo')).status).toBe(200);
    const denied = await callTool(stack, t1.body['access_token']!, 'admin_reset');
    expect(denied.status).toBe(403);
    const challenge = denied.headers.get('www-authenticate') ?? '';
    expect(challenge).toMatch(/error="insufficient_scope"/);
    const needed = /scope="([^"]+)"/.exec(challenge)?.[1];
    expect(needed?.split(' ')).toContain('mcp:admin');
    const stepUp = await authorize(stack, needed!);
    const t2 = await token(stack, { grant_type: 'authorization_code', code: stepUp.code, code_verifier: stepUp.verifier, redirect_uri: REDIRECT });
    expect(t2.status).toBe(200);
    expect(t2.body['scope']?.split(' ')).toContain('mcp:admin');
    expect((await callTool(stack, t2.body['access_token']!, 'admin_reset')).status).toBe(200);

    // A refresh, then the rotated refresh token again: reuse; the whole family is revoked —
    // the successor refresh token and the access token it came with are refused too.
    const refreshed = await token(stack, { grant_type: 'refresh_token', refresh_token: t1.body['refresh_token']! });
    expect(refreshed.status).toBe(200);
    const reused = await token(stack, { grant_type: 'refresh_token', refresh_token: t1.body['refresh_token']! });
    expect([reused.status, reused.body['error']]).toEqual([400, 'invalid_grant']);
    expect((await token(stack, { grant_type: 'refresh_token', refresh_token: refreshed.body['refresh_token']! })).body['error']).toBe('invalid_grant');
    expect((await callTool(stack, refreshed.body['access_token']!, 'echo')).status).toBe(401);

    // The operator revokes the user's grants for the CLI from the console; the step-up tokens die.
    const revokeRequestId = await revokeFromConsole(stack, user.username, 'demo-cli');
    expect((await callTool(stack, t2.body['access_token']!, 'admin_reset')).status).toBe(401);
    expect((await token(stack, { grant_type: 'refresh_token', refresh_token: t2.body['refresh_token']! })).body['error']).toBe('invalid_grant');
    await stack.close();

    // --- The JSON-lines log: exactly the run's events, in order, each for the right client. ---
    const text = await readFile(path, 'utf8');
    const records = text.trimEnd().split('\n').map((line) => JSON.parse(line) as AuditRecord);
    const summary = records.map((r) => `${r.type === 'authz.decision' ? `${r.outcome}:${r.reason}:${r.tools?.join(',')}` : r.type} ${r.clientId ?? '-'}`);
    expect(summary).toEqual([
      'login.failed demo-cli',
      'login.succeeded demo-cli',
      'consent.given demo-cli',
      'code.issued demo-cli',
      'code.redeemed demo-cli',
      'token.issued demo-cli',
      'allow:ok:echo demo-cli',
      'deny:insufficient_scope:admin_reset demo-cli',
      // Step-up.
      'login.succeeded demo-cli',
      'consent.given demo-cli',
      'code.issued demo-cli',
      'code.redeemed demo-cli',
      'token.issued demo-cli',
      'allow:ok:admin_reset demo-cli',
      // Refresh, reuse, the family's access token refused.
      'token.refreshed demo-cli',
      'refresh.reuse_detected demo-cli',
      'deny:invalid_token:echo demo-cli',
      // The operator's own sign-in to the console, then the revocation naming them.
      'login.succeeded warden-console',
      'consent.given warden-console',
      'code.issued warden-console',
      'code.redeemed warden-console',
      'token.issued warden-console',
      'grant.revoked demo-cli',
      'deny:invalid_token:admin_reset demo-cli',
    ]);
    expect(records.every((r) => r.instance === 'e2e' && r.subject === 'demo')).toBe(true);
    const revocation = records.find((r) => r.type === 'grant.revoked')!;
    expect(revocation).toMatchObject({ admin: 'demo', subject: 'demo', clientId: 'demo-cli', requestId: revokeRequestId });
    expect(revocation.detail).toMatch(/^operator console: /);
    expect(records.find((r) => r.type === 'refresh.reuse_detected')).toMatchObject({ requestId: reused.requestId, grantId: records.find((r) => r.type === 'token.refreshed')!.grantId });
    const tokensBeforeConsole = records.filter((r) => r.type === 'token.issued' && r.clientId === 'demo-cli');
    expect(tokensBeforeConsole.map((r) => r.scopes)).toEqual([['mcp:tools'], expect.arrayContaining(['mcp:tools', 'mcp:admin'])]);
    // Every event happened in a request: it names it and its trace, as the AS answered it.
    expect(records.every((r) => typeof r.requestId === 'string' && /^[0-9a-f]{32}$/.test(r.traceId ?? '') && /^[0-9a-f]{16}$/.test(r.spanId ?? ''))).toBe(true);
    expect(await verifyAuditLogFiles([path])).toMatchObject({ intact: true, records: records.length, problems: [] });
    expect(await verifyWithCli(path)).toEqual({ code: 0, stdout: `intact: ${records.length} record(s) in 1 chain(s)\n` });
    // The chain is what makes that verdict mean something: without the console's revocation, it is not intact there.
    const cut = join(dir, 'cut.log');
    const lines = text.trimEnd().split('\n');
    const revokedAt = records.indexOf(revocation);
    await writeFile(cut, `${[...lines.slice(0, revokedAt), ...lines.slice(revokedAt + 1)].join('\n')}\n`);
    const cutVerdict = await verifyWithCli(cut);
    expect(cutVerdict.code).toBe(1);
    expect(cutVerdict.stdout).toContain(`${cut}:${revokedAt + 1}: cut:`);

    // --- OTLP log records: the same records, in order, correlated with their request's span. ---
    // Batches may arrive in any order; the chain position orders them.
    const logs = receiver.logs().sort((a, b) => Number(attr(a, 'warden.seq')) - Number(attr(b, 'warden.seq')));
    expect(logs.map((l) => Number(attr(l, 'warden.seq')))).toEqual(records.map((r) => r.seq));
    expect(logs.map((l) => l.eventName)).toEqual(records.map((r) => `warden.audit.${r.type}`));
    logs.forEach((log, i) => {
      const record = records[i]!;
      expect([log.traceId, log.spanId, attr(log, 'warden.requestId'), attr(log, 'warden.clientId')]).toEqual([record.traceId, record.spanId, record.requestId, record.clientId]);
    });

    // --- Spans: each event's request is a span at the receiver, routed where the event says;
    // the decisions are exactly the spans carrying warden.decision, with the same outcome. ---
    const spans = receiver.spans();
    for (const record of records) {
      const span = spans.find((s) => s.spanId === record.spanId && s.traceId === record.traceId);
      expect(span, `${record.type} seq ${record.seq}`).toBeDefined();
      expect(attr(span, 'warden.route')).toBe(record.type === 'authz.decision' ? 'resource' : 'authorization_server');
      if (record.type === 'authz.decision') expect([attr(span, 'warden.decision'), attr(span, 'warden.reason')]).toEqual([record.outcome, record.reason]);
    }
    const decisionSpans = spans.filter((s) => attr(s, 'warden.decision') !== undefined).map((s) => s.spanId);
    expect(decisionSpans.sort()).toEqual(records.filter((r) => r.type === 'authz.decision').map((r) => r.spanId).sort());

    // --- No credential anywhere: log, log records, spans. ---
    const everything = [text, ...receiver.bodies.map((b) => b.raw)].join('\n');
    expect(secrets.length).toBeGreaterThan(20);
    for (const secret of secrets) {
      expect(secret.length).toBeGreaterThanOrEqual(16);
      expect(everything.includes(secret), 'a credential was written').toBe(false);
    }
    expect(everything).not.toMatch(/eyJ[A-Za-z0-9_-]{8,}/);
  });
});

/**
 * Who did what (issue 12, "done means" without the console): one run drives a failed and a
 * successful sign-in, consent, a code, an allowed and a denied tool call, a step-up, a refresh,
 * a refresh reuse and a revocation through a real stack — then finds exactly those events in the
 * JSON-lines audit log (hash chain intact) and as log records and spans at an in-test OTLP/HTTP
 * receiver, with no password, code, token or secret anywhere.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cookiePair, csrfOf } from '../helpers/login-flow.js';
import { resolveConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/observability/logger.js';
import { startStack, verifyAuditLogFiles, type AuditRecord, type RunningStack } from '../../src/stack/index.js';

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function otlpReceiver(): Promise<{ url: string; bodies: Array<{ path: string; raw: string }> }> {
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
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, bodies };
}

const REDIRECT = 'http://127.0.0.1/callback';
const form = (url: string, fields: Record<string, string>, cookie?: string) =>
  fetch(url, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookie ? { cookie } : {}) }, body: new URLSearchParams(fields).toString() });

/** An authorization (RFC 6749 §4.1, PKCE RFC 7636) as a person: optionally a wrong password first. */
async function authorize(stack: RunningStack, scope: string, opts: { wrongPasswordFirst?: boolean } = {}): Promise<{ code: string; verifier: string }> {
  const user = stack.info.users[0]!;
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const url = new URL(`${stack.url}/authorize`);
  for (const [k, v] of Object.entries({ response_type: 'code', client_id: 'demo-cli', redirect_uri: REDIRECT, code_challenge: challenge, code_challenge_method: 'S256', resource: `${stack.url}/mcp`, scope, state: 's1' })) url.searchParams.set(k, v);
  const start = await fetch(url, { redirect: 'manual' });
  const interaction = new URL(start.headers.get('location')!, url).href;
  let page = await (await fetch(interaction)).text();
  if (opts.wrongPasswordFirst) {
    const wrong = await form(interaction, { csrf: csrfOf(page), action: 'login', username: user.username, password: `${user.password}-wrong` });
    expect(wrong.status).toBe(400);
    page = await wrong.text();
  }
  const signedIn = await form(interaction, { csrf: csrfOf(page), action: 'login', username: user.username, password: user.password });
  const allowed = await form(interaction, { csrf: csrfOf(await signedIn.text()), action: 'allow' }, cookiePair(signedIn.headers.get('set-cookie') ?? ''));
  expect(allowed.status).toBe(303);
  const code = new URL(allowed.headers.get('location')!).searchParams.get('code');
  expect(code).toBeTruthy();
  return { code: code!, verifier };
}

async function token(stack: RunningStack, fields: Record<string, string>): Promise<{ status: number; body: Record<string, string> }> {
  const res = await form(`${stack.url}/token`, { client_id: 'demo-cli', ...fields });
  return { status: res.status, body: (await res.json()) as Record<string, string> };
}

const callTool = (stack: RunningStack, accessToken: string, name: string) =>
  fetch(`${stack.url}/mcp`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${accessToken}` },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: { text: 'hi' } } }),
  });

describe('audit trail end to end (issue 12)', () => {
  it('finds exactly the run\'s events in the JSON log (chain intact) and at the OTLP receiver, with no credential anywhere', async () => {
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
      },
      { env: {} },
    );
    const stack = await startStack(config, { port: 0, logger: createLogger({ write: () => {} }) });
    const secrets: string[] = [stack.info.users[0]!.password, stack.info.clients.find((c) => c.client_secret)!.client_secret!];

    // Sign-in (one wrong password first), consent, code, tokens.
    const first = await authorize(stack, 'mcp:tools', { wrongPasswordFirst: true });
    const t1 = await token(stack, { grant_type: 'authorization_code', code: first.code, code_verifier: first.verifier, redirect_uri: REDIRECT });
    expect(t1.status).toBe(200);
    secrets.push(first.code, first.verifier, t1.body['access_token']!, t1.body['refresh_token']!);

    // An allowed and a denied tool call; step-up for the denied one.
    expect((await callTool(stack, t1.body['access_token']!, 'echo')).status).toBe(200);
    expect((await callTool(stack, t1.body['access_token']!, 'admin_reset')).status).toBe(403);
    const stepUp = await authorize(stack, 'mcp:tools mcp:admin');
    const t2 = await token(stack, { grant_type: 'authorization_code', code: stepUp.code, code_verifier: stepUp.verifier, redirect_uri: REDIRECT });
    secrets.push(stepUp.code, stepUp.verifier, t2.body['access_token']!, t2.body['refresh_token']!);
    expect((await callTool(stack, t2.body['access_token']!, 'admin_reset')).status).toBe(200);

    // A refresh, then the rotated refresh token again: reuse, the family is revoked (RFC 9700 §4.14.2).
    const refreshed = await token(stack, { grant_type: 'refresh_token', refresh_token: t1.body['refresh_token']! });
    expect(refreshed.status).toBe(200);
    secrets.push(refreshed.body['access_token']!, refreshed.body['refresh_token']!);
    const reused = await token(stack, { grant_type: 'refresh_token', refresh_token: t1.body['refresh_token']! });
    expect(reused.body['error']).toBe('invalid_grant');

    // Revocation (RFC 7009), then the revoked token is refused.
    expect((await form(`${stack.url}/revoke`, { client_id: 'demo-cli', token: t2.body['access_token']! })).status).toBe(200);
    expect((await callTool(stack, t2.body['access_token']!, 'admin_reset')).status).toBe(401);
    await stack.close();

    const text = await readFile(path, 'utf8');
    const records = text.trimEnd().split('\n').map((line) => JSON.parse(line) as AuditRecord);
    const summary = records.map((r) => (r.type === 'authz.decision' ? `${r.outcome}:${r.reason}:${r.tools?.join(',')}` : r.type));
    expect(summary).toEqual([
      'login.failed',
      'login.succeeded',
      'consent.given',
      'code.issued',
      'code.redeemed',
      'token.issued',
      'allow:ok:echo',
      'deny:insufficient_scope:admin_reset',
      'login.succeeded',
      'consent.given',
      'code.issued',
      'code.redeemed',
      'token.issued',
      'allow:ok:admin_reset',
      'token.refreshed',
      'refresh.reuse_detected',
      'token.revoked',
      'deny:invalid_token:admin_reset',
    ]);
    expect(records.every((r) => r.instance === 'e2e' && (r.subject === undefined || r.subject === stack.info.users[0]!.username))).toBe(true);
    expect(await verifyAuditLogFiles([path])).toMatchObject({ intact: true, records: records.length });

    // The same records as OTLP log records; the tool calls as spans carrying the decision.
    const logs = receiver.bodies.filter((b) => b.path === '/v1/logs').flatMap((b) => [...b.raw.matchAll(/"eventName":"warden\.audit\.([a-z._]+)"/g)].map((m) => m[1]));
    expect(logs).toEqual(records.map((r) => r.type));
    const traces = receiver.bodies.filter((b) => b.path === '/v1/traces').map((b) => b.raw).join('\n');
    expect(traces.match(/"key":"warden\.decision"/g)?.length).toBe(4);

    const everything = [text, ...receiver.bodies.map((b) => b.raw)].join('\n');
    for (const secret of secrets) expect(everything).not.toContain(secret);
  });
});

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveConfig } from '../config/load.js';
import { createLogger } from '../observability/logger.js';
import type { AuditRecord } from '../observability/audit-event.js';
import { tokenIdHash } from '../oauth/token-id-hash.js';
import { startStack, type RunningStack } from './stack.js';
import { verifyAuditLogFiles } from './audit-trail.js';

const demo = { name: 'demo', path: '/mcp', upstream: 'builtin:demo' };
const mcpHeaders = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function start(audit: object): Promise<RunningStack & { dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'warden-trail-'));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  const config = resolveConfig({ storage: { kind: 'memory' }, authorizationServer: { demo: true }, resources: [demo], audit: { sink: 'file', path: join(dir, 'audit.log'), instance: 'test-a', ...audit } }, { env: {} });
  const stack = await startStack(config, { port: 0, logger: createLogger({ write: () => {} }) });
  cleanup.push(() => stack.close());
  return Object.assign(stack, { dir });
}

function basic(stack: RunningStack): string {
  const service = stack.info.clients.find((c) => c.client_id === 'demo-service')!;
  return `Basic ${Buffer.from(`demo-service:${service.client_secret!}`).toString('base64')}`;
}

const call = (stack: RunningStack, token: string | undefined, name: string) =>
  fetch(`${stack.url}/mcp`, {
    method: 'POST',
    headers: { ...mcpHeaders, ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: { text: 'x' } } }),
  });

describe('the stack audit trail (audit: { sink: file })', () => {
  it('records each authorization decision (RFC 6750 §3 reasons) and AS security event, chained, with no token or secret', async () => {
    const stack = await start({});
    const form = new URLSearchParams({ grant_type: 'client_credentials', resource: `${stack.url}/mcp` });
    const issued = await fetch(`${stack.url}/token`, { method: 'POST', headers: { authorization: basic(stack), 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString() });
    const token = ((await issued.json()) as { access_token: string }).access_token;
    expect((await call(stack, token, 'echo')).status).toBe(200);
    expect((await call(stack, token, 'admin_reset')).status).toBe(403);
    expect((await call(stack, undefined, 'echo')).status).toBe(401);
    const revoke = await fetch(`${stack.url}/revoke`, { method: 'POST', headers: { authorization: basic(stack), 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token }).toString() });
    expect(revoke.status).toBe(200);
    expect((await call(stack, token, 'echo')).status).toBe(401);
    await stack.close();

    const path = join(stack.dir, 'audit.log');
    const text = await readFile(path, 'utf8');
    const records = text.trimEnd().split('\n').map((l) => JSON.parse(l) as AuditRecord);
    const jti = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).jti as string;
    const jtiHash = tokenIdHash(jti);
    expect(records.map((r) => [r.type, r.outcome, r.reason])).toEqual([
      ['token.issued', undefined, undefined],
      ['authz.decision', 'allow', 'ok'],
      ['authz.decision', 'deny', 'insufficient_scope'],
      ['authz.decision', 'deny', 'no_credentials'],
      ['token.revoked', undefined, undefined],
      ['authz.decision', 'deny', 'invalid_token'],
    ]);
    expect(records[0]).toMatchObject({ clientId: 'demo-service', grantType: 'client_credentials', jtiHash });
    expect(records[1]).toMatchObject({ server: 'demo', resource: `${stack.url}/mcp`, methods: ['tools/call'], tools: ['echo'], clientId: 'demo-service', jtiHash, scheme: 'Bearer', status: 200, instance: 'test-a' });
    expect(records[1]!.source).toMatch(/127\.0\.0\.1/);
    expect(records[1]!.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(records[2]).toMatchObject({ tools: ['admin_reset'], status: 403 });
    expect(records[3]).not.toHaveProperty('clientId');
    expect(records[4]).toMatchObject({ jtiHash, clientId: 'demo-service' });
    expect(records[5]).toMatchObject({ jtiHash, status: 401 });
    expect(text).not.toContain(jti);
    expect(text).not.toContain(token.split('.')[2]);
    expect(text).not.toContain(stack.info.clients.find((c) => c.client_secret)!.client_secret);

    expect(await verifyAuditLogFiles([path])).toMatchObject({ intact: true, records: 6, problems: [] });
  });

  it('refuses to start when the audit file cannot be opened, saying which key to change', async () => {
    const config = resolveConfig({ storage: { kind: 'memory' }, resources: [demo], audit: { sink: 'file', path: '/nonexistent-dir/x/audit.log' } }, { env: {} });
    await expect(startStack(config, { port: 0, logger: createLogger({ write: () => {} }) })).rejects.toThrow(/audit\.path: cannot open/);
  });

  it('a configuration with path but no file sink is refused with the key to change', () => {
    expect(() => resolveConfig({ resources: [demo], audit: { path: 'a.log' } }, { env: {} })).toThrow(/audit\.sink/);
    expect(() => resolveConfig({ resources: [demo], audit: { sink: 'file' } }, { env: {} })).toThrow(/audit\.path/);
  });
});

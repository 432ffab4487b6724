/**
 * The authorization server's security events name the request they happened in, as the
 * resources' decisions do: the request id the stack answers in `X-Request-Id`, the source
 * address, and the W3C trace the request belongs to (the caller's `traceparent` when the stack
 * does not trace itself). Events outside any request (a rotation called at start or by a timer)
 * name none.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveConfig } from '../config/load.js';
import { callerTrace } from '../observability/caller-trace.js';
import type { AuditRecord } from '../observability/audit-event.js';
import { createLogger } from '../observability/logger.js';
import { startStack, type RunningStack } from './stack.js';

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function start(): Promise<{ stack: RunningStack; records: () => Promise<AuditRecord[]> }> {
  const dir = await mkdtemp(join(tmpdir(), 'warden-request-context-'));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'audit.log');
  const config = resolveConfig({ storage: { kind: 'memory' }, authorizationServer: { demo: true }, resources: [{ name: 'demo', path: '/mcp', upstream: 'builtin:demo' }], audit: { sink: 'file', path, instance: 'rc' } }, { env: {} });
  const stack = await startStack(config, { port: 0, logger: createLogger({ write: () => {} }) });
  cleanup.push(() => stack.close());
  return {
    stack,
    records: async () => {
      await stack.auditTrail!.flush();
      return (await readFile(path, 'utf8')).trimEnd().split('\n').map((line) => JSON.parse(line) as AuditRecord);
    },
  };
}

/** A client-credentials token request (RFC 6749 §4.4) by the demo service, with extra headers. */
function tokenRequest(stack: RunningStack, headers: Record<string, string> = {}): Promise<Response> {
  const service = stack.info.clients.find((c) => c.client_id === 'demo-service')!;
  return fetch(`${stack.url}/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`demo-service:${service.client_secret!}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams({ grant_type: 'client_credentials', resource: `${stack.url}/mcp` }).toString(),
  });
}

const TRACE_A = '4bf92f3577b34da6a3ce929d0e0e4736';
const TRACE_B = '0af7651916cd43dd8448eb211c80319c';

describe('AS security events carry the request id and trace (warden.audit/1 requestId, traceId, spanId)', () => {
  it('token.issued names the request id answered in X-Request-Id, the source address, and the caller\'s W3C trace (Trace Context §3.2)', async () => {
    const { stack, records } = await start();
    const res = await tokenRequest(stack, { traceparent: `00-${TRACE_A}-00f067aa0ba902b7-01` });
    expect(res.status).toBe(200);
    const requestId = res.headers.get('x-request-id');
    expect(requestId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    const [issued] = await records();
    expect(issued).toMatchObject({ type: 'token.issued', clientId: 'demo-service', requestId, traceId: TRACE_A, spanId: '00f067aa0ba902b7' });
    expect(issued!.source).toMatch(/127\.0\.0\.1/);
  });

  it('without a traceparent the event has a request id and no trace; each response has its own id', async () => {
    const { stack, records } = await start();
    const first = await tokenRequest(stack);
    const second = await tokenRequest(stack);
    const ids = [first.headers.get('x-request-id'), second.headers.get('x-request-id')];
    expect(ids[0]).not.toBe(ids[1]);
    const issued = await records();
    expect(issued.map((r) => r.requestId)).toEqual(ids);
    expect(issued.every((r) => r.traceId === undefined && r.spanId === undefined)).toBe(true);
  });

  it('concurrent requests keep their own request context across every await (no event takes another request\'s id or trace)', async () => {
    const { stack, records } = await start();
    const traces = Array.from({ length: 8 }, (_, i) => (i % 2 === 0 ? TRACE_A : TRACE_B).slice(0, 30) + String(i).padStart(2, '0'));
    const answers = await Promise.all(traces.map((trace, i) => tokenRequest(stack, { traceparent: `00-${trace}-${String(i + 1).padStart(16, '0')}-01` })));
    expect(answers.map((a) => a.status)).toEqual(traces.map(() => 200));
    const byRequest = new Map((await records()).map((r) => [r.requestId, r.traceId]));
    expect(byRequest.size).toBe(traces.length);
    answers.forEach((answer, i) => expect(byRequest.get(answer.headers.get('x-request-id')!)).toBe(traces[i]));
  });

  it('an event outside any request (a key rotation called directly) names no request', async () => {
    const { stack, records } = await start();
    await stack.authorizationServer!.rotateKeys();
    const [rotated] = await records();
    expect(rotated!.type).toBe('keys.rotated');
    expect(rotated).not.toHaveProperty('requestId');
    expect(rotated).not.toHaveProperty('traceId');
    expect(rotated).not.toHaveProperty('source');
  });

  it('an invalid traceparent is no trace (Trace Context §3.2.2: version 00, lower-case hex, ids not all zeros)', async () => {
    for (const bad of [
      `00-${TRACE_A.toUpperCase()}-00f067aa0ba902b7-01`,
      `00-${'0'.repeat(32)}-00f067aa0ba902b7-01`,
      `00-${TRACE_A}-${'0'.repeat(16)}-01`,
      `ff-${TRACE_A}-00f067aa0ba902b7-01`,
      `00-${TRACE_A}-00f067aa0ba902b7-01, 00-${TRACE_B}-00f067aa0ba902b7-01`,
      '',
    ]) expect(callerTrace(bad), bad).toBeUndefined();
    expect(callerTrace(`00-${TRACE_A}-00f067aa0ba902b7-00`)).toMatchObject({ traceId: TRACE_A, spanId: '00f067aa0ba902b7', traceparent: `00-${TRACE_A}-00f067aa0ba902b7-00` });
    const { stack, records } = await start();
    expect((await tokenRequest(stack, { traceparent: `00-${'0'.repeat(32)}-00f067aa0ba902b7-01` })).status).toBe(200);
    const [issued] = await records();
    expect(issued!.requestId).toBeDefined();
    expect(issued).not.toHaveProperty('traceId');
  });
});

/**
 * OpenTelemetry export of a running stack, received by a plain node:http OTLP/HTTP receiver
 * decoding the JSON export: one span per request with the gauntlet's steps as events, W3C
 * `traceparent` continued from the client and propagated to the upstream, audit records as log
 * records correlated with the span — and no token anywhere in what is exported.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { mintToken } from '../../test/helpers/mint-token.js';
import { startMcpUpstream } from '../../test/helpers/mcp-upstream.js';
import { resolveConfig } from '../config/load.js';
import { createLogger } from '../observability/logger.js';
import { startStack } from './stack.js';

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

interface Received {
  path: string;
  raw: string;
  json: Record<string, unknown>;
}

async function otlpReceiver(): Promise<{ url: string; received: Received[] }> {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      expect(req.headers['content-type']).toMatch(/application\/json/);
      received.push({ path: req.url ?? '', raw, json: JSON.parse(raw) as Record<string, unknown> });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanup.push(() => new Promise((resolve) => server.close(resolve)));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received };
}

type Attr = { key: string; value: Record<string, unknown> };
const attr = (attrs: Attr[] | undefined, key: string) => {
  const v = attrs?.find((a) => a.key === key)?.value;
  return v === undefined ? undefined : (v['stringValue'] ?? v['intValue'] ?? v['arrayValue']);
};

describe('OpenTelemetry over OTLP/HTTP (openTelemetry: { endpoint })', () => {
  it('exports a span per request with the gauntlet steps as events, continues and propagates W3C traceparent, and audit records as correlated log records', async () => {
    const receiver = await otlpReceiver();
    const upstream = await startMcpUpstream();
    cleanup.push(() => upstream.close());
    const dir = await mkdtemp(join(tmpdir(), 'warden-otel-'));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    const config = resolveConfig(
      {
        storage: { kind: 'memory' },
        resources: [{ name: 'files', path: '/mcp', upstream: upstream.url }],
        audit: { sink: 'file', path: join(dir, 'audit.log'), instance: 'otel-test' },
        openTelemetry: { endpoint: receiver.url, serviceName: 'warden-test' },
      },
      { env: {} },
    );
    const stack = await startStack(config, { port: 0, logger: createLogger({ write: () => {} }) });
    const token = await mintToken(stack);
    const clientTrace = '4bf92f3577b34da6a3ce929d0e0e4736';
    const clientSpan = '00f067aa0ba902b7';
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } });
    const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
    const allowed = await fetch(`${stack.url}/mcp`, { method: 'POST', headers: { ...headers, authorization: `Bearer ${token}`, traceparent: `00-${clientTrace}-${clientSpan}-01` }, body });
    expect(allowed.status).toBe(200);
    await allowed.text();
    const denied = await fetch(`${stack.url}/mcp`, { method: 'POST', headers, body });
    expect(denied.status).toBe(401);
    await stack.close();

    // W3C Trace Context §3.2: the upstream sees the client's trace, with Warden's span as parent.
    const forwarded = upstream.requests.find((r) => r.method === 'POST');
    const upstreamParent = String(forwarded?.headers['traceparent']);
    expect(upstreamParent).toMatch(new RegExp(`^00-${clientTrace}-[0-9a-f]{16}-01$`));
    expect(upstreamParent).not.toContain(clientSpan);

    const spans = receiver.received
      .filter((r) => r.path === '/v1/traces')
      .flatMap((r) => (r.json['resourceSpans'] as Array<{ scopeSpans: Array<{ spans: Array<Record<string, unknown>> }> }>).flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans)));
    const span = spans.find((s) => s['traceId'] === clientTrace);
    expect(span).toBeDefined();
    expect(span!['parentSpanId']).toBe(clientSpan);
    expect(upstreamParent.split('-')[2]).toBe(span!['spanId']);
    const events = (span!['events'] as Array<{ name: string }>).map((e) => e.name);
    expect(events).toEqual(['gauntlet.shape', 'gauntlet.token', 'gauntlet.audience', 'gauntlet.proof', 'gauntlet.scope', 'gauntlet.revocation', 'gauntlet.checks']);
    expect(attr(span!['attributes'] as Attr[], 'warden.decision')).toBe('allow');
    expect(attr(span!['attributes'] as Attr[], 'oauth.client_id')).toBe('demo-cli');
    const deniedSpan = spans.find((s) => s['traceId'] !== clientTrace && attr(s['attributes'] as Attr[], 'warden.decision') === 'deny');
    expect(attr(deniedSpan!['attributes'] as Attr[], 'warden.reason')).toBe('no_credentials');

    const logs = receiver.received
      .filter((r) => r.path === '/v1/logs')
      .flatMap((r) => (r.json['resourceLogs'] as Array<{ scopeLogs: Array<{ logRecords: Array<Record<string, unknown>> }> }>).flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords)));
    const decisionLogs = logs.filter((l) => (l['body'] as { stringValue?: string }).stringValue === 'authz.decision');
    expect(decisionLogs).toHaveLength(2);
    const correlated = decisionLogs.find((l) => l['traceId'] === clientTrace);
    expect(correlated?.['spanId']).toBe(span!['spanId']);
    expect(attr(correlated!['attributes'] as Attr[], 'warden.outcome')).toBe('allow');

    const everything = receiver.received.map((r) => r.raw).join('\n');
    expect(everything).not.toContain(token.split('.')[2]);
    expect(everything).not.toContain(token.split('.')[1]);
  });

  it('refuses an openTelemetry endpoint that is not a URL, saying which key', () => {
    expect(() => resolveConfig({ resources: [], openTelemetry: { endpoint: 'collector:4318' } }, { env: {} })).toThrow(/openTelemetry\.endpoint/);
  });
});

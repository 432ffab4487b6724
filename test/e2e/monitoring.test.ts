/**
 * deploy/monitoring/ against a running stack: every `warden_*` metric that an alert rule or a
 * dashboard panel names exists in `/metrics` (Prometheus text format 0.0.4, histograms with their
 * `_bucket` / `_sum` / `_count` series) — a renamed metric fails here, not silently in production.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { resolveConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/observability/logger.js';
import { startStack, type RunningStack } from '../../src/stack/index.js';

const root = new URL('../../deploy/monitoring/', import.meta.url);
const rules = parse(readFileSync(new URL('prometheus-rules.yaml', root), 'utf8')) as { groups: Array<{ name: string; rules: Array<{ alert: string; expr: string; labels?: { severity?: string }; annotations?: Record<string, string> }> }> };
const dashboard = JSON.parse(readFileSync(new URL('grafana-dashboard.json', root), 'utf8')) as { panels: Array<{ title: string; targets: Array<{ expr: string }> }> };

/** Metric names a PromQL expression refers to (Warden's own only). */
const referenced = (expr: string) => [...expr.matchAll(/\bwarden_[a-z0-9_]+/g)].map((m) => m[0]);

let stack: RunningStack;
let exposed: Set<string>;

beforeAll(async () => {
  const config = resolveConfig(
    {
      storage: { kind: 'memory' },
      resources: [
        { name: 'demo', path: '/mcp', upstream: 'builtin:demo' },
        // A resource trusting another issuer's JWKS, as the JWKS alert assumes.
        { name: 'partner', path: '/partner', upstream: 'builtin:demo', trust: { issuer: 'https://idp.example.com', jwksUri: 'https://idp.example.com/jwks' } },
      ],
    },
    { env: {} },
  );
  stack = await startStack(config, { port: 0, logger: createLogger({ write: () => {} }) });
  const text = await (await fetch(`${stack.url}/metrics`)).text();
  exposed = new Set<string>();
  for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    exposed.add(name!);
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) exposed.add(`${name!}${suffix}`);
  }
});

afterAll(async () => {
  await stack?.close();
});

describe('deploy/monitoring (Prometheus exposition format 0.0.4)', () => {
  it('every alert rule names only metrics that exist in /metrics, and has a severity and a summary', () => {
    const all = rules.groups.flatMap((g) => g.rules);
    expect(all.map((r) => r.alert)).toEqual(expect.arrayContaining(['WardenRefreshTokenReuse', 'WardenDpopReplaySpike', 'WardenFailingClosed', 'WardenJwksFetchFailing', 'WardenSigningKeyRotationOverdue']));
    for (const rule of all) {
      expect(referenced(rule.expr).length, rule.alert).toBeGreaterThan(0);
      expect(referenced(rule.expr).filter((m) => !exposed.has(m)), rule.alert).toEqual([]);
      expect(rule.labels?.severity, rule.alert).toMatch(/^(critical|warning|info)$/);
      expect(rule.annotations?.['summary'], rule.alert).toBeTruthy();
    }
  });

  it('every dashboard panel queries only metrics that exist in /metrics', () => {
    expect(dashboard.panels.length).toBeGreaterThan(5);
    for (const panel of dashboard.panels) {
      for (const target of panel.targets) {
        expect(referenced(target.expr).length, panel.title).toBeGreaterThan(0);
        expect(referenced(target.expr).filter((m) => !exposed.has(m)), panel.title).toEqual([]);
      }
    }
  });

  it('the signing key age is exposed once the authorization server runs', async () => {
    const text = await (await fetch(`${stack.url}/metrics`)).text();
    expect(text).toMatch(/^warden_signing_key_age_seconds \d+$/m);
    expect(text).toMatch(/^warden_jwks_fetch_failures_total 0$/m);
  });

  it('a failed JWKS fetch (status other than 200, or a network error) is counted', async () => {
    const metrics = stack.metrics!;
    const before = metrics.jwksFetchFailures.get();
    const counted = metrics.countJwksFetches(async (input) => {
      if (String(input).endsWith('/down')) throw new TypeError('fetch failed');
      return new Response('{}', { status: String(input).endsWith('/ok') ? 200 : 503 });
    });
    await counted('https://idp.example.com/ok');
    await counted('https://idp.example.com/busy');
    await expect(counted('https://idp.example.com/down')).rejects.toThrow('fetch failed');
    expect(metrics.jwksFetchFailures.get() - before).toBe(2);
  });
});

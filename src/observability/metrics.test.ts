import { describe, expect, it } from 'vitest';
import { Counter, DEFAULT_BUCKETS, escapeLabelValue, Histogram, MetricsRegistry, OTHER } from './metrics.js';

describe('Prometheus text exposition 0.0.4', () => {
  it('renders a labelled counter exactly', () => {
    const registry = new MetricsRegistry();
    const requests = registry.counter('warden_http_requests_total', 'HTTP requests answered.', { route: ['resource', 'health'], status: ['200', '401'] });
    requests.inc({ route: 'resource', status: 401 });
    requests.inc({ route: 'resource', status: '401' });
    requests.inc({ route: 'health', status: 200 }, 3);
    expect(registry.render()).toBe(
      [
        '# HELP warden_http_requests_total HTTP requests answered.',
        '# TYPE warden_http_requests_total counter',
        'warden_http_requests_total{route="resource",status="401"} 2',
        'warden_http_requests_total{route="health",status="200"} 3',
        '',
      ].join('\n'),
    );
  });

  it('renders an unlabelled counter at 0 before its first increment', () => {
    const replays = new Counter('warden_dpop_replays_total', 'Replays.');
    expect(replays.render()).toBe('# HELP warden_dpop_replays_total Replays.\n# TYPE warden_dpop_replays_total counter\nwarden_dpop_replays_total 0\n');
    replays.inc();
    expect(replays.get()).toBe(1);
    expect(() => replays.inc(undefined, -1)).toThrow(RangeError);
  });

  it('renders a histogram exactly: cumulative buckets, +Inf, _sum and _count', () => {
    const registry = new MetricsRegistry();
    const latency = registry.histogram('rpc_seconds', 'Latency.', { route: ['a'] }, [0.1, 1]);
    latency.observe({ route: 'a' }, 0.05);
    latency.observe({ route: 'a' }, 0.1); // le is inclusive
    latency.observe({ route: 'a' }, 0.5);
    latency.observe({ route: 'a' }, 7);
    expect(registry.render()).toBe(
      [
        '# HELP rpc_seconds Latency.',
        '# TYPE rpc_seconds histogram',
        'rpc_seconds_bucket{route="a",le="0.1"} 2',
        'rpc_seconds_bucket{route="a",le="1"} 3',
        'rpc_seconds_bucket{route="a",le="+Inf"} 4',
        'rpc_seconds_sum{route="a"} 7.65',
        'rpc_seconds_count{route="a"} 4',
        '',
      ].join('\n'),
    );
  });

  it('uses the default buckets (seconds), cumulatively, for an unlabelled histogram', () => {
    const h = new Histogram('d_seconds', 'D.');
    expect(h.buckets).toEqual([0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]);
    h.observe(undefined, 0.003);
    h.observe(undefined, 0.2);
    const lines = h.render().split('\n');
    expect(lines).toContain('d_seconds_bucket{le="0.0025"} 0');
    expect(lines).toContain('d_seconds_bucket{le="0.005"} 1');
    expect(lines).toContain('d_seconds_bucket{le="0.1"} 1');
    expect(lines).toContain('d_seconds_bucket{le="0.25"} 2');
    expect(lines).toContain('d_seconds_bucket{le="2.5"} 2');
    expect(lines).toContain('d_seconds_bucket{le="+Inf"} 2');
    expect(lines).toContain('d_seconds_sum 0.203');
    expect(lines).toContain('d_seconds_count 2');
    // Counts never decrease along the buckets.
    const counts = lines.filter((l) => l.startsWith('d_seconds_bucket')).map((l) => Number(l.split(' ')[1]));
    expect(counts).toEqual([...counts].sort((a, b) => a - b));
    expect(counts).toHaveLength(DEFAULT_BUCKETS.length + 1);
  });

  it('escapes label values (backslash, double quote, line feed) and HELP text', () => {
    expect(escapeLabelValue('a\\b"c\nd')).toBe('a\\\\b\\"c\\nd');
    const c = new Counter('x_total', 'Help with \\ and\nnewline.', { v: ['a\\b"c\nd'] });
    c.inc({ v: 'a\\b"c\nd' });
    expect(c.render()).toBe('# HELP x_total Help with \\\\ and\\nnewline.\n# TYPE x_total counter\nx_total{v="a\\\\b\\"c\\nd"} 1\n');
  });

  it('bounds cardinality: a value outside the declared set is recorded as "other"', () => {
    const c = new Counter('auth_total', 'A.', { reason: ['invalid_token'] });
    for (const input of ['/mcp/users/42', 'client-123', 'eyJhbGciOi.x.y', 'invalid_token ']) c.inc({ reason: input });
    c.inc({ reason: 'invalid_token' });
    expect(c.render()).toBe('# HELP auth_total A.\n# TYPE auth_total counter\nauth_total{reason="other"} 4\nauth_total{reason="invalid_token"} 1\n');
    expect(c.get({ reason: OTHER })).toBe(4);
  });

  it('rejects bad names, duplicate metrics, a reserved le label and unordered buckets', () => {
    expect(() => new Counter('bad-name', 'x')).toThrow(TypeError);
    expect(() => new Counter('ok_total', 'x', { 'bad-label': [] })).toThrow(TypeError);
    expect(() => new Histogram('h', 'x', { le: [] })).toThrow(TypeError);
    expect(() => new Histogram('h', 'x', {}, [1, 0.5])).toThrow(TypeError);
    const registry = new MetricsRegistry();
    registry.counter('dup_total', 'x');
    expect(() => registry.counter('dup_total', 'x')).toThrow(/already registered/);
  });
});

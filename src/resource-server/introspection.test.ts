import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { StoreUnavailableError } from '../stores/contracts.js';
import { createIntrospectionClient, type IntrospectionClientOptions } from './introspection.js';

interface Seen {
  method: string | undefined;
  headers: IncomingMessage['headers'];
  body: string;
}
type Handler = (seen: Seen, res: ServerResponse) => void;

/** An RFC 7662 endpoint on 127.0.0.1 that records what it receives. */
interface Endpoint {
  url: string;
  requests: Seen[];
  handler: Handler;
  down(): Promise<void>;
}

const endpoints: Endpoint[] = [];
const json = (res: ServerResponse, body: unknown, status = 200): void => {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
};

async function startEndpoint(handler: Handler = (_s, res) => json(res, { active: true })): Promise<Endpoint> {
  const endpoint: Endpoint = { url: '', requests: [], handler, down: () => stop(server) };
  const server = createServer((req, res) => {
    res.on('error', () => undefined);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const seen = { method: req.method, headers: req.headers, body: Buffer.concat(chunks).toString() };
      endpoint.requests.push(seen);
      endpoint.handler(seen, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/introspect`;
  endpoints.push(endpoint);
  return endpoint;
}

function stop(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

afterEach(async () => {
  await Promise.all(endpoints.splice(0).map((e) => e.down().catch(() => undefined)));
});

const T0 = 1_700_000_000;

function client(endpoint: Endpoint, options: Partial<IntrospectionClientOptions> = {}) {
  const clock = { ms: T0 * 1000 };
  const introspection = createIntrospectionClient({
    endpoint: endpoint.url,
    clientId: 'mcp-resource',
    clientSecret: 's3cret',
    now: () => clock.ms,
    ...options,
  });
  return { introspection, clock };
}

/** Decodes `client_secret_basic` the way RFC 6749 §2.3.1 says a server must. */
function decodeBasic(header: string | undefined): [string, string] {
  const decoded = Buffer.from((header ?? '').replace(/^Basic /, ''), 'base64').toString();
  const colon = decoded.indexOf(':');
  const form = (s: string): string => decodeURIComponent(s.replace(/\+/g, ' '));
  return [form(decoded.slice(0, colon)), form(decoded.slice(colon + 1))];
}

describe('introspection request', () => {
  it('RFC 7662 §2.1: POSTs a form with token and token_type_hint=access_token, accepting JSON', async () => {
    const endpoint = await startEndpoint();
    const { introspection } = client(endpoint);
    const token = 'mF_9.B5f-4.1JqM&x=y+z %';
    await introspection.introspect(token);
    const [seen] = endpoint.requests;
    expect(seen?.method).toBe('POST');
    expect(seen?.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(seen?.headers.accept).toBe('application/json');
    const form = new URLSearchParams(seen?.body);
    expect([...form.keys()]).toEqual(['token', 'token_type_hint']);
    expect(form.get('token')).toBe(token);
    expect(form.get('token_type_hint')).toBe('access_token');
  });

  it('RFC 6749 §2.3.1: client_secret_basic form-encodes id and secret before base64 (":" and "%")', async () => {
    const endpoint = await startEndpoint();
    const { introspection } = client(endpoint, { clientId: 'rs:one %', clientSecret: 'p%40ss:wo rd+£' });
    await introspection.introspect('t');
    const header = endpoint.requests[0]?.headers.authorization;
    expect(header).toMatch(/^Basic [A-Za-z0-9+/]+=*$/);
    expect(Buffer.from(header!.slice(6), 'base64').toString()).toBe('rs%3Aone+%25:p%2540ss%3Awo+rd%2B%C2%A3');
    expect(decodeBasic(header)).toEqual(['rs:one %', 'p%40ss:wo rd+£']);
  });

  it('RFC 6749 Appendix B: the example value " %&+£€" is encoded as "+%25%26%2B%C2%A3%E2%82%AC"', async () => {
    const endpoint = await startEndpoint();
    const { introspection } = client(endpoint, { clientId: 'a', clientSecret: ' %&+£€' });
    await introspection.introspect('t');
    const decoded = Buffer.from(endpoint.requests[0]!.headers.authorization!.slice(6), 'base64').toString();
    expect(decoded).toBe('a:+%25%26%2B%C2%A3%E2%82%AC');
  });
});

describe('introspection response validation', () => {
  it('RFC 7662 §2.2: returns the typed members of an active response and drops unknown ones', async () => {
    const body = {
      active: true,
      scope: 'mcp:tools mcp:admin',
      client_id: 'c1',
      username: 'alice',
      token_type: 'DPoP',
      exp: T0 + 600,
      iat: T0,
      nbf: T0,
      sub: 'user-1',
      aud: ['https://mcp.example.com/mcp'],
      iss: 'https://as.example.com',
      jti: 'j1',
      cnf: { jkt: '0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I' },
      extension: { anything: 1 },
    };
    const endpoint = await startEndpoint((_s, res) => json(res, body));
    const { introspection } = client(endpoint);
    const { extension: _dropped, ...expected } = body;
    const result = await introspection.introspect('t');
    expect(result).toEqual(expected);
    expect(Object.isFrozen(result)).toBe(true);
  });

  it('RFC 7662 §2.2: an inactive response carries nothing else', async () => {
    const endpoint = await startEndpoint((_s, res) => json(res, { active: false, scope: 'leaked', sub: 'x' }));
    const { introspection } = client(endpoint);
    expect(await introspection.introspect('t')).toEqual({ active: false });
  });

  it('RFC 7800 §3.1: an unsupported confirmation method is kept so the caller can refuse it', async () => {
    const endpoint = await startEndpoint((_s, res) => json(res, { active: true, cnf: { 'x5t#S256': 'bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2' } }));
    const { introspection } = client(endpoint);
    expect(await introspection.introspect('t')).toEqual({ active: true, cnf: { 'x5t#S256': 'bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2' } });
  });

  const malformed: [string, unknown][] = [
    ['an array', [{ active: true }]],
    ['a string', 'active'],
    ['null', null],
    ['no active member', { scope: 'a' }],
    ['active as a string', { active: 'true' }],
    ['active as 1', { active: 1 }],
    ['scope not a string', { active: true, scope: ['a'] }],
    ['client_id null', { active: true, client_id: null }],
    ['sub a number', { active: true, sub: 1 }],
    ['iss an object', { active: true, iss: {} }],
    ['aud with a non-string', { active: true, aud: ['a', 1] }],
    ['aud an object', { active: true, aud: { a: 1 } }],
    ['exp a string', { active: true, exp: String(T0 + 60) }],
    ['iat negative', { active: true, iat: -1 }],
    ['nbf not finite', { active: true, nbf: 1e400 }],
    ['jti a boolean', { active: true, jti: true }],
    ['token_type a number', { active: true, token_type: 1 }],
    ['cnf a string', { active: true, cnf: 'jkt' }],
    ['cnf.jkt a number', { active: true, cnf: { jkt: 1 } }],
    ['cnf.jkt empty', { active: true, cnf: { jkt: '' } }],
  ];

  it.each(malformed)('RFC 7662 §2.2: %s → StoreUnavailableError, never active, not cached', async (_name, body) => {
    const endpoint = await startEndpoint((_s, res) => json(res, body));
    const { introspection } = client(endpoint);
    await expect(introspection.introspect('t')).rejects.toThrow(StoreUnavailableError);
    await expect(introspection.introspect('t')).rejects.toThrow(/malformed response/);
    expect(endpoint.requests).toHaveLength(2);
  });

  it('RFC 7662 §2.2: a body that is not JSON, or too large, → StoreUnavailableError', async () => {
    const endpoint = await startEndpoint((_s, res) => res.writeHead(200).end('active=true'));
    const { introspection } = client(endpoint, { maxBytes: 1024 });
    await expect(introspection.introspect('t')).rejects.toThrow(/not JSON/);
    endpoint.handler = (_s, res) => json(res, { active: true, scope: 'x'.repeat(2048) });
    await expect(introspection.introspect('t')).rejects.toThrow(/exceeds 1024/);
  });
});

describe('introspection failures fail closed', () => {
  it('RFC 7662 §2.3: endpoint down → StoreUnavailableError', async () => {
    const endpoint = await startEndpoint();
    await endpoint.down();
    const { introspection } = client(endpoint);
    const error = await introspection.introspect('secret-token-value').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect((error as Error).message).not.toContain('secret-token-value');
    expect((error as Error).message).not.toContain('s3cret');
  });

  it.each([401, 403, 500, 503])('RFC 7662 §2.3: HTTP %i → StoreUnavailableError, not cached', async (status) => {
    const endpoint = await startEndpoint((_s, res) => json(res, { active: true }, status));
    const { introspection } = client(endpoint);
    await expect(introspection.introspect('t')).rejects.toThrow(new RegExp(`HTTP ${status}`));
    await expect(introspection.introspect('t')).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(endpoint.requests).toHaveLength(2);
  });

  it('RFC 9700 §4.11: a redirect is refused rather than followed with the token', async () => {
    const endpoint = await startEndpoint((seen, res) => {
      if (endpoint.requests.length === 1) res.writeHead(307, { location: '/other' }).end();
      else json(res, { active: true });
    });
    const { introspection } = client(endpoint);
    await expect(introspection.introspect('t')).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(endpoint.requests).toHaveLength(1);
  });

  it('a slow endpoint times out (timeoutMs) → StoreUnavailableError', async () => {
    const endpoint = await startEndpoint(() => undefined);
    const { introspection } = client(endpoint, { timeoutMs: 100 });
    await expect(introspection.introspect('t')).rejects.toThrow(/timed out after 100 ms/);
  });
});

describe('introspection cache', () => {
  it('RFC 7662 §4: an active result is cached up to cacheMaxSeconds', async () => {
    const endpoint = await startEndpoint((_s, res) => json(res, { active: true, exp: T0 + 3600 }));
    const { introspection, clock } = client(endpoint, { cacheMaxSeconds: 60 });
    await introspection.introspect('t');
    clock.ms += 59_999;
    await introspection.introspect('t');
    expect(endpoint.requests).toHaveLength(1);
    clock.ms += 1;
    await introspection.introspect('t');
    expect(endpoint.requests).toHaveLength(2);
  });

  it('RFC 7662 §4: an active result is never cached beyond the token exp', async () => {
    const endpoint = await startEndpoint((_s, res) => json(res, { active: true, exp: T0 + 5 }));
    const { introspection, clock } = client(endpoint, { cacheMaxSeconds: 60 });
    await introspection.introspect('t');
    clock.ms += 4_999;
    await introspection.introspect('t');
    expect(endpoint.requests).toHaveLength(1);
    clock.ms += 1;
    endpoint.handler = (_s, res) => json(res, { active: false });
    expect(await introspection.introspect('t')).toEqual({ active: false });
    expect(endpoint.requests).toHaveLength(2);
  });

  it('RFC 7662 §4: an active result whose exp has passed is not cached at all', async () => {
    const endpoint = await startEndpoint((_s, res) => json(res, { active: true, exp: T0 - 1 }));
    const { introspection } = client(endpoint);
    await introspection.introspect('t');
    await introspection.introspect('t');
    expect(endpoint.requests).toHaveLength(2);
  });

  it('RFC 7662 §4: an active result without exp is cached no longer than cacheMaxSeconds', async () => {
    const endpoint = await startEndpoint((_s, res) => json(res, { active: true }));
    const { introspection, clock } = client(endpoint, { cacheMaxSeconds: 10 });
    await introspection.introspect('t');
    clock.ms += 9_999;
    await introspection.introspect('t');
    clock.ms += 1;
    await introspection.introspect('t');
    expect(endpoint.requests).toHaveLength(2);
  });

  it('RFC 7662 §4: an inactive result is cached for negativeCacheSeconds', async () => {
    const endpoint = await startEndpoint((_s, res) => json(res, { active: false }));
    const { introspection, clock } = client(endpoint, { negativeCacheSeconds: 10 });
    await introspection.introspect('t');
    clock.ms += 9_999;
    await introspection.introspect('t');
    expect(endpoint.requests).toHaveLength(1);
    clock.ms += 1;
    await introspection.introspect('t');
    expect(endpoint.requests).toHaveLength(2);
  });

  it('RFC 7662 §4: cacheMaxSeconds 0 and negativeCacheSeconds 0 disable caching', async () => {
    const endpoint = await startEndpoint((_s, res) => json(res, { active: endpoint.requests.length % 2 === 0 }));
    const { introspection } = client(endpoint, { cacheMaxSeconds: 0, negativeCacheSeconds: 0 });
    for (let i = 0; i < 4; i += 1) await introspection.introspect('t');
    expect(endpoint.requests).toHaveLength(4);
  });

  it('results are per token: a cached answer for one token never answers another', async () => {
    const endpoint = await startEndpoint((seen, res) => json(res, { active: new URLSearchParams(seen.body).get('token') === 'good' }));
    const { introspection } = client(endpoint);
    expect((await introspection.introspect('good')).active).toBe(true);
    expect((await introspection.introspect('bad')).active).toBe(false);
    expect((await introspection.introspect('good')).active).toBe(true);
    expect(endpoint.requests).toHaveLength(2);
  });

  it('the cache is bounded: past maxEntries the oldest entry is evicted', async () => {
    const endpoint = await startEndpoint();
    const { introspection } = client(endpoint, { maxEntries: 2 });
    await introspection.introspect('t1');
    await introspection.introspect('t2');
    await introspection.introspect('t3');
    expect(endpoint.requests).toHaveLength(3);
    await introspection.introspect('t3');
    await introspection.introspect('t2');
    expect(endpoint.requests).toHaveLength(3);
    await introspection.introspect('t1');
    expect(endpoint.requests).toHaveLength(4);
  });

  it('single-flight: 10 concurrent calls for one token make one request', async () => {
    const endpoint = await startEndpoint((_s, res) => setTimeout(() => json(res, { active: true, scope: 's' }), 30));
    const { introspection } = client(endpoint);
    const results = await Promise.all(Array.from({ length: 10 }, () => introspection.introspect('same')));
    expect(endpoint.requests).toHaveLength(1);
    expect(results.every((r) => r.active && r.scope === 's')).toBe(true);
  });

  it('single-flight: a shared failure rejects every waiter, and the next call asks again', async () => {
    const endpoint = await startEndpoint((_s, res) => setTimeout(() => json(res, {}, 500), 30));
    const { introspection } = client(endpoint);
    const outcomes = await Promise.allSettled(Array.from({ length: 10 }, () => introspection.introspect('same')));
    expect(outcomes.every((o) => o.status === 'rejected' && o.reason instanceof StoreUnavailableError)).toBe(true);
    expect(endpoint.requests).toHaveLength(1);
    endpoint.handler = (_s, res) => json(res, { active: true });
    expect((await introspection.introspect('same')).active).toBe(true);
  });
});

describe('introspection options', () => {
  it('fails at creation with a message naming the option', () => {
    const base = { endpoint: 'https://as.example.com/introspect', clientId: 'c', clientSecret: 's' };
    expect(() => createIntrospectionClient({ ...base, endpoint: 'ftp://as.example.com/i' })).toThrow(/introspection\.endpoint/);
    expect(() => createIntrospectionClient({ ...base, clientId: '' })).toThrow(/introspection\.clientId/);
    expect(() => createIntrospectionClient({ ...base, clientSecret: '' })).toThrow(/introspection\.clientSecret/);
    expect(() => createIntrospectionClient({ ...base, cacheMaxSeconds: -1 })).toThrow(/introspection\.cacheMaxSeconds/);
    expect(() => createIntrospectionClient({ ...base, maxEntries: 0 })).toThrow(/introspection\.maxEntries/);
  });

  it('refuses an empty token without a request', async () => {
    const endpoint = await startEndpoint();
    const { introspection } = client(endpoint);
    await expect(introspection.introspect('')).rejects.toThrow(TypeError);
    expect(endpoint.requests).toHaveLength(0);
  });
});

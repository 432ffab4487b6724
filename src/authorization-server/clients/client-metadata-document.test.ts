import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { expectError, RESOURCE, startHarness, type Harness } from '../../../test/helpers/as-harness.js';
import { TemporarilyUnavailableError } from '../../oauth/errors.js';
import { createMemoryAuthorizationServerStores } from '../../stores/index.js';
import { createContext, type AsContext } from '../context.js';
import type { AuthorizationServerOptions } from '../options.js';
import { fetchClientMetadataDocument, MetadataDocumentError, resolveMetadataDocumentClient } from './client-metadata-document.js';
import { getClient } from './get-client.js';
import { DEFAULTS } from '../../oauth/defaults.js';

const REDIRECT = 'http://127.0.0.1:33418/callback';

/** path → handler; every request and every TCP connection is counted, so tests can prove nothing was fetched. */
type Handler = (req: IncomingMessage, res: ServerResponse) => void;
const routes = new Map<string, Handler>();
const hits = new Map<string, number>();
let connections = 0;
let server: Server;
let origin: string;
let port: number;

beforeAll(async () => {
  server = createServer((req, res) => {
    const path = req.url ?? '/';
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const handler = routes.get(path);
    if (handler === undefined) {
      res.writeHead(404).end();
      return;
    }
    handler(req, res);
  });
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  origin = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  routes.clear();
  hits.clear();
  connections = 0;
});

let clock = 1_760_000_000;

function context(cimd: AuthorizationServerOptions['clientMetadataDocuments'] = {}): AsContext {
  return createContext({
    issuer: 'http://127.0.0.1:4000',
    secret: 's'.repeat(48),
    resources: [{ uri: 'https://mcp.example.com/mcp', name: 'demo', scopes: ['mcp:tools'] }],
    stores: createMemoryAuthorizationServerStores(),
    now: () => clock,
    clientMetadataDocuments: { allowPrivateNetworks: true, timeoutMs: 400, maxBytes: 4096, ...cimd },
  });
}

/** Serves `doc` as JSON at `path` with extra headers. */
function serve(path: string, doc: unknown, headers: Record<string, string> = {}): string {
  const body = typeof doc === 'string' ? doc : JSON.stringify(doc);
  routes.set(path, (_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json', ...headers });
    res.end(body);
  });
  return `${origin}${path}`;
}

const document = (clientId: string, extra: Record<string, unknown> = {}) => ({
  client_id: clientId,
  client_name: 'Example MCP Client',
  redirect_uris: [REDIRECT],
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  token_endpoint_auth_method: 'none',
  ...extra,
});

async function reason(ctx: AsContext, clientId: string): Promise<string> {
  try {
    await fetchClientMetadataDocument(ctx, clientId);
  } catch (error) {
    expect(error).toBeInstanceOf(MetadataDocumentError);
    return (error as Error).message;
  }
  throw new Error('expected the document to be refused');
}

describe('Client ID Metadata Documents: resolution through getClient (MCP 2025-11-25)', () => {
  it('fetches the document at the client id URL and stores it as a metadata-document client', async () => {
    const ctx = context();
    const id = `${origin}/oauth/client.json`;
    serve('/oauth/client.json', document(id));
    const client = await getClient(ctx, id);
    expect(client).toEqual({
      clientId: id,
      tokenEndpointAuthMethod: 'none',
      redirectUris: [REDIRECT],
      grantTypes: ['authorization_code', 'refresh_token'],
      responseTypes: ['code'],
      clientName: 'Example MCP Client',
      source: 'metadata-document',
      createdAt: clock,
      expiresAt: clock + 3600,
    });
    expect(await ctx.stores.clients.get(id)).toEqual(client);
  });

  it('serves the cached record without a second request until it expires (draft §"Metadata Caching")', async () => {
    const ctx = context();
    const id = serve('/cached.json', document(`${origin}/cached.json`), { 'Cache-Control': 'public, max-age=600' });
    expect((await getClient(ctx, id))?.expiresAt).toBe(clock + 600);
    expect(await getClient(ctx, id)).toBeDefined();
    expect(hits.get('/cached.json')).toBe(1);
    clock += 601;
    expect(await getClient(ctx, id)).toBeDefined();
    expect(hits.get('/cached.json')).toBe(2);
  });

  it('fetches once for a burst of concurrent lookups of a new client', async () => {
    const ctx = context();
    const id = serve('/burst.json', document(`${origin}/burst.json`));
    const results = await Promise.all(Array.from({ length: 10 }, () => getClient(ctx, id)));
    expect(results.every((c) => c?.clientId === id)).toBe(true);
    expect(hits.get('/burst.json')).toBe(1);
  });

  it.each([
    ['max-age=5', 60],
    ['max-age=99999999', 86_400],
    ['no-store', 60],
    ['no-cache, max-age=3000', 60],
    ['private', 3600],
  ])('clamps Cache-Control "%s" to [60 s, 24 h] (default 1 h): %i s (RFC 9111 §5.2.2.1)', async (cacheControl, ttl) => {
    const ctx = context();
    const path = `/ttl-${encodeURIComponent(cacheControl)}.json`;
    const id = serve(path, document(`${origin}${path}`), { 'Cache-Control': cacheControl });
    expect((await getClient(ctx, id))?.expiresAt).toBe(clock + ttl);
  });

  it('drops an expired document whose refetch fails: the client becomes unknown', async () => {
    const ctx = context();
    const id = serve('/gone.json', document(`${origin}/gone.json`));
    expect(await getClient(ctx, id)).toBeDefined();
    routes.delete('/gone.json');
    clock += 3601;
    expect(await getClient(ctx, id)).toBeUndefined();
  });

  it('fetches nothing when metadata documents are disabled', async () => {
    const ctx = context({ enabled: false });
    const id = serve('/off.json', document(`${origin}/off.json`));
    expect(await getClient(ctx, id)).toBeUndefined();
    expect(connections).toBe(0);
  });

  it('ignores client ids that are not URLs', async () => {
    const ctx = context();
    expect(await resolveMetadataDocumentClient(ctx, 'plain-client-id')).toBeUndefined();
    expect(await resolveMetadataDocumentClient(ctx, 'ftp://127.0.0.1/x')).toBeUndefined();
  });
});

describe('Client ID Metadata Documents: documents that are refused (unknown client)', () => {
  it.each([
    ['a trailing slash', (id: string) => `${id}/`],
    ['different case', (id: string) => id.toUpperCase()],
    ['another client', () => 'https://other.example.com/client.json'],
    ['a query added', (id: string) => `${id}?v=1`],
  ])('refuses a document whose client_id differs from its URL by %s (draft: simple string comparison)', async (_label, mutate) => {
    const ctx = context();
    const id = `${origin}/mismatch.json`;
    serve('/mismatch.json', document(mutate(id)));
    expect(await reason(ctx, id)).toBe('metadata document client_id does not equal its URL');
    expect(await getClient(ctx, id)).toBeUndefined();
    expect(await ctx.stores.clients.get(id)).toBeUndefined();
  });

  it('does not follow a redirect, even to a valid document', async () => {
    const ctx = context();
    const id = `${origin}/moved.json`;
    serve('/real.json', document(id));
    routes.set('/moved.json', (_req, res) => res.writeHead(302, { Location: `${origin}/real.json` }).end());
    expect(await reason(ctx, id)).toBe('metadata document redirects are not followed');
    expect(await getClient(ctx, id)).toBeUndefined();
    expect(hits.get('/real.json')).toBeUndefined();
  });

  it('refuses a document larger than maxBytes, by Content-Length', async () => {
    const ctx = context();
    const id = serve('/big.json', document(`${origin}/big.json`, { tos_uri: 'x'.repeat(5000) }));
    expect(await reason(ctx, id)).toBe('metadata document exceeds 4096 bytes');
    expect(await getClient(ctx, id)).toBeUndefined();
  });

  it('refuses a document larger than maxBytes, streamed without Content-Length', async () => {
    const ctx = context();
    const id = `${origin}/stream.json`;
    routes.set('/stream.json', (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write(`{"client_id":"${id}","tos_uri":"`);
      const chunk = 'x'.repeat(1024);
      let sent = 0;
      const timer = setInterval(() => {
        if (res.destroyed || sent++ > 64) {
          clearInterval(timer);
          res.end('"}');
          return;
        }
        res.write(chunk);
      }, 1);
    });
    expect(await reason(ctx, id)).toBe('metadata document exceeds 4096 bytes');
  });

  it('gives up on a slow server after timeoutMs', async () => {
    const ctx = context();
    const id = `${origin}/slow.json`;
    routes.set('/slow.json', (_req, res) => {
      const timer = setTimeout(() => res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(document(id))), 3000);
      res.on('close', () => clearTimeout(timer));
    });
    const started = Date.now();
    expect(await reason(ctx, id)).toBe('metadata document fetch timed out');
    expect(Date.now() - started).toBeLessThan(2000);
    expect(await getClient(ctx, id)).toBeUndefined();
  });

  it('gives up on a server that trickles its body past timeoutMs', async () => {
    const ctx = context();
    const id = `${origin}/trickle.json`;
    routes.set('/trickle.json', (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write('{');
      const timer = setInterval(() => res.write(' '), 50);
      res.on('close', () => clearInterval(timer));
    });
    expect(await reason(ctx, id)).toBe('metadata document fetch timed out');
  });

  it.each([
    ['text/html', 'metadata document is not application/json'],
    ['application/jsonp', 'metadata document is not application/json'],
  ])('refuses Content-Type %s', async (type, why) => {
    const ctx = context();
    const path = `/type-${type.replace('/', '-')}.json`;
    const id = serve(path, document(`${origin}${path}`), { 'Content-Type': type });
    expect(await reason(ctx, id)).toBe(why);
  });

  it('refuses a non-200 answer', async () => {
    const ctx = context();
    expect(await reason(ctx, `${origin}/missing.json`)).toBe('metadata document answered 404');
  });

  it('refuses a compressed answer (it asked for identity)', async () => {
    const ctx = context();
    const id = serve('/gz.json', document(`${origin}/gz.json`), { 'Content-Encoding': 'gzip' });
    expect(await reason(ctx, id)).toBe('metadata document is content-encoded');
  });

  it.each([
    ['a shared-secret auth method', { token_endpoint_auth_method: 'client_secret_basic' }, 'metadata document is invalid: a client metadata document must use token_endpoint_auth_method "none" or "private_key_jwt"'],
    ['a client_secret', { client_secret: 'x' }, 'metadata document is invalid: a client metadata document must not contain client_secret or client_secret_expires_at'],
    ['jwks_uri', { jwks_uri: 'https://evil.example/jwks' }, 'metadata document is invalid: jwks_uri is only for token_endpoint_auth_method "private_key_jwt"'],
    ['a javascript: redirect URI', { redirect_uris: ['javascript:alert(1)'] }, 'metadata document is invalid: redirect URI must not use the javascript: scheme'],
  ])('refuses a document with %s', async (_label, extra, why) => {
    const ctx = context();
    const path = `/bad-${Math.random().toString(36).slice(2)}.json`;
    const id = serve(path, document(`${origin}${path}`, extra));
    expect(await reason(ctx, id)).toBe(why);
    expect(await getClient(ctx, id)).toBeUndefined();
  });

  it.each([
    ['client_credentials', ['authorization_code', 'client_credentials']],
    ['token exchange', ['authorization_code', 'urn:ietf:params:oauth:grant-type:token-exchange']],
  ])('C1 / RFC 7591 §3.2.2: refuses a document claiming %s (machine clients must be configured by the operator): unknown client, nothing stored', async (label, grants) => {
    const ctx = context();
    const path = `/machine-${label.replace(/\W/g, '')}.json`;
    const id = serve(path, document(`${origin}${path}`, { grant_types: grants, scope: 'mcp:admin' }));
    const grant = grants[1] as string;
    expect(await reason(ctx, id)).toBe(`metadata document is invalid: grant_types: "${grant}" is not available to self-registered clients; machine clients must be configured by the operator`);
    expect(await getClient(ctx, id)).toBeUndefined();
    expect(await ctx.stores.clients.get(id)).toBeUndefined();
  });

  it('refuses a document with a __proto__ member', async () => {
    const ctx = context();
    const id = `${origin}/proto.json`;
    serve('/proto.json', `{"client_id":"${id}","redirect_uris":["${REDIRECT}"],"__proto__":{"x":1}}`);
    expect(await reason(ctx, id)).toBe('metadata document is invalid: the member name "__proto__" is not allowed');
  });

  it('refuses a document that is not JSON', async () => {
    const ctx = context();
    const id = serve('/notjson.json', '{"client_id":');
    expect(await reason(ctx, id)).toBe('metadata document is invalid: the client metadata is not valid JSON');
  });
});

describe('Client ID Metadata Documents: client id URL rules (draft §"Client Identifier URL")', () => {
  it.each([
    ['a fragment', 'https://app.example.com/client.json#x', 'client id URL must not contain a fragment'],
    ['userinfo', 'https://user@app.example.com/client.json', 'client id URL must not contain userinfo'],
    ['a dot segment', 'https://app.example.com/a/../client.json', 'client id URL must not contain dot segments'],
    ['an encoded dot segment', 'https://app.example.com/a/%2e%2e/client.json', 'client id URL must not contain dot segments'],
    ['no path', 'https://app.example.com', 'client id URL must have a path'],
    ['a root path', 'https://app.example.com/', 'client id URL must have a path'],
    ['a non-canonical host', 'https://APP.example.com/client.json', 'client id URL must be in canonical form'],
    ['the default port written out', 'https://app.example.com:443/client.json', 'client id URL must be in canonical form'],
    ['whitespace', 'https://app.example.com/client .json', 'client id URL has invalid characters or length'],
    ['http on a public host (even in development)', 'http://app.example.com/client.json', 'client id URL must use https'],
  ])('refuses a client id with %s', async (_label, id, why) => {
    expect(await reason(context(), id)).toBe(why);
  });

  it('refuses http on loopback unless allowPrivateNetworks is set', async () => {
    expect(await reason(context({ allowPrivateNetworks: false }), `${origin}/client.json`)).toBe('client id URL must use https');
    expect(connections).toBe(0);
  });
});

describe('Client ID Metadata Documents: SSRF guard', () => {
  it.each([
    ['a loopback IP literal', () => `https://127.0.0.1:${port}/client.json`],
    ['an IPv6 loopback literal', () => `https://[::1]:${port}/client.json`],
    ['an IPv4-mapped loopback literal', () => `https://[::ffff:7f00:1]:${port}/client.json`],
    ['a name that resolves to loopback', () => `https://localhost:${port}/client.json`],
    ['a link-local (cloud metadata) address', () => 'https://169.254.169.254/latest/meta-data'],
    ['a private address', () => 'https://10.0.0.1/client.json'],
  ])('refuses %s without connecting when allowPrivateNetworks is false', async (_label, id) => {
    const ctx = context({ allowPrivateNetworks: false });
    expect(await reason(ctx, id())).toBe('client id host resolves to a non-public address');
    expect(await getClient(ctx, id())).toBeUndefined();
    expect(connections).toBe(0);
  });

  it('refuses a name that does not resolve (RFC 6761 §6.4: .invalid never does)', async () => {
    // Without network DNS the lookup may hang instead of failing; the deadline then answers.
    const why = await reason(context({ allowPrivateNetworks: false }), 'https://does-not-exist.invalid/client.json');
    expect(['client id host does not resolve', 'metadata document fetch timed out']).toContain(why);
  });

  it('connects to localhost in development (allowPrivateNetworks), whichever loopback family resolves first', async () => {
    const ctx = context();
    const id = `http://localhost:${port}/local.json`;
    serve('/local.json', document(id));
    expect((await getClient(ctx, id))?.clientId).toBe(id);
  });
});

describe('Client ID Metadata Documents: limits on fetching for unauthenticated requests', () => {
  /** The rejection of `promise`, which must be a 503 temporarily_unavailable with Retry-After. */
  async function expectRefused(promise: Promise<unknown>, retryAfter: string, description: RegExp): Promise<void> {
    const error = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(TemporarilyUnavailableError);
    const refusal = error as TemporarilyUnavailableError;
    expect(refusal.status).toBe(503);
    expect(refusal.code).toBe('temporarily_unavailable');
    expect(refusal.headers['Retry-After']).toBe(retryAfter);
    expect(refusal.description).toMatch(description);
  }

  it('a failed fetch is remembered for failureCacheSeconds (default 30 s): the id is unknown without a fetch, then fetched again', async () => {
    const ctx = context();
    const id = `${origin}/flaky.json`;
    expect(await getClient(ctx, id)).toBeUndefined();
    expect(hits.get('/flaky.json')).toBe(1);
    serve('/flaky.json', document(id));
    expect(await getClient(ctx, id)).toBeUndefined();
    clock += DEFAULTS.clientMetadataDocuments.failureCacheSeconds - 1;
    expect(await getClient(ctx, id)).toBeUndefined();
    expect(hits.get('/flaky.json')).toBe(1);
    clock += 1;
    expect((await getClient(ctx, id))?.clientId).toBe(id);
    expect(hits.get('/flaky.json')).toBe(2);
  });

  it('beyond maxConcurrentFetches: 503 temporarily_unavailable with Retry-After: 1 at once, never queued', async () => {
    const ctx = context({ maxConcurrentFetches: 1 });
    const slowId = `${origin}/slow-a.json`;
    routes.set('/slow-a.json', (_req, res) => {
      setTimeout(() => res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(document(slowId))), 150);
    });
    const otherId = serve('/other-b.json', document(`${origin}/other-b.json`));
    const slow = getClient(ctx, slowId);
    // A second lookup of the same id joins the fetch in flight; another id is refused.
    const joined = getClient(ctx, slowId);
    await expectRefused(getClient(ctx, otherId), '1', /too many client metadata documents are being fetched right now/);
    expect(hits.get('/other-b.json')).toBeUndefined();
    expect((await slow)?.clientId).toBe(slowId);
    expect((await joined)?.clientId).toBe(slowId);
    expect(ctx.metadataDocumentLimits.inFlight).toBe(0);
    expect((await getClient(ctx, otherId))?.clientId).toBe(otherId);
  });

  it('beyond fetchesPerHostPerMinute: 503 temporarily_unavailable with Retry-After until the minute ends, for that host only', async () => {
    const ctx = context({ fetchesPerHostPerMinute: 2 });
    const ids = ['a', 'b', 'c'].map((name) => serve(`/host-${name}.json`, document(`${origin}/host-${name}.json`)));
    expect(await getClient(ctx, ids[0]!)).toBeDefined();
    // A failed fetch counts too.
    expect(await getClient(ctx, `${origin}/missing.json`)).toBeUndefined();
    clock += 20;
    await expectRefused(getClient(ctx, ids[1]!), '40', /fetched from 127\.0\.0\.1 in the last minute; retry in 40 s/);
    expect(hits.get('/host-b.json')).toBeUndefined();
    // Cached documents are served without counting.
    expect(await getClient(ctx, ids[0]!)).toBeDefined();
    clock += 40;
    expect(await getClient(ctx, ids[1]!)).toBeDefined();
    expect(await getClient(ctx, ids[2]!)).toBeDefined();
  });

  it.each([
    [{ maxConcurrentFetches: 0 }, 'clientMetadataDocuments.maxConcurrentFetches must be a whole number from 1 to 1024'],
    [{ fetchesPerHostPerMinute: 1.5 }, 'clientMetadataDocuments.fetchesPerHostPerMinute must be a whole number from 1 to 10000'],
    [{ failureCacheSeconds: -1 }, 'clientMetadataDocuments.failureCacheSeconds must be a whole number from 0 to 3600'],
    [{ maxStaleSeconds: 604_801 }, 'clientMetadataDocuments.maxStaleSeconds must be a whole number from 0 to 604800'],
  ])('%j is refused at start, naming the key', (cimd, message) => {
    expect(() => context(cimd)).toThrow(message);
  });
});

describe('Client ID Metadata Documents: an expired document is served stale while a refetch cannot be made (RFC 5861 §4 stale-if-error)', () => {
  /** Serves a document for `path` with a one-minute lifetime; returns its id. */
  function serveShortLived(path: string): string {
    return serve(path, document(`${origin}${path}`), { 'Cache-Control': 'max-age=60' });
  }

  it('RFC 5861 §4: a refetch refused by the per-host rate serves the stale record instead of 503', async () => {
    const ctx = context({ fetchesPerHostPerMinute: 1 });
    const id = serveShortLived('/stale-rate.json');
    expect((await getClient(ctx, id))?.clientId).toBe(id);
    clock += 61;
    // Another document on the same host has used up the minute.
    expect(await getClient(ctx, serveShortLived('/stale-rate-other.json'))).toBeDefined();
    const client = await getClient(ctx, id);
    expect(client?.clientId).toBe(id);
    expect(client?.expiresAt).toBeLessThan(clock);
    expect(hits.get('/stale-rate.json')).toBe(1);
  });

  it('RFC 5861 §4: a refetch refused by maxConcurrentFetches serves the stale record instead of 503', async () => {
    const ctx = context({ maxConcurrentFetches: 1 });
    const id = serveShortLived('/stale-cap.json');
    expect(await getClient(ctx, id)).toBeDefined();
    clock += 61;
    const held = ctx.metadataDocumentLimits.acquire('elsewhere.example', clock);
    expect('release' in held).toBe(true);
    expect((await getClient(ctx, id))?.clientId).toBe(id);
    if ('release' in held) held.release();
    expect(hits.get('/stale-cap.json')).toBe(1);
  });

  it.each([
    ['503', (res: ServerResponse) => res.writeHead(503).end()],
    ['500', (res: ServerResponse) => res.writeHead(500).end()],
    ['a reset connection', (res: ServerResponse) => res.socket?.destroy()],
  ])('RFC 5861 §4: a refetch failing with %s serves the stale record, and the failure is remembered (no refetch per request)', async (_label, fail) => {
    const ctx = context();
    const path = `/stale-error-${Math.random().toString(36).slice(2)}.json`;
    const id = serveShortLived(path);
    expect(await getClient(ctx, id)).toBeDefined();
    routes.set(path, (_req, res) => fail(res));
    clock += 61;
    expect((await getClient(ctx, id))?.clientId).toBe(id);
    expect((await getClient(ctx, id))?.clientId).toBe(id);
    expect(hits.get(path)).toBe(2);
  });

  it('RFC 5861 §4: concurrent lookups joining one failing refetch all get the stale record', async () => {
    const ctx = context();
    const id = serveShortLived('/stale-burst.json');
    expect(await getClient(ctx, id)).toBeDefined();
    routes.set('/stale-burst.json', (_req, res) => void setTimeout(() => res.writeHead(502).end(), 50));
    clock += 61;
    const results = await Promise.all(Array.from({ length: 5 }, () => getClient(ctx, id)));
    expect(results.every((c) => c?.clientId === id)).toBe(true);
  });

  it('staleness is bounded by maxStaleSeconds (default 24 h past expiry): beyond it a refused refetch is 503 again', async () => {
    const ctx = context({ fetchesPerHostPerMinute: 1 });
    const id = serveShortLived('/stale-bound.json');
    expect(await getClient(ctx, id)).toBeDefined();
    clock += 60 + DEFAULTS.clientMetadataDocuments.maxStaleSeconds - 1;
    expect(await getClient(ctx, serveShortLived('/stale-bound-other.json'))).toBeDefined();
    expect((await getClient(ctx, id))?.clientId).toBe(id);
    clock += 1;
    const error = await getClient(ctx, id).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(TemporarilyUnavailableError);
    expect((error as TemporarilyUnavailableError).headers['Retry-After']).toMatch(/^\d+$/);
  });

  it('maxStaleSeconds: 0 turns stale serving off', async () => {
    const ctx = context({ maxStaleSeconds: 0 });
    const id = serveShortLived('/stale-off.json');
    expect(await getClient(ctx, id)).toBeDefined();
    routes.set('/stale-off.json', (_req, res) => res.writeHead(503).end());
    clock += 61;
    expect(await getClient(ctx, id)).toBeUndefined();
  });

  it.each([
    ['404 (the document was withdrawn)', (res: ServerResponse) => res.writeHead(404).end()],
    ['a document for another client id', (res: ServerResponse) => res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(document('https://other.example.com/c.json')))],
  ])('a definitive answer — %s — ends the record at once: unknown client, record deleted, nothing stale', async (_label, answer) => {
    const ctx = context();
    const path = `/stale-final-${Math.random().toString(36).slice(2)}.json`;
    const id = serveShortLived(path);
    expect(await getClient(ctx, id)).toBeDefined();
    routes.set(path, (_req, res) => answer(res));
    clock += 61;
    expect(await getClient(ctx, id)).toBeUndefined();
    expect(await ctx.stores.clients.get(id)).toBeUndefined();
  });
});

describe('Client ID Metadata Documents: the per-host rate counts a host\'s registrable part (hostRateKey)', () => {
  it('every subdomain and port of one domain shares one budget, so wildcard DNS cannot multiply it', () => {
    const limits = context({ fetchesPerHostPerMinute: 2 }).metadataDocumentLimits;
    const take = (host: string) => limits.acquire(host, clock);
    expect('release' in take('a.clients.example.com')).toBe(true);
    expect('release' in take('b.example.com:8443')).toBe(true);
    const refused = take('zz.x.example.com');
    expect(refused).toEqual({ refused: { reason: 'host-rate', host: 'example.com', retryAfterSeconds: 60 } });
    expect('release' in take('example.org')).toBe(true);
  });
});

describe('Client ID Metadata Documents: limits on the wire', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness({ clientMetadataDocuments: { allowPrivateNetworks: true, fetchesPerHostPerMinute: 1 } });
  });
  afterEach(async () => {
    await h.close();
  });

  it('RFC 6749 §4.1.2.1: /authorize over the limit shows a 503 page with Retry-After (the redirect URI is not verified yet); /token answers 503 temporarily_unavailable', async () => {
    const first = serve('/wire-a.json', document(`${origin}/wire-a.json`));
    const second = serve('/wire-b.json', document(`${origin}/wire-b.json`));
    const authorize = (clientId: string) =>
      fetch(`${h.issuer}/authorize?${new URLSearchParams({ response_type: 'code', client_id: clientId, redirect_uri: REDIRECT, code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256', resource: RESOURCE })}`, { redirect: 'manual' });
    expect((await authorize(first)).status).toBe(303);
    const page = await authorize(second);
    expect(page.status).toBe(503);
    expect(page.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(page.headers.get('location')).toBeNull();
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await page.text()).toContain('temporarily_unavailable');
    const token = await h.post(h.tokenUrl, { grant_type: 'authorization_code', client_id: second, code: 'x', redirect_uri: REDIRECT, code_verifier: 'a'.repeat(43) });
    expectError(token, 503, 'temporarily_unavailable');
    expect(token.headers.get('retry-after')).toMatch(/^\d+$/);
  });
});

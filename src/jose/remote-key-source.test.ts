import { generateKeyPairSync } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { StoreUnavailableError } from '../stores/contracts.js';
import { createRemoteKeySource, type RemoteKeySourceOptions } from './remote-key-source.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** A JWKS endpoint on 127.0.0.1 whose behaviour each test sets. */
interface Issuer {
  url: string;
  /** Requests received, by path. */
  hits: Map<string, number>;
  handler: Handler;
  jwks: { keys: Record<string, unknown>[] };
  down(): Promise<void>;
}

const issuers: Issuer[] = [];

async function startIssuer(jwks: { keys: Record<string, unknown>[] }): Promise<Issuer> {
  const issuer: Issuer = {
    url: '',
    hits: new Map(),
    jwks,
    handler: (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/jwk-set+json' }).end(JSON.stringify(issuer.jwks));
    },
    down: () => stop(server),
  };
  const server = createServer((req, res) => {
    res.on('error', () => undefined);
    issuer.hits.set(req.url ?? '', (issuer.hits.get(req.url ?? '') ?? 0) + 1);
    issuer.handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;
  issuers.push(issuer);
  return issuer;
}

function stop(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

afterEach(async () => {
  await Promise.all(issuers.splice(0).map((i) => i.down().catch(() => undefined)));
});

function ecJwk(kid: string): Record<string, unknown> {
  return { ...generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' }), kid, use: 'sig' };
}

/** A source on a fake clock, counting fetch calls (also those that fail to connect). */
function source(issuer: Issuer, options: Partial<RemoteKeySourceOptions> = {}) {
  const clock = { ms: 1_700_000_000_000 };
  const counter = { calls: 0 };
  const ks = createRemoteKeySource({
    jwksUri: issuer.url,
    now: () => clock.ms,
    fetch: (input, init) => {
      counter.calls += 1;
      return fetch(input, init);
    },
    ...options,
  });
  return { ks, clock, counter };
}

const kids = (keys: readonly { kid?: string }[]): (string | undefined)[] => keys.map((k) => k.kid);

describe('createRemoteKeySource — caching', () => {
  it('RFC 8414 §2 jwks_uri: the first resolve fetches; later ones answer from the cache', async () => {
    const issuer = await startIssuer({ keys: [ecJwk('a'), ecJwk('b')] });
    const { ks, counter } = source(issuer);
    expect(kids(await ks.resolve('a'))).toEqual(['a']);
    expect(kids(await ks.resolve('b'))).toEqual(['b']);
    expect(kids(await ks.resolve(undefined))).toEqual(['a', 'b']);
    expect(counter.calls).toBe(1);
  });

  it('RFC 7517 §5: members that are not usable keys are skipped, not fatal', async () => {
    const issuer = await startIssuer({ keys: [{ kty: 'oct', k: 'c2VjcmV0', kid: 'h' }, { ...ecJwk('e'), use: 'enc' }, ecJwk('a'), { kty: 'EC' }] });
    const { ks } = source(issuer);
    expect(kids(await ks.resolve(undefined))).toEqual(['a']);
    expect(await ks.resolve('h')).toEqual([]);
  });

  it('RFC 7517 §5: keys are fresh for cacheMaxAgeSeconds; the next resolve refetches and sees rotation', async () => {
    const issuer = await startIssuer({ keys: [ecJwk('a')] });
    const { ks, clock, counter } = source(issuer, { cacheMaxAgeSeconds: 300 });
    await ks.resolve('a');
    issuer.jwks = { keys: [ecJwk('b')] };
    clock.ms += 299_000;
    expect(kids(await ks.resolve(undefined))).toEqual(['a']);
    expect(counter.calls).toBe(1);
    clock.ms += 1_000;
    expect(kids(await ks.resolve(undefined))).toEqual(['b']);
    expect(await ks.resolve('a')).toEqual([]);
    expect(counter.calls).toBe(2);
  });

  it('RFC 7517 §4.5: an unknown kid refetches once the refetch interval has passed (key rotation)', async () => {
    const issuer = await startIssuer({ keys: [ecJwk('a')] });
    const { ks, clock, counter } = source(issuer, { refetchIntervalSeconds: 30 });
    await ks.resolve('a');
    issuer.jwks = { keys: [ecJwk('a'), ecJwk('new')] };
    clock.ms += 10_000;
    expect(await ks.resolve('new')).toEqual([]);
    expect(counter.calls).toBe(1);
    clock.ms += 20_000;
    expect(kids(await ks.resolve('new'))).toEqual(['new']);
    expect(counter.calls).toBe(2);
  });

  it('RFC 9700 §4 (DoS): a flood of 10,000 distinct unknown kids causes at most one fetch per interval', async () => {
    const issuer = await startIssuer({ keys: [ecJwk('a')] });
    const { ks, clock, counter } = source(issuer, { refetchIntervalSeconds: 30 });
    await ks.resolve('a');
    clock.ms += 30_000;
    const flood = await Promise.all(Array.from({ length: 10_000 }, (_, i) => ks.resolve(`forged-${i}`)));
    expect(flood.every((keys) => keys.length === 0)).toBe(true);
    expect(counter.calls).toBe(2);
    for (let i = 0; i < 10_000; i += 1) await ks.resolve(`forged-again-${i}`);
    clock.ms += 29_999;
    await ks.resolve('forged-late');
    expect(counter.calls).toBe(2);
    expect(issuer.hits.get('/jwks')).toBe(2);
    clock.ms += 1;
    await ks.resolve('forged-next-interval');
    expect(counter.calls).toBe(3);
  });

  it('single-flight: 50 concurrent cold resolves share one request', async () => {
    const issuer = await startIssuer({ keys: [ecJwk('a')] });
    const serve = issuer.handler;
    issuer.handler = (req, res) => setTimeout(() => serve(req, res), 50);
    const { ks, counter } = source(issuer);
    const results = await Promise.all(Array.from({ length: 50 }, () => ks.resolve('a')));
    expect(results.every((keys) => keys.length === 1)).toBe(true);
    expect(counter.calls).toBe(1);
    expect(issuer.hits.get('/jwks')).toBe(1);
  });

  it('a known kid does not wait for a refetch another caller triggered', async () => {
    const issuer = await startIssuer({ keys: [ecJwk('a')] });
    const { ks, clock } = source(issuer, { timeoutMs: 200 });
    await ks.resolve('a');
    issuer.handler = () => undefined; // hangs until the timeout
    clock.ms += 60_000;
    const order: string[] = [];
    const unknown = ks.resolve('zzz').then((keys) => {
      order.push('unknown');
      return keys;
    });
    const known = ks.resolve('a').then((keys) => {
      order.push('known');
      return keys;
    });
    expect(kids(await known)).toEqual(['a']);
    expect(await unknown).toEqual([]);
    expect(order).toEqual(['known', 'unknown']);
  });
});

describe('createRemoteKeySource — stale on error', () => {
  it('RFC 9700 §4: issuer down → the stale keys are still served, retried once per interval', async () => {
    const issuer = await startIssuer({ keys: [ecJwk('a')] });
    const { ks, clock, counter } = source(issuer, { cacheMaxAgeSeconds: 300, refetchIntervalSeconds: 30 });
    await ks.resolve('a');
    await issuer.down();
    clock.ms += 301_000;
    expect(kids(await ks.resolve('a'))).toEqual(['a']);
    expect(counter.calls).toBe(2);
    clock.ms += 29_000;
    expect(kids(await ks.resolve('a'))).toEqual(['a']);
    expect(await ks.resolve('unknown')).toEqual([]);
    expect(counter.calls).toBe(2);
    clock.ms += 1_000;
    expect(kids(await ks.resolve('a'))).toEqual(['a']);
    expect(counter.calls).toBe(3);
  });

  const failures: [string, Handler][] = [
    ['HTTP 500', (_req, res) => res.writeHead(500).end('{"keys":[]}')],
    ['HTTP 304', (_req, res) => res.writeHead(304).end()],
    ['a non-JSON body', (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('<html>')],
    ['JSON that is not a JWKS', (_req, res) => res.writeHead(200).end('{"keys":{}}')],
    ['a JWKS with no usable key', (_req, res) => res.writeHead(200).end('{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}')],
    ['invalid UTF-8', (_req, res) => res.writeHead(200).end(Buffer.from([0x7b, 0xff, 0x7d]))],
    ['a reset connection', (req) => req.socket.destroy()],
    ['a 5 MB body (declared length)', (_req, res) => res.writeHead(200, { 'content-length': String(5 * 1024 * 1024) }).end(Buffer.alloc(5 * 1024 * 1024, 0x20))],
    ['a 5 MB body (chunked)', (_req, res) => {
      res.writeHead(200);
      for (let i = 0; i < 80; i += 1) res.write(Buffer.alloc(64 * 1024, 0x20));
      res.end();
    }],
    ['a redirect', (_req, res) => res.writeHead(302, { location: '/elsewhere' }).end()],
  ];

  it.each(failures)('RFC 7517 §5: %s on refetch keeps the stale keys', async (_name, handler) => {
    const issuer = await startIssuer({ keys: [ecJwk('a')] });
    const { ks, clock, counter } = source(issuer);
    await ks.resolve('a');
    issuer.handler = handler;
    clock.ms += 300_000;
    expect(kids(await ks.resolve('a'))).toEqual(['a']);
    expect(counter.calls).toBe(2);
  });

  it.each(failures)('fail closed: %s with nothing cached → StoreUnavailableError', async (_name, handler) => {
    const issuer = await startIssuer({ keys: [] });
    issuer.handler = handler;
    const { ks } = source(issuer);
    await expect(ks.resolve('a')).rejects.toBeInstanceOf(StoreUnavailableError);
  });

  it('RFC 9110 §15.4: a redirect is refused, not followed', async () => {
    const issuer = await startIssuer({ keys: [ecJwk('a')] });
    issuer.handler = (req, res) => {
      if (req.url === '/jwks') res.writeHead(302, { location: '/elsewhere' }).end();
      else res.writeHead(200).end(JSON.stringify(issuer.jwks));
    };
    const { ks } = source(issuer);
    await expect(ks.resolve('a')).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(issuer.hits.get('/elsewhere')).toBeUndefined();
  });

  it('a slow response times out (timeoutMs) and keeps the stale keys', async () => {
    const issuer = await startIssuer({ keys: [ecJwk('a')] });
    const { ks, clock } = source(issuer, { timeoutMs: 100 });
    await ks.resolve('a');
    issuer.handler = () => undefined;
    clock.ms += 300_000;
    const started = Date.now();
    expect(kids(await ks.resolve('a'))).toEqual(['a']);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('the timeout also covers a body that trickles in', async () => {
    const issuer = await startIssuer({ keys: [] });
    issuer.handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"keys":[');
    };
    const { ks } = source(issuer, { timeoutMs: 100 });
    await expect(ks.resolve('a')).rejects.toThrow(/timed out after 100 ms/);
  });
});

describe('createRemoteKeySource — nothing cached', () => {
  it('fail closed: never fetched + issuer down → StoreUnavailableError with Retry-After', async () => {
    const issuer = await startIssuer({ keys: [ecJwk('a')] });
    await issuer.down();
    const { ks } = source(issuer);
    const error = await ks.resolve('a').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect((error as StoreUnavailableError).message).toMatch(/^issuer JWKS unreachable at http:\/\/127\.0\.0\.1:\d+\/jwks: request failed/);
    expect((error as StoreUnavailableError).retryAfterSeconds).toBeGreaterThanOrEqual(1);
  });

  it('cold retries are spaced by one second, then recover once the issuer answers', async () => {
    const issuer = await startIssuer({ keys: [ecJwk('a')] });
    const good = issuer.handler;
    issuer.handler = (_req, res) => res.writeHead(503).end();
    const { ks, clock, counter } = source(issuer);
    await expect(ks.resolve('a')).rejects.toThrow(/HTTP 503/);
    await expect(ks.resolve('a')).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(counter.calls).toBe(1);
    issuer.handler = good;
    clock.ms += 1_000;
    expect(kids(await ks.resolve('a'))).toEqual(['a']);
    expect(counter.calls).toBe(2);
  });

  it('close() aborts an in-flight fetch and refuses further resolves', async () => {
    const issuer = await startIssuer({ keys: [] });
    issuer.handler = () => undefined;
    const { ks } = source(issuer);
    const pending = ks.resolve('a');
    ks.close();
    await expect(pending).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(ks.resolve('a')).rejects.toThrow(/closed/);
  });
});

describe('createRemoteKeySource — options', () => {
  it('refuses a jwksUri that is not http(s) at creation', () => {
    expect(() => createRemoteKeySource({ jwksUri: 'file:///etc/jwks.json' })).toThrow(/jwksUri must use https:/);
    expect(() => createRemoteKeySource({ jwksUri: 'jwks.json' })).toThrow(/absolute/);
    expect(() => createRemoteKeySource({ jwksUri: 'https://u:p@idp.example/jwks' })).toThrow(/credentials/);
  });

  it('refuses invalid numbers at creation', () => {
    expect(() => createRemoteKeySource({ jwksUri: 'https://idp.example/jwks', refetchIntervalSeconds: -1 })).toThrow(/refetchIntervalSeconds/);
    expect(() => createRemoteKeySource({ jwksUri: 'https://idp.example/jwks', timeoutMs: Number.NaN })).toThrow(/timeoutMs/);
    expect(() => createRemoteKeySource({ jwksUri: 'https://idp.example/jwks', maxBytes: 0 })).toThrow(/maxBytes/);
  });
});

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createPublicOnlyFetch, RefusedUrlError } from './public-only-fetch.js';

let server: Server | undefined;
let requests: string[] = [];

afterEach(async () => {
  if (server !== undefined) await new Promise<void>((resolve) => server?.close(() => resolve()));
  server = undefined;
  requests = [];
});

/** A local server: `/moved` redirects to `/keys`, which answers a JWKS. */
async function listen(): Promise<number> {
  server = createServer((req, res) => {
    requests.push(req.url ?? '');
    if (req.url === '/moved') {
      res.writeHead(302, { location: '/keys' });
      res.end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"keys":[]}');
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

describe('createPublicOnlyFetch: the SSRF guard for URLs a client chose (RFC 7591 §5, RFC 9700 §4)', () => {
  const guarded = createPublicOnlyFetch({ allowPrivateNetworks: false });

  it.each(['http://keys.example/jwks', 'ftp://keys.example/jwks', 'https://user:pw@keys.example/jwks'])('refuses %s before any lookup', async (url) => {
    await expect(guarded(url)).rejects.toThrow(new RefusedUrlError('the URL must be https'));
  });

  it.each(['127.0.0.1', '[::1]', 'localhost', '10.0.0.1', '169.254.169.254', '[::ffff:127.0.0.1]'])('RFC 9700 §4: refuses https://%s without connecting (a non-public address)', async (host) => {
    const port = await listen();
    await expect(guarded(`https://${host}:${port}/keys`)).rejects.toThrow(new RefusedUrlError('host resolves to a non-public address'));
    expect(requests).toEqual([]);
  });

  it('refuses any method but GET', async () => {
    await expect(guarded('https://keys.example/jwks', { method: 'POST' })).rejects.toThrow(new RefusedUrlError('only GET is allowed'));
  });

  it('takes a slot before resolving anything, and releases it once the response has ended; a refusal fetches nothing', async () => {
    const port = await listen();
    let released = 0;
    const limited = createPublicOnlyFetch({ allowPrivateNetworks: true, acquire: () => () => (released += 1) });
    const ok = await limited(`http://127.0.0.1:${port}/keys`);
    expect(await ok.text()).toBe('{"keys":[]}');
    await new Promise((resolve) => setImmediate(resolve));
    expect(released).toBe(1);
    const refusing = createPublicOnlyFetch({
      allowPrivateNetworks: true,
      acquire: () => {
        throw new RefusedUrlError('too many fetches to this host in the last minute');
      },
    });
    await expect(refusing(`http://127.0.0.1:${port}/keys`)).rejects.toThrow('too many fetches to this host in the last minute');
    expect(requests).toEqual(['/keys']);
  });

  it('development (allowPrivateNetworks): fetches http on a loopback host, and returns a redirect without following it', async () => {
    const port = await listen();
    const dev = createPublicOnlyFetch({ allowPrivateNetworks: true });
    const ok = await dev(`http://127.0.0.1:${port}/keys`, { headers: { accept: 'application/json' } });
    expect([ok.status, await ok.text()]).toEqual([200, '{"keys":[]}']);
    const moved = await dev(`http://localhost:${port}/moved`);
    expect([moved.status, moved.headers.get('location')]).toEqual([302, null]);
    expect(requests).toEqual(['/keys', '/moved']);
    // http to a host that is not loopback stays refused even in development.
    await expect(dev('http://keys.example/jwks')).rejects.toThrow(new RefusedUrlError('the URL must be https'));
  });
});

import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { enforceOriginPolicy, originPolicy } from './origin-policy.js';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

async function serve(policy: ReturnType<typeof originPolicy>): Promise<number> {
  const server = createServer((req, res) => {
    if (enforceOriginPolicy(policy, req, res)) return;
    res.writeHead(401, { 'WWW-Authenticate': 'Bearer' }).end();
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

function send(port: number, headers: Record<string, string>, method = 'POST'): Promise<{ status: number; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path: '/mcp', headers, setHost: headers.host === undefined }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('Origin and Host validation (MCP transports: servers validate Origin; DNS rebinding)', () => {
  it('a public server: its own origin and allowedOrigins pass with CORS headers; any other Origin is 403; no Origin passes untouched', async () => {
    const port = await serve(originPolicy('https://mcp.example.com', '0.0.0.0', ['https://inspector.example']));
    const own = await send(port, { origin: 'https://mcp.example.com' });
    expect(own.status).toBe(401);
    expect(own.headers['access-control-allow-origin']).toBe('https://mcp.example.com');
    expect(own.headers['access-control-expose-headers']).toContain('WWW-Authenticate');
    expect((await send(port, { origin: 'https://inspector.example' })).status).toBe(401);
    expect((await send(port, { origin: 'https://evil.example' })).status).toBe(403);
    expect((await send(port, { origin: 'http://localhost:6274' })).status).toBe(403);
    expect((await send(port, { origin: 'null' })).status).toBe(403);
    const plain = await send(port, {});
    expect(plain.status).toBe(401);
    expect(plain.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('an allowed preflight (Fetch: CORS protocol) is 204 with the methods and headers an MCP client sends', async () => {
    const port = await serve(originPolicy('https://mcp.example.com', '0.0.0.0', []));
    const preflight = await send(port, { origin: 'https://mcp.example.com', 'access-control-request-method': 'POST' }, 'OPTIONS');
    expect(preflight.status).toBe(204);
    expect(preflight.headers['access-control-allow-methods']).toBe('GET, POST, DELETE');
    expect(String(preflight.headers['access-control-allow-headers'])).toContain('DPoP');
    expect((await send(port, { origin: 'https://evil.example' }, 'OPTIONS')).status).toBe(403);
  });

  it('a local stack: any loopback origin passes; a loopback listener refuses a foreign Host (DNS rebinding)', async () => {
    const port = await serve(originPolicy('http://localhost:4000', '127.0.0.1', []));
    expect((await send(port, { origin: 'http://localhost:6274', host: 'localhost:4000' })).status).toBe(401);
    expect((await send(port, { origin: 'http://127.0.0.1:9999', host: '127.0.0.1:4000' })).status).toBe(401);
    expect((await send(port, { host: 'attacker.example:4000' })).status).toBe(403);
    expect((await send(port, { origin: 'http://attacker.example:4000', host: 'attacker.example:4000' })).status).toBe(403);
  });
});

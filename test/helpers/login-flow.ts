/**
 * A real authorization server on 127.0.0.1:0 (memory stores) and a minimal "browser" for the
 * login and consent pages: it follows nothing by itself, so tests see every redirect.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAuthorizationServer, type AuthorizationServer } from '../../src/authorization-server/create-authorization-server.js';
import type { AuditEvent, AuthorizationServerOptions, ConfiguredClient } from '../../src/authorization-server/options.js';
import { addUser } from '../../src/authorization-server/users.js';
import { createMemoryAuthorizationServerStores } from '../../src/stores/index.js';

export const RESOURCE = 'https://mcp.example/mcp';
export const PASSWORD = 'correct horse battery staple';

/** Clients every test server knows. */
export const TEST_CLIENTS: ConfiguredClient[] = [
  {
    clientId: 'app',
    clientName: 'Example App',
    redirectUris: ['https://app.example/cb', 'http://127.0.0.1/callback', 'https://app.example/cb2?tenant=a', 'com.example.app:/oauth'],
  },
  { clientId: 'm2m', clientSecret: 'm2m-secret-m2m-secret-m2m-secret', redirectUris: ['https://m2m.example/cb'], grantTypes: ['client_credentials'] },
  { clientId: 'narrow', clientName: 'Narrow', redirectUris: ['https://narrow.example/cb'], scope: 'mcp:tools' },
  { clientId: 'evil', clientName: '<script>alert("x")</script>&<b>', redirectUris: ['https://evil.example/cb'] },
];

export interface TestAs {
  /** `http://127.0.0.1:port`: where requests really go. */
  base: string;
  server: AuthorizationServer;
  audits: AuditEvent[];
  close(): Promise<void>;
}

/**
 * Starts an authorization server. `issuer` defaults to the listening address; pass an https
 * issuer to see `__Host-`/Secure cookies (requests still go to `base`; see {@link localUrl}).
 */
export async function startAuthorizationServer(options: { issuer?: string; now?: () => number; overrides?: Partial<AuthorizationServerOptions> } = {}): Promise<TestAs> {
  let as: AuthorizationServer | undefined;
  const http: Server = createServer((req, res) => {
    void (async () => {
      if (as === undefined || !(await as.handle(req, res))) {
        res.writeHead(404);
        res.end();
      }
    })();
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  const audits: AuditEvent[] = [];
  const asOptions: AuthorizationServerOptions = {
    issuer: options.issuer ?? base,
    stores: createMemoryAuthorizationServerStores(),
    secret: randomBytes(48).toString('base64url'),
    resources: [{ uri: RESOURCE, name: 'Demo MCP', scopes: ['mcp:tools', 'mcp:admin'], defaultScopes: ['mcp:tools'] }],
    clients: TEST_CLIENTS,
    audit: (event) => audits.push(event),
  };
  if (options.now !== undefined) asOptions.now = options.now;
  as = await createAuthorizationServer({ ...asOptions, ...options.overrides });
  await addUser(as.context, 'alice', PASSWORD);
  await addUser(as.context, 'bob', PASSWORD);
  const server = as;
  return {
    base,
    server,
    audits,
    close: async () => {
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
      await server.close();
    },
  };
}

/** A PKCE pair (RFC 7636 §4.1–4.2). */
export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** Maps a URL the server handed out (under its issuer, possibly https) to the listening address. */
export function localUrl(t: TestAs, url: string): string {
  const u = new URL(url, t.base);
  return `${t.base}${u.pathname}${u.search}`;
}

/** A raw GET with no redirect following; `query` is sent as written (duplicates kept). */
export function get(t: TestAs, pathOrUrl: string, cookie?: string): Promise<Response> {
  return fetch(localUrl(t, pathOrUrl), { redirect: 'manual', headers: cookie === undefined ? {} : { cookie } });
}

/** A form POST with no redirect following (`extra` headers, e.g. `X-Forwarded-For`, added). */
export function postForm(t: TestAs, pathOrUrl: string, fields: Record<string, string> | string, cookie?: string, extra: Record<string, string> = {}): Promise<Response> {
  const body = typeof fields === 'string' ? fields : new URLSearchParams(fields).toString();
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', ...extra };
  if (cookie !== undefined) headers.cookie = cookie;
  return fetch(localUrl(t, pathOrUrl), { method: 'POST', redirect: 'manual', headers, body });
}

/** The hidden CSRF field of a rendered form. */
export function csrfOf(html: string): string {
  const m = /name="csrf" value="([^"]+)"/.exec(html);
  if (m === null) throw new Error('no csrf field in page');
  return m[1] as string;
}

/** `name=value` of a `Set-Cookie` header, for sending back. */
export function cookiePair(setCookie: string): string {
  return setCookie.split(';')[0] as string;
}

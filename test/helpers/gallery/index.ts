/**
 * The gallery of flawed MCP servers: one reference server (an MCP endpoint and its authorization
 * server on one origin, 127.0.0.1) that is correct — `warden audit` finds nothing — unless started
 * with one flaw, which the audit must find under the right id and alone. It records every request
 * it receives and every tool it runs.
 *
 * @example
 * ```ts
 * const server = await startGallery({ flaw: 'alg-none' });
 * const report = await runAudit({ url: server.resource, ...server.auditCredentials(), rate: 1000 });
 * ```
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AuditOptions } from '../../../src/audit/index.js';
import { authorize, login, metadata, register, token } from './authorization-server.js';
import { DPOP_REQUIRED_FLAWS, type Flaw } from './flaws.js';
import { handleMcp, resourceMetadata } from './resource-server.js';
import { createState, SECOND_SERVICE_CLIENT, SERVICE_CLIENT, USER, type GalleryState } from './state.js';
import { mintAccessToken, mintIdToken } from './tokens.js';

export { DPOP_REQUIRED_FLAWS, FLAWS, type Flaw } from './flaws.js';
export { SERVICE_CLIENT, SECOND_SERVICE_CLIENT, USER } from './state.js';

export interface Gallery {
  readonly state: GalleryState;
  /** `http://127.0.0.1:port`. */
  readonly origin: string;
  /** The MCP endpoint to audit. */
  readonly resource: string;
  /** Another resource of the same authorization server. */
  readonly otherResource: string;
  /**
   * Audit options that give the audit everything a thorough reviewer has: a confidential client,
   * a second principal's token, another resource, an ID token, the probe tool, a sign-in played
   * by this helper (the user's password typed into the sign-in form) and --allow-refresh.
   */
  auditCredentials(): Promise<Partial<AuditOptions>>;
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Starts a gallery server on 127.0.0.1 with at most one flaw. */
export async function startGallery(options: { flaw?: Flaw; requireDpop?: boolean; decoyOrigin?: string } = {}): Promise<Gallery> {
  let state: GalleryState | undefined;
  const server: Server = createServer((req, res) => {
    void (async () => {
      const s = state as GalleryState;
      const url = new URL(req.url ?? '/', s.origin);
      const body = await readBody(req);
      s.requests.push({ method: req.method ?? '', url: req.url ?? '', host: req.headers.host, origin: req.headers.origin, userAgent: req.headers['user-agent'], authorization: req.headers.authorization, dpop: req.headers.dpop as string | undefined, body });
      const path = url.pathname;
      if (path === '/mcp' || path === '/other-mcp') return handleMcp(s, req, res, path === '/mcp' ? s.resource : s.otherResource, url, body);
      if (req.method === 'GET' && path.startsWith('/.well-known/oauth-protected-resource')) {
        const resource = path === '/.well-known/oauth-protected-resource/other-mcp' ? s.otherResource : s.resource;
        return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(resourceMetadata(s, resource)));
      }
      if (req.method === 'GET' && path === '/.well-known/oauth-authorization-server') return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(metadata(s)));
      if (req.method === 'GET' && path === '/jwks') return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [s.publicJwk] }));
      if (req.method === 'POST' && path === '/register') return register(s, res, body);
      if (req.method === 'GET' && path === '/authorize') return authorize(s, res, url);
      if (req.method === 'POST' && path === '/login') return login(s, res, body);
      if (req.method === 'POST' && path === '/token') return token(s, req, res, body);
      res.writeHead(404).end();
    })().catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500).end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state = await createState(origin, options.flaw, options.requireDpop ?? (options.flaw !== undefined && DPOP_REQUIRED_FLAWS.includes(options.flaw)), options.decoyOrigin);
  const ready = state;
  return {
    state: ready,
    origin,
    resource: ready.resource,
    otherResource: ready.otherResource,
    async auditCredentials() {
      const secondToken = await mintAccessToken(ready, { sub: SECOND_SERVICE_CLIENT.clientId, clientId: SECOND_SERVICE_CLIENT.clientId, resource: ready.resource, scope: 'mcp:tools' });
      return {
        clientId: SERVICE_CLIENT.clientId,
        clientSecret: SERVICE_CLIENT.clientSecret,
        secondToken,
        otherResource: ready.otherResource,
        idToken: await mintIdToken(ready, USER.username, SERVICE_CLIENT.clientId),
        probeTool: 'admin_status',
        allowRefresh: true,
        signIn: { redirectUri: 'http://127.0.0.1:9/callback', authorize: (url) => playUser(url) },
      };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The user at the gallery's sign-in page: fills in the form and returns where it redirects. */
async function playUser(authorizationUrl: URL): Promise<URL> {
  const page = await fetch(authorizationUrl, { redirect: 'manual' });
  if (page.status === 303) return new URL(page.headers.get('location') as string);
  const html = await page.text();
  const request = /name="request" value="([^"]+)"/.exec(html)?.[1];
  if (request === undefined) throw new Error(`no sign-in form at ${authorizationUrl.origin} (HTTP ${page.status})`);
  const answer = await fetch(new URL('/login', authorizationUrl), {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ request, username: USER.username, password: USER.password }).toString(),
  });
  return new URL(answer.headers.get('location') as string);
}

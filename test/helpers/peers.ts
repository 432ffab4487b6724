/**
 * Peers `warden audit` is run against for the README comparison:
 *
 * - the official MCP TypeScript SDK v1's example server (`simpleStreamableHttp.js --oauth`, and
 *   `--oauth-strict`), protected with the SDK's `requireBearerAuth` and its demo authorization
 *   server, exactly as shipped (a child process);
 * - node-oidc-provider as the authorization server (dynamic registration and RFC 8707 resource
 *   indicators with JWT access tokens switched on, as an MCP deployment needs; everything else its
 *   defaults) in front of an MCP server built the way the SDK documents it: `createMcpExpressApp`,
 *   `mcpAuthMetadataRouter`, `requireBearerAuth` with `expectedResource`, and a JWT verifier (jose,
 *   issuer and audience checked), stateful Streamable HTTP sessions.
 *
 * Each comes with a way to play the user at its sign-in (the SDK's demo server has none: it
 * approves every request).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { createRemoteJWKSet, exportJWK, generateKeyPair, jwtVerify } from 'jose';
import { freePort } from './free-port.js';

const require = createRequire(import.meta.url);
const SDK_ROOT = dirname(dirname(dirname(require.resolve('@modelcontextprotocol/sdk/server/index.js'))));
const SDK_EXAMPLE = join(SDK_ROOT, 'esm', 'examples', 'server', 'simpleStreamableHttp.js');

/** A running peer. */
export interface Peer {
  /** The MCP endpoint. */
  url: string;
  /** Plays the user at the peer's authorization endpoint; returns the redirect it answers with. */
  signIn(authorizationUrl: URL): Promise<URL>;
  /** Tokens of a principal for `resource`, obtained the way a client would (the ID token when the server issues one). */
  tokens(options: { resource: string; scope?: string; principal: string }): Promise<{ accessToken: string; idToken?: string }>;
  stop(): Promise<void>;
}

const pkce = () => {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
};

async function waitForOutput(child: ChildProcess, pattern: RegExp, timeoutMs = 15_000): Promise<void> {
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${pattern} within ${timeoutMs} ms:\n${output}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      if (pattern.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`exited with ${code}:\n${output}`)));
  });
}

/** Registers a client and runs the code flow with PKCE, given a function that plays the user. */
async function codeFlowTokens(issuer: { authorize: string; token: string; register: string }, options: { resource: string; scope?: string; redirectUri: string; play: (url: URL) => Promise<URL>; extra?: Record<string, string> }): Promise<{ accessToken: string; idToken?: string }> {
  const registered = await fetch(issuer.register, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ redirect_uris: [options.redirectUri], token_endpoint_auth_method: 'none', grant_types: ['authorization_code'], response_types: ['code'], client_name: 'peer test', application_type: 'native' }),
  });
  const { client_id: clientId } = (await registered.json()) as { client_id: string };
  const { verifier, challenge } = pkce();
  const url = new URL(issuer.authorize);
  const params: Record<string, string> = { response_type: 'code', client_id: clientId, redirect_uri: options.redirectUri, code_challenge: challenge, code_challenge_method: 'S256', state: 's', resource: options.resource, ...options.extra };
  if (options.scope !== undefined) params.scope = options.scope;
  url.search = new URLSearchParams(params).toString();
  const callback = await options.play(url);
  const code = callback.searchParams.get('code');
  if (code === null) throw new Error(`no code: ${callback.href}`);
  const response = await fetch(issuer.token, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: options.redirectUri, client_id: clientId, resource: options.resource }).toString(),
  });
  const body = (await response.json()) as { access_token?: string; id_token?: string };
  if (body.access_token === undefined) throw new Error(`no token: ${JSON.stringify(body)}`);
  return { accessToken: body.access_token, ...(body.id_token !== undefined && { idToken: body.id_token }) };
}

/** The SDK's demo authorization server approves at once: the "sign-in" is one redirect. */
async function followOnce(url: URL): Promise<URL> {
  const response = await fetch(url, { redirect: 'manual' });
  const location = response.headers.get('location');
  if (location === null) throw new Error(`no redirect from ${url.origin} (HTTP ${response.status})`);
  return new URL(location);
}

/** The SDK v1 example server with its demo authorization server, as shipped. */
export async function startSdkExample(options: { strict: boolean }): Promise<Peer> {
  const [mcpPort, authPort] = [await freePort(), await freePort()];
  const child = spawn(process.execPath, [SDK_EXAMPLE, '--oauth', ...(options.strict ? ['--oauth-strict'] : [])], {
    env: { ...process.env, MCP_PORT: String(mcpPort), MCP_AUTH_PORT: String(authPort) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await Promise.all([waitForOutput(child, /MCP Streamable HTTP Server listening/), waitForOutput(child, /Authorization Server listening/)]);
  const auth = `http://localhost:${authPort}`;
  const endpoints = { authorize: `${auth}/authorize`, token: `${auth}/token`, register: `${auth}/register` };
  return {
    url: `http://localhost:${mcpPort}/mcp`,
    signIn: followOnce,
    tokens: ({ resource, scope }) => codeFlowTokens(endpoints, { resource, ...(scope !== undefined && { scope }), redirectUri: 'http://127.0.0.1:9/cb', play: followOnce }),
    stop: async () => {
      if (child.exitCode === null) {
        child.kill('SIGKILL');
        await new Promise((resolve) => child.once('exit', resolve));
      }
    },
  };
}

/** A minimal cookie-keeping user agent for oidc-provider's development sign-in pages. */
async function playOidcUser(authorizationUrl: URL, login: string): Promise<URL> {
  const cookies = new Map<string, string>();
  const redirectOrigin = new URL(authorizationUrl.searchParams.get('redirect_uri') as string);
  const keep = (response: Response) => {
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const [name, ...value] = (pair as string).split('=');
      cookies.set(name as string, value.join('='));
    }
  };
  const cookieHeader = () => [...cookies].map(([n, v]) => `${n}=${v}`).join('; ');
  let url: URL = authorizationUrl;
  let init: RequestInit = {};
  for (let step = 0; step < 12; step++) {
    const response = await fetch(url, { ...init, redirect: 'manual', headers: { ...(init.headers as Record<string, string>), cookie: cookieHeader() } });
    keep(response);
    const location = response.headers.get('location');
    if (location !== null) {
      const next = new URL(location, url);
      if (next.origin === redirectOrigin.origin && next.pathname === redirectOrigin.pathname) return next;
      url = next;
      init = {};
      continue;
    }
    const html = await response.text();
    const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
    if (action === undefined) throw new Error(`no form at ${url.href} (HTTP ${response.status}): ${html.slice(0, 200)}`);
    const fields = new URLSearchParams();
    for (const [tag] of html.matchAll(/<input[^>]*>/g)) {
      const name = /name="([^"]+)"/.exec(tag)?.[1];
      if (name !== undefined) fields.set(name, /value="([^"]*)"/.exec(tag)?.[1] ?? '');
    }
    if (fields.has('login')) fields.set('login', login);
    if (fields.has('password')) fields.set('password', 'any password: development interactions');
    url = new URL(action.replace(/&amp;/g, '&'), url);
    init = { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: fields.toString() };
  }
  throw new Error('the sign-in did not reach the redirect URI');
}

/** node-oidc-provider in front of an MCP server built with the SDK's own auth pieces. */
export async function startOidcProviderPeer(): Promise<Peer> {
  const [asPort, mcpPort] = [await freePort(), await freePort()];
  const issuer = `http://localhost:${asPort}`;
  const resource = `http://localhost:${mcpPort}/mcp`;
  const otherResource = `http://localhost:${mcpPort}/other`;
  const { default: Provider } = (await importUntyped('oidc-provider')) as { default: new (issuer: string, config: Record<string, unknown>) => { callback(): (req: unknown, res: unknown) => void } };
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const provider = new Provider(issuer, {
    jwks: { keys: [{ ...(await exportJWK(privateKey)), kid: 'peer-key', alg: 'ES256', use: 'sig' }] },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    // The only key is ES256 (its default, RS256, would need an RSA key).
    clientDefaults: { id_token_signed_response_alg: 'ES256' },
    scopes: ['openid', 'offline_access', 'mcp:tools'],
    features: {
      registration: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => resource,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx: unknown, indicator: string) => {
          if (indicator !== resource && indicator !== otherResource) throw new Error(`unknown resource ${indicator}`);
          return { scope: 'mcp:tools', accessTokenTTL: 600, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'ES256' } } };
        },
      },
    },
  });
  const { createServer } = await import('node:http');
  const asServer: Server = createServer(provider.callback() as never);
  await new Promise<void>((resolve) => asServer.listen(asPort, '127.0.0.1', resolve));
  const mcpServer = await startSdkResourceServer({ port: mcpPort, issuer, resource });
  const discovery = (await (await fetch(`${issuer}/.well-known/openid-configuration`)).json()) as Record<string, string>;
  const endpoints = { authorize: discovery.authorization_endpoint as string, token: discovery.token_endpoint as string, register: discovery.registration_endpoint as string };
  return {
    url: resource,
    signIn: (url) => playOidcUser(url, 'alice'),
    tokens: ({ resource: r, scope, principal }) => codeFlowTokens(endpoints, { resource: r, ...(scope !== undefined && { scope }), redirectUri: 'http://127.0.0.1:9/cb', play: (url) => playOidcUser(url, principal) }),
    stop: async () => {
      asServer.closeAllConnections();
      await new Promise((resolve) => asServer.close(resolve));
      await mcpServer.stop();
    },
  };
}

/** `import()` without type resolution (see startSdkResourceServer). */
const importUntyped = (specifier: string): Promise<unknown> => import(specifier);

interface ExpressApp {
  use(handler: unknown): void;
  post(path: string, ...handlers: unknown[]): void;
  get(path: string, ...handlers: unknown[]): void;
  delete(path: string, ...handlers: unknown[]): void;
  listen(port: number, host: string, callback: () => void): Server;
}
interface SdkServer {
  registerTool(name: string, config: Record<string, unknown>, handler: () => Promise<unknown>): void;
  connect(transport: SdkTransport): Promise<void>;
}
interface SdkTransport {
  handleRequest(req: unknown, res: unknown, body: unknown): Promise<void>;
}

/** An MCP server with the SDK's auth building blocks, the way its documentation wires them. */
async function startSdkResourceServer(options: { port: number; issuer: string; resource: string }): Promise<{ stop(): Promise<void> }> {
  // Loaded untyped: the SDK's Express typings augment express's Request globally, which would
  // change the types of every other test in this project.
  const { createMcpExpressApp } = (await importUntyped('@modelcontextprotocol/sdk/server/express.js')) as { createMcpExpressApp: () => ExpressApp };
  const router = (await importUntyped('@modelcontextprotocol/sdk/server/auth/router.js')) as {
    mcpAuthMetadataRouter: (options: Record<string, unknown>) => unknown;
    getOAuthProtectedResourceMetadataUrl: (url: URL) => string;
  };
  const { requireBearerAuth } = (await importUntyped('@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js')) as { requireBearerAuth: (options: Record<string, unknown>) => unknown };
  const { McpServer } = (await importUntyped('@modelcontextprotocol/sdk/server/mcp.js')) as { McpServer: new (info: Record<string, string>) => SdkServer };
  const { StreamableHTTPServerTransport } = (await importUntyped('@modelcontextprotocol/sdk/server/streamableHttp.js')) as { StreamableHTTPServerTransport: new (options: Record<string, unknown>) => SdkTransport };
  const { isInitializeRequest } = (await importUntyped('@modelcontextprotocol/sdk/types.js')) as { isInitializeRequest: (body: unknown) => boolean };
  const metadata = (await (await fetch(`${options.issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
  const jwks = createRemoteJWKSet(new URL(metadata.jwks_uri as string));
  const app = createMcpExpressApp();
  const resourceUrl = new URL(options.resource);
  app.use(router.mcpAuthMetadataRouter({ oauthMetadata: metadata, resourceServerUrl: resourceUrl, scopesSupported: ['mcp:tools'], resourceName: 'SDK server behind oidc-provider' }));
  const auth = requireBearerAuth({
    verifier: {
      async verifyAccessToken(token: string) {
        const { payload } = await jwtVerify(token, jwks, { issuer: options.issuer, audience: options.resource }).catch(() => {
          throw new (class extends Error {})('invalid token');
        });
        return { token, clientId: String(payload.client_id), scopes: String(payload.scope ?? '').split(' ').filter(Boolean), expiresAt: payload.exp, resource: new URL(options.resource) };
      },
    },
    resourceMetadataUrl: router.getOAuthProtectedResourceMetadataUrl(resourceUrl),
    expectedResource: resourceUrl,
  });
  const sessions = new Map<string, SdkTransport>();
  const handle = async (req: { headers: Record<string, unknown>; body?: unknown; method?: string }, res: { status(n: number): { json(b: unknown): void } }) => {
    const sessionId = req.headers['mcp-session-id'] as string | undefined;
    let transport = sessionId === undefined ? undefined : sessions.get(sessionId);
    if (transport === undefined) {
      if (sessionId !== undefined || req.method !== 'POST' || !isInitializeRequest(req.body)) return res.status(sessionId ? 404 : 400).json({ jsonrpc: '2.0', id: null, error: { code: -32000, message: 'No valid session' } });
      const created: SdkTransport = new StreamableHTTPServerTransport({ sessionIdGenerator: () => randomUUID(), onsessioninitialized: (id: string) => void sessions.set(id, created) });
      transport = created;
      const server = new McpServer({ name: 'peer', version: '1.0.0' });
      server.registerTool('echo', { description: 'echoes', inputSchema: {} }, async () => ({ content: [{ type: 'text', text: 'echo' }] }));
      await server.connect(transport);
    }
    await transport.handleRequest(req, res, req.body);
  };
  app.post('/mcp', auth, handle);
  app.get('/mcp', auth, handle);
  app.delete('/mcp', auth, handle);
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(options.port, '127.0.0.1', () => resolve(s));
  });
  return {
    stop: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/**
 * A real authorization server on a real node:http socket, with memory stores, a movable clock,
 * seeded clients and a helper to seed authorization codes directly (as /authorize would), so the
 * token, revocation and introspection endpoints can be driven over HTTP.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAuthorizationServer, type AuthorizationServer } from '../../src/authorization-server/create-authorization-server.js';
import type { AuditEvent, AuthorizationServerOptions } from '../../src/authorization-server/options.js';
import { hashSecret } from '../../src/authorization-server/password.js';
import { sha256Base64url } from '../../src/authorization-server/pkce.js';
import { createResourceServer, type ResourceServer } from '../../src/resource-server/index.js';
import type { ClientRecord } from '../../src/stores/authorization-server-contracts.js';
import type { TestDpopKey } from './test-issuer.js';
import { createMemoryAuthorizationServerStores, openSqliteAuthorizationServerStores } from '../../src/stores/index.js';

export const RESOURCE = 'https://mcp.example.com/mcp';
export const REDIRECT_URI = 'https://app.example.com/callback';
export const SECRETS = { conf: 'conf-secret-0123456789', machine: 'machine-secret-0123456789', exchanger: 'exchanger-secret-0123456789', other: 'other-secret-0123456789' } as const;

/** Seeded clients: a public app, a confidential app, a machine client, a token exchanger, another confidential app. */
async function seedClients(as: AuthorizationServer): Promise<void> {
  const now = as.context.now();
  const base = { redirectUris: [REDIRECT_URI], responseTypes: ['code'], source: 'registered' as ClientRecord['source'], createdAt: now };
  const clients: ClientRecord[] = [
    { ...base, clientId: 'public-app', tokenEndpointAuthMethod: 'none', grantTypes: ['authorization_code', 'refresh_token'] },
    { ...base, clientId: 'public-norefresh', tokenEndpointAuthMethod: 'none', grantTypes: ['authorization_code'] },
    { ...base, clientId: 'conf-app', tokenEndpointAuthMethod: 'client_secret_basic', secretHash: await hashSecret(SECRETS.conf), grantTypes: ['authorization_code', 'refresh_token'] },
    // Machine grants are only for operator-configured clients.
    { ...base, source: 'configured', clientId: 'other-app', tokenEndpointAuthMethod: 'client_secret_basic', secretHash: await hashSecret(SECRETS.other), grantTypes: ['authorization_code', 'refresh_token', 'client_credentials'] },
    { ...base, source: 'configured', clientId: 'machine', tokenEndpointAuthMethod: 'client_secret_post', secretHash: await hashSecret(SECRETS.machine), grantTypes: ['client_credentials'], scope: 'mcp:tools mcp:admin' },
    {
      ...base,
      source: 'configured',
      clientId: 'exchanger',
      tokenEndpointAuthMethod: 'client_secret_basic',
      secretHash: await hashSecret(SECRETS.exchanger),
      grantTypes: ['urn:ietf:params:oauth:grant-type:token-exchange', 'client_credentials'],
    },
  ];
  for (const client of clients) await as.context.stores.clients.put(client);
}

export interface Harness {
  as: AuthorizationServer;
  issuer: string;
  tokenUrl: string;
  revokeUrl: string;
  introspectUrl: string;
  audit: AuditEvent[];
  /** Moves the server's clock (seconds). */
  advance(seconds: number): void;
  now(): number;
  /** POSTs a form (string bodies are sent verbatim, e.g. with duplicated parameters). */
  post(url: string, form: Record<string, string> | string, headers?: Record<string, string>): Promise<{ status: number; headers: Headers; body: Record<string, unknown>; text: string }>;
  /** Seeds a code as /authorize would; returns the plaintext code, its verifier and grant id. */
  seedCode(input?: { clientId?: string; scopes?: string[]; dpopJkt?: string; redirectUri?: string; resource?: string }): Promise<{ code: string; verifier: string; grantId: string }>;
  /** Redeems a seeded code at /token (public client by client_id unless `auth` headers are given). */
  redeem(seeded: { code: string; verifier: string }, options?: { clientId?: string; auth?: Record<string, string>; dpop?: TestDpopKey; form?: Record<string, string> }): ReturnType<Harness['post']>;
  /** Refreshes at /token. */
  refresh(refreshToken: string, options?: { clientId?: string; auth?: Record<string, string>; dpop?: TestDpopKey; form?: Record<string, string> }): ReturnType<Harness['post']>;
  /** A fresh DPoP proof for the token endpoint. */
  proof(key: TestDpopKey, nonce?: string): Promise<string>;
  /** A resource server trusting this AS (local JWKS), on the same clock. */
  resourceServer(dpop?: 'disabled' | 'allowed' | 'required'): Promise<ResourceServer>;
  close(): Promise<void>;
}

/** `Authorization: Basic` for a client. */
export function basic(id: string, secret: string): Record<string, string> {
  return { Authorization: `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}` };
}

/** Store backends the harness can run on. */
export const BACKENDS = ['memory', 'sqlite'] as const;
export type Backend = (typeof BACKENDS)[number];

/** Starts an authorization server on 127.0.0.1 with memory (default) or in-memory SQLite stores. */
export async function startHarness(overrides: Partial<AuthorizationServerOptions> = {}, options: { store?: Backend } = {}): Promise<Harness> {
  let offset = 0;
  const now = (): number => Math.floor(Date.now() / 1000) + offset;
  let handler: ((req: Parameters<AuthorizationServer['handle']>[0], res: Parameters<AuthorizationServer['handle']>[1]) => Promise<boolean>) | undefined;
  const server: Server = createServer((req, res) => {
    void (handler?.(req, res) ?? Promise.resolve(false)).then((handled) => {
      if (!handled) {
        res.writeHead(404);
        res.end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const audit: AuditEvent[] = [];
  const as = await createAuthorizationServer({
    issuer,
    secret: 'a-test-secret-of-at-least-32-bytes-0123456789ab',
    // `other-app` plays the resource server that introspects this resource's tokens.
    resources: [{ uri: RESOURCE, name: 'demo', scopes: ['mcp:tools', 'mcp:admin'], defaultScopes: ['mcp:tools'], introspectionClients: ['other-app'] }],
    stores: options.store === 'sqlite' ? openSqliteAuthorizationServerStores({ path: ':memory:' }) : createMemoryAuthorizationServerStores(),
    audit: (event) => audit.push(event),
    now,
    ...overrides,
  });
  handler = (req, res) => as.handle(req, res);
  await seedClients(as);
  const resourceServers: ResourceServer[] = [];
  const post: Harness['post'] = async (url, form, headers = {}) => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers },
      body: typeof form === 'string' ? form : new URLSearchParams(form).toString(),
    });
    const text = await response.text();
    let body: Record<string, unknown> = {};
    try {
      body = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
    } catch {
      body = {};
    }
    return { status: response.status, headers: response.headers, body, text };
  };

  return {
    as,
    issuer,
    tokenUrl: `${issuer}/token`,
    revokeUrl: `${issuer}/revoke`,
    introspectUrl: `${issuer}/introspect`,
    audit,
    advance: (seconds) => void (offset += seconds),
    now,
    post,
    async redeem(seeded, options = {}) {
      const form: Record<string, string> = { grant_type: 'authorization_code', code: seeded.code, redirect_uri: REDIRECT_URI, code_verifier: seeded.verifier, ...options.form };
      if (options.auth === undefined) form.client_id = options.clientId ?? 'public-app';
      const headers: Record<string, string> = { ...options.auth };
      if (options.dpop !== undefined) headers.DPoP = await options.dpop.proof({ htm: 'POST', htu: `${issuer}/token` });
      return post(`${issuer}/token`, form, headers);
    },
    async refresh(refreshToken, options = {}) {
      const form: Record<string, string> = { grant_type: 'refresh_token', refresh_token: refreshToken, ...options.form };
      if (options.auth === undefined) form.client_id = options.clientId ?? 'public-app';
      const headers: Record<string, string> = { ...options.auth };
      if (options.dpop !== undefined) headers.DPoP = await options.dpop.proof({ htm: 'POST', htu: `${issuer}/token` });
      return post(`${issuer}/token`, form, headers);
    },
    proof: (key, nonce) => key.proof({ htm: 'POST', htu: `${issuer}/token`, ...(nonce !== undefined && { nonce }) }),
    async seedCode(input = {}) {
      const code = randomBytes(32).toString('base64url');
      const verifier = randomBytes(32).toString('base64url');
      const grantId = randomUUID();
      await as.context.stores.codes.save({
        codeHash: sha256Base64url(code),
        clientId: input.clientId ?? 'public-app',
        redirectUri: input.redirectUri ?? REDIRECT_URI,
        resource: input.resource ?? RESOURCE,
        scopes: input.scopes ?? ['mcp:tools'],
        subject: 'alice',
        codeChallenge: sha256Base64url(verifier),
        ...(input.dpopJkt !== undefined && { dpopJkt: input.dpopJkt }),
        grantId,
        authTime: now(),
        expiresAt: now() + 60,
      });
      return { code, verifier, grantId };
    },
    async resourceServer(dpop = 'allowed') {
      const rs = createResourceServer({
        resource: RESOURCE,
        trust: { issuer, jwks: (await as.jwks()) as never },
        dpop,
        scopes: { default: ['mcp:tools'] },
        revocation: as.revocationList,
        now,
      });
      resourceServers.push(rs);
      return rs;
    },
    async close() {
      for (const rs of resourceServers) await rs.close();
      await as.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Sends an MCP request with `token` (DPoP-bound when `key` is given) through a resource server's gauntlet. */
export async function callResource(rs: ResourceServer, token: string, key?: TestDpopKey): Promise<Awaited<ReturnType<ResourceServer['verify']>>> {
  const headers: Record<string, string> = { authorization: `${key === undefined ? 'Bearer' : 'DPoP'} ${token}` };
  if (key !== undefined) headers.dpop = await key.proof({ htm: 'POST', htu: RESOURCE, accessToken: token });
  return rs.verify({ method: 'POST', url: '/mcp', headers, body: { jsonrpc: '2.0', id: 1, method: 'tools/list' } });
}

/**
 * Asserts an OAuth error response (RFC 6749 §5.2): exact status and `error`, `Cache-Control:
 * no-store`, `Pragma: no-cache`, JSON body.
 */
export function expectError(response: Awaited<ReturnType<Harness['post']>>, status: number, error: string): void {
  expect({ status: response.status, error: response.body.error }).toEqual({ status, error });
  expect(response.headers.get('cache-control')).toBe('no-store');
  expect(response.headers.get('pragma')).toBe('no-cache');
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
}

/**
 * `warden serve` as a child process, in gateway mode in front of a real (v1 SDK, stateful, SSE)
 * MCP server, driven by UNMODIFIED official MCP SDK clients:
 *
 * 1. v1 `@modelcontextprotocol/sdk` client with a plain Bearer token (`dpop: allowed` resource):
 *    tools work, the upstream sees Warden's identity headers and never the credentials
 *    (MCP: no token passthrough), a tool needing another scope is refused with 403
 *    `insufficient_scope` (RFC 6750 §3.1), a token for another audience with 401 (RFC 8707).
 * 2. v2 `@modelcontextprotocol/client` with its own DPoP support (`OAuthClientProvider.dpop()`
 *    returning a `DpopSession`) against a `dpop: required` resource with server nonces: the
 *    SDK answers `use_dpop_nonce` (RFC 9449 §9) by itself, signs every proof itself, and the
 *    upstream learns the key thumbprint.
 * 3. Replay (RFC 9449 §11.1): a captured request resent verbatim is refused; the captured token
 *    with a proof from another key is refused (§6.1 binding).
 *
 * Everything listens on 127.0.0.1. The test issuer's JWKS is served over HTTP, so Warden fetches
 * keys as it would from a real authorization server.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { calculateJwkThumbprint, decodeJwt, decodeProtectedHeader, type JWK } from 'jose';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as TransportV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  Client as ClientV2,
  DpopSession,
  InsufficientScopeError,
  StreamableHTTPClientTransport as TransportV2,
  type OAuthClientProvider,
} from '@modelcontextprotocol/client';
import { freePort } from '../helpers/free-port.js';
import { startMcpUpstream, type McpUpstream, type UpstreamWhoami } from '../helpers/mcp-upstream.js';
import { spawnWarden, type SpawnedWarden, type StackResource } from '../helpers/spawn-warden.js';
import { createDpopKey, createTestIssuer, parseChallenges, type TestIssuer } from '../helpers/test-issuer.js';

const TEST_TIMEOUT = 20_000;

let upstream: McpUpstream;
let jwksServer: Server;
let issuer: TestIssuer;
let warden: SpawnedWarden;
let bearerResource: StackResource;
let dpopResource: StackResource;
/** Every token and proof sent in this file, to check that Warden's logs never show one. */
const sentSecrets = new Set<string>();

/** Mints an access token and remembers it as a secret. */
async function mint(claims: Parameters<TestIssuer['mint']>[0]): Promise<string> {
  const token = await issuer.mint(claims);
  sentSecrets.add(token);
  return token;
}

beforeAll(async () => {
  upstream = await startMcpUpstream();

  // The issuer's keys, served the way an authorization server serves them.
  let jwks: unknown = { keys: [] };
  jwksServer = createServer((req, res) => {
    if (req.url !== '/jwks') return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jwks));
  });
  await new Promise<void>((r) => jwksServer.listen(0, '127.0.0.1', r));
  const jwksOrigin = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}`;
  issuer = await createTestIssuer({ issuer: jwksOrigin, audience: 'set-per-token' });
  jwks = issuer.jwks;

  const port = await freePort();
  const trust = { issuer: issuer.issuer, jwksUri: `${jwksOrigin}/jwks` };
  const scopes = { default: ['mcp:tools'], tools: { admin_reset: ['mcp:admin'] } };
  warden = await spawnWarden({
    port,
    config: {
      publicUrl: `http://127.0.0.1:${port}`,
      listen: { host: '127.0.0.1', port },
      storage: { kind: 'memory' },
      replay: { kind: 'memory' },
      nonce: { secret: randomBytes(24).toString('hex') },
      authorizationServer: { enabled: false },
      resources: [
        { name: 'tools-bearer', path: '/mcp', upstream: upstream.url, dpop: 'allowed', scopes, trust },
        { name: 'tools-dpop', path: '/mcp-dpop', upstream: upstream.url, dpop: 'required', scopes, trust },
      ],
    },
  });
  bearerResource = warden.resource('tools-bearer');
  dpopResource = warden.resource('tools-dpop');
  expect(bearerResource.url, warden.diagnostics()).toBe(`http://127.0.0.1:${port}/mcp`);
  expect(dpopResource.url, warden.diagnostics()).toBe(`http://127.0.0.1:${port}/mcp-dpop`);
}, TEST_TIMEOUT);

afterAll(async () => {
  await warden?.stop();
  await upstream?.close();
  if (jwksServer?.listening) {
    jwksServer.closeAllConnections();
    await new Promise((r) => jwksServer.close(r));
  }
}, TEST_TIMEOUT);

/** The text of the first content block of a tool result. */
function text(result: unknown): string {
  const content = (result as { content?: Array<{ type: string; text?: string }> }).content;
  return content?.[0]?.text ?? '';
}

/** Headers the Streamable HTTP transport sends on a request inside a session. */
function mcpHeaders(sessionId: string | undefined, protocolVersion: string | undefined): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
  if (sessionId !== undefined) headers['mcp-session-id'] = sessionId;
  if (protocolVersion !== undefined) headers['mcp-protocol-version'] = protocolVersion;
  return headers;
}

/** Fails with the child's output attached, so a gateway bug is diagnosable from the report. */
function withLogs(message: string): string {
  return `${message}\n--- warden stderr (tail) ---\n${warden.stderr().slice(-4000)}`;
}

describe('v1 SDK client (@modelcontextprotocol/sdk), Bearer token, dpop: allowed', () => {
  it(
    'lists and calls tools through the gateway; the upstream gets identity headers, never the credentials (MCP: no token passthrough)',
    async () => {
      const token = await mint({ aud: bearerResource.url, sub: 'alice', client_id: 'e2e-v1-client', scope: 'mcp:tools' });
      const client = new ClientV1({ name: 'e2e-v1', version: '1.0.0' });
      const transport = new TransportV1(new URL(bearerResource.url), { requestInit: { headers: { Authorization: `Bearer ${token}` } } });
      try {
        await client.connect(transport);
        expect(transport.sessionId, withLogs('upstream session id passes through')).toMatch(/^[0-9a-f-]{36}$/);

        // admin_reset needs mcp:admin, which this token lacks: tools/list does not show it.
        const { tools } = await client.listTools();
        expect(tools.map((t) => t.name).sort()).toEqual(['echo', 'whoami']);

        const echoed = await client.callTool({ name: 'echo', arguments: { text: 'hello through warden' } });
        expect(text(echoed)).toBe('hello through warden');

        const whoami = await client.callTool({ name: 'whoami', arguments: {} });
        const seen = JSON.parse(text(whoami)) as UpstreamWhoami;
        expect(seen).toEqual({ clientId: 'e2e-v1-client', subject: 'alice', scopes: 'mcp:tools', jkt: null, authorization: null, dpop: null });
        expect(whoami.isError).toBeFalsy();
      } finally {
        await client.close();
      }
      // Not one request of the session carried the client's credentials upstream.
      const leaked = upstream.requests.filter((r) => r.headers.authorization !== undefined || r.headers.dpop !== undefined);
      expect(leaked).toEqual([]);
    },
    TEST_TIMEOUT,
  );

  it(
    'RFC 6750 §3.1: a tool needing mcp:admin is refused with 403 insufficient_scope listing every scope needed',
    async () => {
      const token = await mint({ aud: bearerResource.url, client_id: 'e2e-v1-client', scope: 'mcp:tools' });
      const client = new ClientV1({ name: 'e2e-v1', version: '1.0.0' });
      const transport = new TransportV1(new URL(bearerResource.url), { requestInit: { headers: { Authorization: `Bearer ${token}` } } });
      try {
        await client.connect(transport);
        const upstreamBefore = upstream.requests.length;
        // The SDK client surfaces the 403 as a failed call (StreamableHTTPError, code 403).
        await expect(client.callTool({ name: 'admin_reset', arguments: {} })).rejects.toMatchObject({ code: 403 });

        // The same call, raw, to see the HTTP-level answer.
        const response = await fetch(bearerResource.url, {
          method: 'POST',
          headers: { ...mcpHeaders(transport.sessionId, transport.protocolVersion), authorization: `Bearer ${token}` },
          body: JSON.stringify({ jsonrpc: '2.0', id: 99, method: 'tools/call', params: { name: 'admin_reset', arguments: {} } }),
        });
        expect(response.status, withLogs('admin_reset without mcp:admin')).toBe(403);
        const header = response.headers.get('www-authenticate') ?? '';
        expect(header).toContain('scope="mcp:tools mcp:admin"');
        const bearer = parseChallenges(header).find((c) => c.scheme === 'Bearer');
        expect(bearer?.params.error).toBe('insufficient_scope');
        expect(bearer?.params.resource_metadata).toBe(bearerResource.metadataUrl);
        // A JSON-RPC request gets a JSON-RPC error body, so MCP clients can show it.
        const body = (await response.json()) as { jsonrpc?: string; id?: unknown; error?: { code: number; message: string } };
        expect(body).toMatchObject({ jsonrpc: '2.0', id: 99, error: { code: expect.any(Number) } });

        // Neither refused call reached the upstream.
        expect(upstream.requests.slice(upstreamBefore).filter((r) => r.method === 'POST')).toEqual([]);
      } finally {
        await client.close();
      }
    },
    TEST_TIMEOUT,
  );

  it(
    'RFC 8707: a token whose aud names another resource is refused with 401 invalid_token, and never reaches the upstream',
    async () => {
      const upstreamBefore = upstream.requests.length;
      const token = await mint({ aud: 'http://127.0.0.1:1/some-other-mcp', scope: 'mcp:tools' });
      const client = new ClientV1({ name: 'e2e-v1', version: '1.0.0' });
      const transport = new TransportV1(new URL(bearerResource.url), { requestInit: { headers: { Authorization: `Bearer ${token}` } } });
      try {
        await expect(client.connect(transport)).rejects.toMatchObject({ code: 401 });
      } finally {
        await client.close();
      }

      // A token for the gateway's *other* resource is just as foreign here.
      const sibling = await mint({ aud: dpopResource.url, scope: 'mcp:tools' });
      for (const wrong of [token, sibling]) {
        const response = await fetch(bearerResource.url, {
          method: 'POST',
          headers: { ...mcpHeaders(undefined, undefined), authorization: `Bearer ${wrong}` },
          body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
        });
        expect(response.status, withLogs('wrong audience')).toBe(401);
        const bearer = parseChallenges(response.headers.get('www-authenticate')).find((c) => c.scheme === 'Bearer');
        expect(bearer?.params.error).toBe('invalid_token');
        expect(bearer?.params.resource_metadata).toBe(bearerResource.metadataUrl);
        await response.body?.cancel();
      }
      expect(upstream.requests.length).toBe(upstreamBefore);
    },
    TEST_TIMEOUT,
  );
});

/** One HTTP exchange as the v2 SDK made it, observed below its DPoP layer. */
interface Exchange {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string | undefined;
  status: number;
  wwwAuthenticate: string | null;
  dpopNonce: string | null;
}

/**
 * A fetch that only watches: it records what the SDK sends (after the SDK added `Authorization:
 * DPoP` and its proof) and what comes back, and changes nothing.
 */
function observingFetch(log: Exchange[]): typeof fetch {
  return async (input, init) => {
    const headers = Object.fromEntries(new Headers(init?.headers).entries());
    const body = typeof init?.body === 'string' ? init.body : undefined;
    if (headers.authorization !== undefined) sentSecrets.add(headers.authorization.replace(/^\S+ /, ''));
    if (headers.dpop !== undefined) sentSecrets.add(headers.dpop);
    const response = await fetch(input, init);
    log.push({
      method: (init?.method ?? 'GET').toUpperCase(),
      url: input instanceof Request ? input.url : input.toString(),
      headers,
      body,
      status: response.status,
      wwwAuthenticate: response.headers.get('www-authenticate'),
      dpopNonce: response.headers.get('dpop-nonce'),
    });
    return response;
  };
}

/**
 * The smallest `OAuthClientProvider` that hands the SDK a pre-issued DPoP-bound token and a
 * DPoP session: no redirects, no registration — the SDK's own DPoP layer does the rest.
 */
function preIssuedDpopProvider(accessToken: string, session: DpopSession): OAuthClientProvider {
  return {
    get redirectUrl() {
      return undefined;
    },
    get clientMetadata() {
      return { client_name: 'warden-e2e-v2', redirect_uris: [], grant_types: ['client_credentials'], token_endpoint_auth_method: 'none' };
    },
    clientInformation: () => ({ client_id: 'e2e-v2-client' }),
    tokens: () => ({ access_token: accessToken, token_type: 'DPoP', expires_in: 600, scope: 'mcp:tools' }),
    saveTokens: () => undefined,
    redirectToAuthorization: () => {
      throw new Error('the test provider never redirects');
    },
    saveCodeVerifier: () => undefined,
    codeVerifier: () => {
      throw new Error('the test provider has no code verifier');
    },
    dpop: () => session,
  };
}

describe('v2 SDK client (@modelcontextprotocol/client) with its own DPoP, dpop: required + nonces', () => {
  let session: DpopSession;
  let jkt: string;
  let token: string;
  const log: Exchange[] = [];
  let client: ClientV2;
  let transport: TransportV2;

  beforeAll(async () => {
    session = await DpopSession.create();
    jkt = await calculateJwkThumbprint(session.publicJwk as JWK);
    token = await mint({ aud: dpopResource.url, sub: 'bob', client_id: 'e2e-v2-client', scope: 'mcp:tools', cnf: { jkt } });
    client = new ClientV2({ name: 'e2e-v2', version: '1.0.0' });
    transport = new TransportV2(new URL(dpopResource.url), {
      authProvider: preIssuedDpopProvider(token, session),
      fetch: observingFetch(log),
      onInsufficientScope: 'throw',
    });
  }, TEST_TIMEOUT);

  afterAll(async () => {
    await client?.close();
  }, TEST_TIMEOUT);

  it(
    'RFC 9449 §9: the first request is answered use_dpop_nonce, the SDK retries with the nonce, then tools work; the upstream learns the jkt',
    async () => {
      expect(jkt).toBe(session.thumbprint);
      await client.connect(transport);

      // The very first exchange: a nonce challenge (RFC 9449 §9), with the nonce to use.
      const first = log[0];
      expect(first, withLogs(`exchanges: ${JSON.stringify(log.map((e) => [e.method, e.status, e.wwwAuthenticate]))}`)).toBeDefined();
      expect(first!.method).toBe('POST');
      expect(first!.status).toBe(401);
      const challenge = parseChallenges(first!.wwwAuthenticate).find((c) => c.scheme === 'DPoP');
      expect(challenge?.params.error).toBe('use_dpop_nonce');
      expect(first!.dpopNonce).toMatch(/.+/);
      expect(decodeJwt(first!.headers.dpop!).nonce).toBeUndefined();
      // ... and the SDK's own retry: same request, a new proof carrying that nonce, accepted.
      const retry = log[1]!;
      expect(retry.body).toBe(first!.body);
      expect(retry.status, withLogs('nonce retry')).toBe(200);
      const retryProof = decodeJwt(retry.headers.dpop!);
      expect(retryProof.nonce).toBe(first!.dpopNonce);
      expect(retryProof.jti).not.toBe(decodeJwt(first!.headers.dpop!).jti);

      // admin_reset needs mcp:admin, which this token lacks: tools/list does not show it.
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name).sort()).toEqual(['echo', 'whoami']);
      expect(text(await client.callTool({ name: 'echo', arguments: { text: 'signed by the SDK' } }))).toBe('signed by the SDK');

      const whoami = await client.callTool({ name: 'whoami', arguments: {} });
      const seen = JSON.parse(text(whoami)) as UpstreamWhoami;
      expect(seen).toEqual({ clientId: 'e2e-v2-client', subject: 'bob', scopes: 'mcp:tools', jkt, authorization: null, dpop: null });

      // Exactly one nonce round-trip: the SDK remembered the nonce for everything after.
      const nonceChallenges = log.filter((e) => e.status === 401 && /use_dpop_nonce/.test(e.wwwAuthenticate ?? ''));
      expect(nonceChallenges).toHaveLength(1);
      expect(log.filter((e) => e.status === 401)).toHaveLength(1);

      // Every request the SDK sent was DPoP: scheme, proof by the session key, bound to the token.
      const ath = createHash('sha256').update(token).digest('base64url');
      const jtis = new Set<string>();
      for (const exchange of log) {
        expect(exchange.url).toBe(dpopResource.url);
        expect(exchange.headers.authorization).toBe(`DPoP ${token}`);
        const header = decodeProtectedHeader(exchange.headers.dpop!);
        expect(header.typ).toBe('dpop+jwt');
        expect(await calculateJwkThumbprint(header.jwk as JWK)).toBe(jkt);
        const proof = decodeJwt(exchange.headers.dpop!);
        expect(proof).toMatchObject({ htm: exchange.method, htu: dpopResource.url, ath });
        jtis.add(String(proof.jti));
      }
      expect(jtis.size).toBe(log.length);

      const leaked = upstream.requests.filter((r) => r.headers.authorization !== undefined || r.headers.dpop !== undefined);
      expect(leaked).toEqual([]);
    },
    TEST_TIMEOUT,
  );

  it(
    'RFC 6750 §3.1 over DPoP: the SDK surfaces 403 insufficient_scope with the scopes the gateway asks for',
    async () => {
      const error = await client.callTool({ name: 'admin_reset', arguments: {} }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error, withLogs(`got ${String(error)}`)).toBeInstanceOf(InsufficientScopeError);
      expect((error as InsufficientScopeError).requiredScope).toBe('mcp:tools mcp:admin');
      const refused = log.at(-1)!;
      expect(refused.status).toBe(403);
      const challenge = parseChallenges(refused.wwwAuthenticate).find((c) => c.scheme === 'DPoP');
      expect(challenge?.params.error).toBe('insufficient_scope');
    },
    TEST_TIMEOUT,
  );

  describe('RFC 9449 §11.1 replay and §6.1 binding, with requests captured from the SDK', () => {
    it(
      'a captured request resent verbatim is refused: 401 invalid_dpop_proof (jti already used)',
      async () => {
        await client.listTools();
        const captured = log.findLast((e) => e.method === 'POST' && e.status === 200 && e.body?.includes('"tools/list"'));
        expect(captured, 'a tools/list request the SDK sent').toBeDefined();
        const upstreamBefore = upstream.requests.length;

        const replay = await fetch(captured!.url, { method: 'POST', headers: captured!.headers, body: captured!.body });
        expect(replay.status, withLogs('verbatim replay')).toBe(401);
        const challenge = parseChallenges(replay.headers.get('www-authenticate')).find((c) => c.scheme === 'DPoP');
        expect(challenge?.params.error).toBe('invalid_dpop_proof');
        expect(challenge?.params.error_description).toMatch(/already been used|replay/i);
        await replay.body?.cancel();
        expect(upstream.requests.length).toBe(upstreamBefore);
      },
      TEST_TIMEOUT,
    );

    it(
      "the captured access token with a fresh proof from another key is refused: 401 (proof key is not the token's cnf.jkt)",
      async () => {
        await client.listTools();
        const captured = log.findLast((e) => e.method === 'POST' && e.status === 200)!;
        const stolenToken = captured.headers.authorization!.replace(/^DPoP /, '');
        expect(stolenToken).toBe(token);
        const attacker = await createDpopKey();
        expect(attacker.jkt).not.toBe(jkt);
        // A valid current nonce, so the only thing wrong is the key.
        const nonce = session.nonceFor(dpopResource.url);
        expect(nonce).toBeDefined();
        const upstreamBefore = upstream.requests.length;

        const headers = { ...captured.headers };
        headers.dpop = await attacker.proof({ htm: 'POST', htu: dpopResource.url, accessToken: stolenToken, nonce });
        sentSecrets.add(headers.dpop);
        const response = await fetch(dpopResource.url, {
          method: 'POST',
          headers,
          body: JSON.stringify({ jsonrpc: '2.0', id: 4242, method: 'tools/list' }),
        });
        expect(response.status, withLogs('proof from another key')).toBe(401);
        const challenge = parseChallenges(response.headers.get('www-authenticate')).find((c) => c.scheme === 'DPoP');
        expect(challenge?.params.error).toBe('invalid_dpop_proof');
        expect(challenge?.params.error_description).toMatch(/cnf\.jkt/);
        await response.body?.cancel();

        // The bound token presented as a Bearer token is refused too (RFC 9449 §7.2).
        const asBearer = await fetch(dpopResource.url, {
          method: 'POST',
          headers: { ...mcpHeaders(captured.headers['mcp-session-id'], captured.headers['mcp-protocol-version']), authorization: `Bearer ${stolenToken}` },
          body: JSON.stringify({ jsonrpc: '2.0', id: 4243, method: 'tools/list' }),
        });
        expect(asBearer.status).toBe(401);
        await asBearer.body?.cancel();
        expect(upstream.requests.length).toBe(upstreamBefore);

        // The legitimate client is unaffected by the attempts.
        const { tools } = await client.listTools();
        expect(tools.map((t) => t.name).sort()).toEqual(['echo', 'whoami']);
      },
      TEST_TIMEOUT,
    );
  });
});

describe('observability', () => {
  it('logs never contain an access token or a DPoP proof (not even their signatures)', () => {
    expect(sentSecrets.size).toBeGreaterThan(5);
    const output = warden.stdout() + warden.stderr();
    expect(output.length, 'warden logged something to check').toBeGreaterThan(0);
    for (const secret of sentSecrets) {
      const signature = secret.split('.')[2]!;
      expect(output.includes(signature), `a token or proof signature appears in warden's output`).toBe(false);
    }
  });
});

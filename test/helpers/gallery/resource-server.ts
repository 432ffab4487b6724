/**
 * The gallery's MCP endpoint: Streamable HTTP with sessions, three tools (`echo`, `whoami` need
 * `mcp:tools`; `admin_status` needs `mcp:admin`), DPoP allowed, Origin and Host validated — a
 * small but correct protected MCP server, unless one flaw was switched on.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { JWTPayload } from 'jose';
import { Refusal, verifyAccessToken, verifyProof } from './tokens.js';
import { SCOPES, type GalleryState } from './state.js';

const TOOLS: Record<string, string[]> = { echo: [SCOPES.tools], whoami: [SCOPES.tools], admin_status: [SCOPES.tools, SCOPES.admin] };

export function metadataUrl(state: GalleryState, resource: string): string {
  return `${state.origin}/.well-known/oauth-protected-resource${new URL(resource).pathname}`;
}

function challenge(state: GalleryState, resource: string, error?: string, scope = SCOPES.tools): string {
  const advertised = state.decoyOrigin === undefined ? metadataUrl(state, resource) : `${state.decoyOrigin}/.well-known/oauth-protected-resource/mcp`;
  const rm = state.flaw === 'challenge-without-resource-metadata' ? '' : `, resource_metadata="${advertised}"`;
  const err = error === undefined ? '' : `error="${error}", `;
  if (state.flaw === 'no-dpop-challenge') return `Bearer ${err}scope="${scope}"${rm}`;
  return `Bearer ${err}scope="${scope}"${rm}, DPoP ${err}algs="ES256"${rm}`;
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers }).end(body === undefined ? undefined : JSON.stringify(body));
}

/** The protected-resource metadata document (RFC 9728). */
export function resourceMetadata(state: GalleryState, resource: string): Record<string, unknown> {
  return {
    resource: state.flaw === 'prm-resource-mismatch' ? `${resource}-v2` : resource,
    authorization_servers: [state.origin],
    scopes_supported: [SCOPES.tools, SCOPES.admin],
    bearer_methods_supported: ['header'],
    dpop_signing_alg_values_supported: ['ES256'],
    ...(state.requireDpop && { dpop_bound_access_tokens_required: true }),
  };
}

/** Who may use a session: the token's issuer, subject and client. */
function principal(claims: JWTPayload): string {
  return `${String(claims.iss)} ${String(claims.sub)} ${String(claims.client_id)}`;
}

/** Authenticates a request to `resource`; answers the refusal itself and returns undefined. */
async function authenticate(state: GalleryState, req: IncomingMessage, res: ServerResponse, resource: string, url: URL, body: string): Promise<JWTPayload | undefined> {
  const refuse = (status: number, error?: string) => send(res, status, { error: error ?? 'unauthorized' }, { 'www-authenticate': challenge(state, resource, error) });
  let token: string | undefined;
  let scheme: string | undefined;
  const authorization = req.headers.authorization;
  if (authorization !== undefined) {
    const match = /^(Bearer|DPoP) (\S+)$/i.exec(authorization);
    if (match === null) return void refuse(400, 'invalid_request');
    scheme = (match[1] as string).toLowerCase();
    token = match[2];
  } else if (url.searchParams.has('access_token')) {
    if (state.flaw !== 'token-in-query') return void refuse(400, 'invalid_request');
    token = url.searchParams.get('access_token') ?? undefined;
    scheme = 'bearer';
  } else if (/^application\/x-www-form-urlencoded/.test(req.headers['content-type'] ?? '') && new URLSearchParams(body).has('access_token')) {
    if (state.flaw !== 'token-in-body') return void refuse(400, 'invalid_request');
    token = new URLSearchParams(body).get('access_token') ?? undefined;
    scheme = 'bearer';
  }
  if (token === undefined) return void refuse(401);
  try {
    const claims = await verifyAccessToken(state, token, resource);
    const jkt = (claims.cnf as { jkt?: string } | undefined)?.jkt;
    const proof = req.headers.dpop as string | undefined;
    if (jkt !== undefined) {
      if (state.flaw === 'bearer-for-bound' && proof === undefined) return claims;
      if (scheme !== 'dpop') throw new Refusal('invalid_token', 'a DPoP-bound token needs the DPoP scheme');
      const expectedHtu = state.flaw === 'htu-from-host'
        ? `${String(req.headers['x-forwarded-proto'] ?? 'http')}://${String(req.headers['x-forwarded-host'] ?? req.headers.host)}${url.pathname}`
        : `${resource}`;
      const verified = await verifyProof(state, proof, req.method ?? 'GET', expectedHtu, token);
      if (verified.jkt !== jkt && state.flaw !== 'binding-not-checked') throw new Refusal('invalid_token', 'proof key is not the bound key');
    } else if (scheme === 'dpop') {
      throw new Refusal('invalid_token', 'the DPoP scheme needs a bound token');
    } else if (state.requireDpop && state.flaw !== 'dpop-required-not-enforced') {
      throw new Refusal('invalid_token', 'this resource requires DPoP-bound tokens');
    }
    return claims;
  } catch (error) {
    if (error instanceof Refusal) return void refuse(error.code === 'invalid_request' ? 400 : 401, error.code);
    throw error;
  }
}

/** True when the request's Origin and Host are acceptable (DNS-rebinding protection of a local server). */
function trustedOriginAndHost(state: GalleryState, req: IncomingMessage): boolean {
  if (state.flaw === 'dns-rebinding') return true;
  const own = new URL(state.origin);
  const hosts = [own.host, `localhost:${own.port}`];
  if (!hosts.includes(req.headers.host ?? '')) return false;
  const origin = req.headers.origin;
  return origin === undefined || origin === state.origin;
}

/** Handles `/mcp` and `/other-mcp`. */
export async function handleMcp(state: GalleryState, req: IncomingMessage, res: ServerResponse, resource: string, url: URL, body: string): Promise<void> {
  if (req.method === 'OPTIONS' && state.flaw === 'credentialed-cors') {
    res.writeHead(204, { 'access-control-allow-origin': req.headers.origin ?? '*', 'access-control-allow-credentials': 'true', 'access-control-allow-methods': 'POST, GET, DELETE', 'access-control-allow-headers': 'authorization, content-type, dpop, mcp-session-id' }).end();
    return;
  }
  if (!trustedOriginAndHost(state, req)) return send(res, 403, { jsonrpc: '2.0', id: null, error: { code: -32000, message: 'forbidden origin or host' } });
  if (req.method === 'OPTIONS') return void res.writeHead(204).end();
  let message: { id?: unknown; method?: string; params?: { name?: string } } | undefined;
  try {
    message = req.method === 'POST' && /json/.test(req.headers['content-type'] ?? '') ? (JSON.parse(body) as typeof message) : undefined;
  } catch {
    return send(res, 400, { jsonrpc: '2.0', id: null, error: { code: -32700, message: 'parse error' } });
  }
  const isNotification = message !== undefined && !Array.isArray(message) && message.id === undefined;
  if (state.flaw === 'notifications-unauthenticated' && isNotification && req.headers.authorization === undefined) return void res.writeHead(202).end();
  const claims = await authenticate(state, req, res, resource, url, body);
  if (claims === undefined) return;
  const owner = principal(claims);
  const sessionId = req.headers['mcp-session-id'] as string | undefined;
  if (req.method === 'GET') return send(res, 405, { jsonrpc: '2.0', id: null, error: { code: -32000, message: 'no streams here' } });
  if (sessionId !== undefined) {
    const holder = state.sessions.get(sessionId);
    if (holder === undefined || (holder !== owner && state.flaw !== 'session-not-bound')) return send(res, 404, { jsonrpc: '2.0', id: null, error: { code: -32001, message: 'Session not found' } });
  }
  if (req.method === 'DELETE') {
    if (sessionId !== undefined) state.sessions.delete(sessionId);
    return void res.writeHead(sessionId === undefined ? 400 : 200).end();
  }
  if (message === undefined || Array.isArray(message)) return send(res, 400, { jsonrpc: '2.0', id: null, error: { code: -32600, message: 'one JSON-RPC message per request' } });
  if (message.method === 'initialize') {
    const id = randomUUID();
    state.sessions.set(id, owner);
    state.issued.add(id);
    return send(res, 200, { jsonrpc: '2.0', id: message.id, result: { protocolVersion: '2025-06-18', capabilities: { tools: {} }, serverInfo: { name: 'gallery', version: '1' } } }, { 'mcp-session-id': id });
  }
  if (sessionId === undefined) return send(res, 400, { jsonrpc: '2.0', id: message.id ?? null, error: { code: -32000, message: 'Bad Request: No valid session ID provided' } });
  if (isNotification) return void res.writeHead(202).end();
  if (message.method === 'tools/list') return send(res, 200, { jsonrpc: '2.0', id: message.id, result: { tools: Object.keys(TOOLS).map((name) => ({ name, inputSchema: { type: 'object' } })) } });
  if (message.method === 'tools/call') {
    const name = String(message.params?.name);
    const needed = TOOLS[name];
    if (needed === undefined) return send(res, 200, { jsonrpc: '2.0', id: message.id, error: { code: -32602, message: `unknown tool ${name}` } });
    const granted = String(claims.scope ?? '').split(' ');
    if (state.flaw !== 'scopes-not-enforced' && !needed.every((s) => granted.includes(s))) {
      const headers: Record<string, string> = state.flaw === 'no-step-up-challenge' ? {} : { 'www-authenticate': `Bearer error="insufficient_scope", scope="${needed.join(' ')}", resource_metadata="${metadataUrl(state, resource)}"` };
      return send(res, 403, { jsonrpc: '2.0', id: message.id, error: { code: -32001, message: 'insufficient scope' } }, headers);
    }
    state.toolCalls.push(name);
    return send(res, 200, { jsonrpc: '2.0', id: message.id, result: { content: [{ type: 'text', text: name === 'whoami' ? String(claims.sub) : 'ok' }] } });
  }
  return send(res, 200, { jsonrpc: '2.0', id: message.id, error: { code: -32601, message: 'method not found' } });
}

/**
 * The gallery's authorization server: RFC 8414 metadata, JWKS, open registration of public
 * clients, `/authorize` with PKCE S256, exact redirect URIs and a sign-in page, `/token`
 * (authorization_code, rotating refresh tokens with reuse detection, client_credentials for its two
 * configured clients), DPoP-bound tokens — correct unless one flaw was switched on.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { mintAccessToken, Refusal, verifyProof } from './tokens.js';
import { SCOPES, USER, type GalleryClient, type GalleryState } from './state.js';

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers }).end(JSON.stringify(body));
}

const oauthError = (res: ServerResponse, error: string, status = 400) => json(res, status, { error });
const random = () => randomBytes(24).toString('base64url');

export function metadata(state: GalleryState): Record<string, unknown> {
  const o = state.origin;
  return {
    issuer: state.flaw === 'issuer-mismatch' ? `${o}/` : o,
    authorization_endpoint: `${o}/authorize`,
    token_endpoint: `${o}/token`,
    registration_endpoint: `${o}/register`,
    jwks_uri: `${state.decoyOrigin ?? o}/jwks`,
    response_types_supported: ['code'],
    grant_types_supported: ['authorization_code', 'refresh_token', 'client_credentials'],
    token_endpoint_auth_methods_supported: ['none', 'client_secret_basic', 'client_secret_post'],
    code_challenge_methods_supported: ['S256'],
    dpop_signing_alg_values_supported: ['ES256'],
    authorization_response_iss_parameter_supported: true,
    scopes_supported: [SCOPES.tools, SCOPES.admin],
  };
}

function validRedirect(state: GalleryState, uri: string): boolean {
  if (state.flaw === 'dangerous-redirect-registration') return true;
  if (/[*#\s\\]/.test(uri) || !URL.canParse(uri)) return false;
  const url = new URL(uri);
  if (url.username !== '' || url.password !== '') return false;
  return url.protocol === 'https:' || (url.protocol === 'http:' && ['127.0.0.1', '[::1]', 'localhost'].includes(url.hostname));
}

function matchRedirect(state: GalleryState, client: GalleryClient, requested: string): boolean {
  if (state.flaw === 'redirect-prefix-match') return client.redirectUris.some((r) => requested.startsWith(r));
  if (client.redirectUris.includes(requested)) return true;
  // RFC 8252 §7.3: the port of a loopback redirect may vary.
  const loopback = (u: string) => (URL.canParse(u) && new URL(u).protocol === 'http:' && ['127.0.0.1', '[::1]'].includes(new URL(u).hostname) ? new URL(u) : undefined);
  const wanted = loopback(requested);
  return wanted !== undefined && client.redirectUris.some((r) => {
    const have = loopback(r);
    return have !== undefined && have.hostname === wanted.hostname && have.pathname === wanted.pathname && have.search === wanted.search && requested === `http://${wanted.host}${wanted.pathname}${wanted.search}`;
  });
}

export function register(state: GalleryState, res: ServerResponse, body: string): void {
  let meta: { redirect_uris?: unknown; grant_types?: unknown; token_endpoint_auth_method?: unknown; scope?: unknown };
  try {
    meta = JSON.parse(body) as typeof meta;
  } catch {
    return oauthError(res, 'invalid_client_metadata');
  }
  const redirectUris = Array.isArray(meta.redirect_uris) ? meta.redirect_uris.map(String) : [];
  const grantTypes = Array.isArray(meta.grant_types) ? meta.grant_types.map(String) : ['authorization_code'];
  const machine = grantTypes.includes('client_credentials');
  if (machine && state.flaw !== 'open-machine-registration') return oauthError(res, 'invalid_client_metadata');
  if (!machine && (redirectUris.length === 0 || !redirectUris.every((u) => validRedirect(state, u)))) return oauthError(res, 'invalid_redirect_uri');
  const client: GalleryClient = { clientId: random(), redirectUris, grantTypes, ...(typeof meta.scope === 'string' && { scope: meta.scope }) };
  if (machine) client.clientSecret = random();
  state.clients.set(client.clientId, client);
  if (client.clientSecret !== undefined) state.issued.add(client.clientSecret);
  json(res, 201, { client_id: client.clientId, ...(client.clientSecret && { client_secret: client.clientSecret }), redirect_uris: redirectUris, grant_types: grantTypes, token_endpoint_auth_method: machine ? 'client_secret_basic' : 'none' });
}

export function authorize(state: GalleryState, res: ServerResponse, url: URL): void {
  const p = url.searchParams;
  const client = state.clients.get(p.get('client_id') ?? '');
  const redirectUri = p.get('redirect_uri') ?? '';
  if (client === undefined || !matchRedirect(state, client, redirectUri)) return void res.writeHead(400, { 'content-type': 'text/html' }).end('<p>Unknown client or redirect URI.</p>');
  const state_ = p.get('state') ?? undefined;
  const back = (params: Record<string, string | undefined>) => {
    const target = new URL(redirectUri);
    for (const [k, v] of Object.entries({ ...params, state: state_, iss: state.flaw === 'no-iss-in-response' ? undefined : state.origin })) if (v !== undefined) target.searchParams.set(k, v);
    res.writeHead(303, { location: target.href }).end();
  };
  const challenge = p.get('code_challenge') ?? undefined;
  const method = p.get('code_challenge_method') ?? undefined;
  if (p.get('response_type') !== 'code') return back({ error: 'unsupported_response_type' });
  if (challenge === undefined && state.flaw !== 'pkce-missing') return back({ error: 'invalid_request' });
  if (challenge !== undefined && method !== 'S256' && !(state.flaw === 'pkce-plain' && method === 'plain')) return back({ error: 'invalid_request' });
  const resource = p.get('resource') ?? '';
  if (resource !== state.resource && resource !== state.otherResource) return back({ error: 'invalid_target' });
  const scope = p.get('scope') ?? SCOPES.tools;
  if (!scope.split(' ').every((s) => s === SCOPES.tools || s === SCOPES.admin)) return back({ error: 'invalid_scope' });
  const pending = { clientId: client.clientId, redirectUri, challenge, method, state: state_, resource, scope, dpopJkt: p.get('dpop_jkt') ?? undefined };
  if (state.flaw === 'auto-approve') return back({ code: issueCode(state, pending) });
  const id = random();
  state.pending.set(id, pending);
  res.writeHead(200, { 'content-type': 'text/html' }).end(`<form method="post" action="/login"><input type="hidden" name="request" value="${id}"><input name="username"><input name="password" type="password"><button>Sign in</button></form>`);
}

function issueCode(state: GalleryState, pending: GalleryState['pending'] extends Map<string, infer V> ? V : never): string {
  const code = random();
  state.issued.add(code);
  state.codes.set(code, { ...pending, sub: USER.username, used: false });
  return code;
}

export function login(state: GalleryState, res: ServerResponse, body: string): void {
  const form = new URLSearchParams(body);
  const pending = state.pending.get(form.get('request') ?? '');
  if (pending === undefined || form.get('username') !== USER.username || form.get('password') !== USER.password) return void res.writeHead(400).end('sign-in failed');
  state.pending.delete(form.get('request') ?? '');
  const target = new URL(pending.redirectUri);
  target.searchParams.set('code', issueCode(state, pending));
  if (pending.state !== undefined) target.searchParams.set('state', pending.state);
  if (state.flaw !== 'no-iss-in-response') target.searchParams.set('iss', state.origin);
  res.writeHead(303, { location: target.href }).end();
}

function authenticateClient(state: GalleryState, req: IncomingMessage, form: URLSearchParams): GalleryClient | undefined {
  const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? '');
  if (basic !== null) {
    const [id, secret] = Buffer.from(basic[1] as string, 'base64').toString().split(':').map(decodeURIComponent) as [string, string];
    const client = state.clients.get(id);
    return client?.clientSecret !== undefined && client.clientSecret === secret ? client : undefined;
  }
  const client = state.clients.get(form.get('client_id') ?? '');
  if (client === undefined) return undefined;
  if (client.clientSecret === undefined) return client;
  return form.get('client_secret') === client.clientSecret ? client : undefined;
}

export async function token(state: GalleryState, req: IncomingMessage, res: ServerResponse, body: string): Promise<void> {
  const form = new URLSearchParams(body);
  const client = authenticateClient(state, req, form);
  if (client === undefined) return oauthError(res, 'invalid_client', 401);
  let jkt: string | undefined;
  if (req.headers.dpop !== undefined) {
    try {
      jkt = (await verifyProof(state, req.headers.dpop as string, 'POST', `${state.origin}/token`)).jkt;
    } catch (error) {
      if (error instanceof Refusal) return oauthError(res, 'invalid_dpop_proof');
      throw error;
    }
  }
  const respond = async (sub: string, resource: string, scope: string, refresh?: { family: string }) => {
    const accessToken = await mintAccessToken(state, { sub, clientId: client.clientId, resource, scope, jkt });
    const out: Record<string, unknown> = { access_token: accessToken, token_type: jkt ? 'DPoP' : 'Bearer', expires_in: 600, scope };
    if (refresh !== undefined) {
      const refreshToken = random();
      state.issued.add(refreshToken);
      state.refreshTokens.set(refreshToken, { family: refresh.family, clientId: client.clientId, resource, scope, sub, jkt, used: false });
      out.refresh_token = refreshToken;
    }
    json(res, 200, out);
  };
  const grant = form.get('grant_type');
  if (grant === 'client_credentials') {
    if (!client.grantTypes.includes('client_credentials')) return oauthError(res, 'unauthorized_client');
    const resource = form.get('resource') ?? '';
    if (resource !== state.resource && resource !== state.otherResource) return oauthError(res, 'invalid_target');
    return respond(client.clientId, resource, form.get('scope') ?? client.scope ?? SCOPES.tools);
  }
  if (grant === 'authorization_code') {
    const code = state.codes.get(form.get('code') ?? '');
    if (code === undefined || code.clientId !== client.clientId || code.redirectUri !== form.get('redirect_uri')) return oauthError(res, 'invalid_grant');
    if (code.used && state.flaw !== 'code-reuse') return oauthError(res, 'invalid_grant');
    const verifier = form.get('code_verifier') ?? '';
    const computed = code.method === 'plain' ? verifier : createHash('sha256').update(verifier).digest('base64url');
    if (code.challenge !== undefined && computed !== code.challenge) return oauthError(res, 'invalid_grant');
    if (code.dpopJkt !== undefined && code.dpopJkt !== jkt) return oauthError(res, 'invalid_dpop_proof');
    code.used = true;
    const family = random();
    return respond(code.sub, code.resource, code.scope, { family });
  }
  if (grant === 'refresh_token') {
    const presented = form.get('refresh_token') ?? '';
    const record = state.refreshTokens.get(presented);
    if (record === undefined || record.clientId !== client.clientId || state.revokedFamilies.has(record.family)) return oauthError(res, 'invalid_grant');
    if (record.jkt !== undefined && record.jkt !== jkt) return oauthError(res, 'invalid_grant');
    if (record.used && state.flaw !== 'refresh-reuse') {
      state.revokedFamilies.add(record.family);
      return oauthError(res, 'invalid_grant');
    }
    record.used = true;
    return respond(record.sub, record.resource, record.scope, { family: record.family });
  }
  oauthError(res, 'unsupported_grant_type');
}

// What one legitimate MCP client does against the stack, over plain HTTP: the authorization-code
// flow through the sign-in and consent pages (PKCE S256, resource, dpop_jkt), tools/calls with a
// fresh DPoP proof each, refreshes (rotation), and deliberate concurrent refresh races. Every
// request is timed and recorded; nothing secret is ever printed or written.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { accessTokenHash, createProofSigner, ecThumbprint, generateEs256 } from '../lib/jwt.mjs';

/** Request kinds, as recorded and reported. */
export const OPS = Object.freeze(['authorize', 'login', 'consent', 'token_code', 'tools_call', 'refresh', 'refresh_race', 'replay']);

const REQUEST_TIMEOUT_MS = 15_000;

/** An outcome that is not a failure: the stack said "retry later" (503) — allowed during an outage. */
export class Unavailable extends Error {}
/** A legitimate request refused or failed for a reason that is not an outage. */
export class Failure extends Error {
  constructor(message, { kind = 'failure' } = {}) {
    super(message);
    this.kind = kind;
  }
}

/**
 * Sends one request and records it: `[start ms since t0, latency ms, op index, status]` (status 0
 * for a transport error, -1 for a timeout).
 */
export async function timed(ctx, op, url, init) {
  const started = performance.now();
  let status;
  let response;
  try {
    response = await fetch(url, { ...init, redirect: 'manual', signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    status = response.status;
    const text = await response.text();
    ctx.record(op, started, status);
    return { status, headers: response.headers, text };
  } catch (error) {
    status = error?.name === 'TimeoutError' ? -1 : 0;
    ctx.record(op, started, status);
    return { status, headers: new Headers(), text: '', error };
  }
}

function json(text) {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Turns a response into the client's view: ok, 503 (retry), or a failure with a reason. */
function expectStatus(res, expected, what) {
  if (res.status === expected) return;
  if (res.status === 503) throw new Unavailable(`${what}: 503`);
  const detail = json(res.text)?.error ?? (res.status <= 0 ? (res.status === -1 ? 'timeout' : 'transport error') : '');
  throw new Failure(`${what}: ${res.status} ${detail}`.trim(), { kind: res.status >= 500 ? 'server_error' : res.status <= 0 ? 'transport' : 'refused' });
}

/** One client: a DPoP key, a user, and its current grant (access + refresh token). */
export function createClient(ctx, { user, password, clientId, redirectUri }) {
  const key = generateEs256();
  const jkt = ecThumbprint(key.publicJwk);
  const signProof = createProofSigner(key.privateKey, key.publicJwk);
  const proof = (htm, htu, accessToken) => signProof(htm, htu, accessToken === undefined ? undefined : accessTokenHash(accessToken), randomUUID());
  const { base, resource, tokenEndpoint, authorizationEndpoint } = ctx;
  let tokens;

  /** RFC 6749 §4.1 with PKCE, RFC 8707 resource and RFC 9449 §10 dpop_jkt, through the pages. */
  async function authorize() {
    const verifier = randomBytes(32).toString('base64url');
    const state = randomBytes(16).toString('base64url');
    const url = new URL(authorizationEndpoint);
    for (const [k, v] of Object.entries({
      response_type: 'code', client_id: clientId, redirect_uri: redirectUri, scope: 'mcp:tools', state,
      code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256', resource, dpop_jkt: jkt,
    })) url.searchParams.set(k, v);
    const start = await timed(ctx, 'authorize', url, {});
    expectStatus(start, 303, 'authorize');
    const interaction = new URL(start.headers.get('location') ?? '', url);
    const page = await timed(ctx, 'login', interaction, {});
    expectStatus(page, 200, 'sign-in page');
    const post = (fields, cookie) =>
      timed(ctx, fields.action === 'login' ? 'login' : 'consent', interaction, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin: new URL(base).origin, ...(cookie ? { cookie } : {}) },
        body: new URLSearchParams(fields).toString(),
      });
    const signedIn = await post({ csrf: csrfOf(page.text), action: 'login', username: user, password });
    let back;
    if (signedIn.status === 303) back = signedIn;
    else {
      expectStatus(signedIn, 200, 'sign-in');
      const cookie = (signedIn.headers.get('set-cookie') ?? '').split(';')[0];
      back = await post({ csrf: csrfOf(signedIn.text), action: 'allow' }, cookie);
      expectStatus(back, 303, 'consent');
    }
    const callback = new URL(back.headers.get('location') ?? '');
    if (callback.searchParams.get('state') !== state) throw new Failure('authorization response: state mismatch');
    const code = callback.searchParams.get('code');
    if (!code) throw new Failure(`authorization response without a code: ${callback.searchParams.get('error') ?? '?'}`);
    const res = await timed(ctx, 'token_code', tokenEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', dpop: proof('POST', tokenEndpoint) },
      body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier, client_id: clientId, resource }).toString(),
    });
    expectStatus(res, 200, 'token (authorization_code)');
    tokens = json(res.text);
    ctx.stats.flows += 1;
  }

  /** tools/call echo with a fresh proof; returns the request as sent, for the replaying attacker. */
  async function callTool() {
    const headers = {
      authorization: `DPoP ${tokens.access_token}`,
      dpop: proof('POST', resource, tokens.access_token),
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
    };
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { text: 'soak' } } });
    const res = await timed(ctx, 'tools_call', resource, { method: 'POST', headers, body });
    expectStatus(res, 200, 'tools/call');
    ctx.stats.calls += 1;
    return { kind: 'tools_call', url: resource, init: { method: 'POST', headers, body } };
  }

  function refreshRequest() {
    const body = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: clientId }).toString();
    return { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', dpop: proof('POST', tokenEndpoint) }, body };
  }

  /**
   * Rotates the refresh token. A 503 is retried (fresh proof, same token) while the AS's grace
   * window covers it, as a client whose response was lost must.
   */
  async function refresh(op = 'refresh') {
    const deadline = Date.now() + 8000;
    for (;;) {
      const init = refreshRequest();
      const res = await timed(ctx, op, tokenEndpoint, init);
      if (res.status === 503 && Date.now() < deadline) {
        ctx.countUnavailable(op);
        await new Promise((resolve) => setTimeout(resolve, 1000));
        continue;
      }
      if (res.status === 400 && json(res.text)?.error === 'invalid_grant') throw new Failure(`refresh: invalid_grant (${json(res.text)?.error_description ?? ''})`, { kind: 'grant_lost' });
      expectStatus(res, 200, 'refresh');
      tokens = json(res.text);
      ctx.stats.refreshes += 1;
      return { kind: 'refresh', url: tokenEndpoint, init };
    }
  }

  /**
   * Three identical refresh requests at once (what a client with a retrying HTTP stack sends):
   * every answer must be the same successor, and the successor must work — a race between a
   * client's own retries never revokes its family.
   */
  async function refreshRace() {
    const presented = tokens.refresh_token;
    const results = await Promise.all([0, 1, 2].map(() => timed(ctx, 'refresh_race', tokenEndpoint, refreshRequest())));
    if (results.some((r) => r.status === 503)) {
      // An outage hit the race: settle it with ordinary retries inside the grace window.
      ctx.countUnavailable('refresh_race');
      await refresh();
      ctx.stats.racesInterrupted += 1;
      return;
    }
    const bodies = results.map((r) => json(r.text));
    const revoked = results.some((r, i) => r.status === 400 && bodies[i]?.error === 'invalid_grant');
    for (const r of results) if (r.status !== 200 && !(r.status === 400 && json(r.text)?.error === 'invalid_grant')) expectStatus(r, 200, 'refresh race');
    const successors = new Set(bodies.filter((b, i) => results[i].status === 200).map((b) => b.refresh_token));
    ctx.stats.races += 1;
    if (revoked || successors.size !== 1) {
      ctx.stats.raceRevocations += 1;
      throw new Failure(`refresh race from one client: ${revoked ? 'invalid_grant' : `${successors.size} different successors`} (presented ${presented === tokens.refresh_token ? 'current' : 'stale'} token)`, { kind: 'race_revoked' });
    }
    tokens = bodies.find((b, i) => results[i].status === 200);
    // The successor must still rotate: a family revoked behind the answers would fail here.
    try {
      await refresh();
    } catch (error) {
      if (error instanceof Failure && error.kind === 'grant_lost') {
        ctx.stats.raceRevocations += 1;
        throw new Failure(`refresh race from one client revoked the family: ${error.message}`, { kind: 'race_revoked' });
      }
      throw error;
    }
  }

  return {
    jkt,
    authorize,
    callTool,
    refresh,
    refreshRace,
    /** Drops a grant the AS no longer honours, so the next round signs in again. */
    forget() {
      tokens = undefined;
    },
    get hasGrant() {
      return tokens !== undefined;
    },
  };
}

function csrfOf(html) {
  const token = /name="csrf" value="([^"]+)"/.exec(html)?.[1];
  if (token === undefined) throw new Failure('sign-in page without a CSRF field');
  return token;
}

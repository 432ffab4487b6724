/**
 * The whole MCP authorization flow against `warden start` in a child process, driven over HTTP the
 * way an MCP client does it: discovery from the 401 (RFC 9728) → AS metadata (RFC 8414) → dynamic
 * registration (RFC 7591) → /authorize with PKCE, resource and dpop_jkt → sign-in and consent →
 * code (with iss, RFC 9207) → DPoP-bound token (RFC 9449 §5) → tools/call through the resource-server
 * gauntlet → refresh with rotation bound to the same key.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/free-port.js';
import { cookiePair, csrfOf, pkcePair } from '../helpers/login-flow.js';
import { spawnWarden, type SpawnedWarden } from '../helpers/spawn-warden.js';
import { createDpopKey, parseChallenges, type TestDpopKey } from '../helpers/test-issuer.js';

let warden: SpawnedWarden;
beforeAll(async () => {
  warden = await spawnWarden({ command: 'start', port: await freePort() });
});
afterAll(async () => {
  await warden?.stop();
});

const REDIRECT_URI = 'http://127.0.0.1:7777/callback';

function form(url: string, fields: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(fields).toString() });
}

function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()) as Record<string, unknown>;
}

async function dpopCall(resource: string, key: TestDpopKey, token: string, tool: string, scheme = 'DPoP', proof?: string): Promise<{ res: Response; proof: string }> {
  const p = proof ?? (await key.proof({ htm: 'POST', htu: resource, accessToken: token }));
  const res = await fetch(resource, {
    method: 'POST',
    headers: { authorization: `${scheme} ${token}`, dpop: p, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: tool, arguments: {} } }),
  });
  return { res, proof: p };
}

describe('authorization code + PKCE + DPoP, end to end against warden start', () => {
  it('discovers, registers, signs in, consents, gets a DPoP-bound token, calls tools, refreshes — and refuses theft and replay', async () => {
    const resource = warden.stack.resources[0]!.url;
    const user = warden.stack.users[0]!;

    // 1. Discovery from the 401 (RFC 9728 §5.1) → PRM → AS metadata.
    const unauth = await fetch(resource, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"jsonrpc":"2.0","id":1,"method":"tools/list"}' });
    expect(unauth.status).toBe(401);
    const prmUrl = parseChallenges(unauth.headers.get('www-authenticate'))[0]?.params.resource_metadata as string;
    const prm = (await (await fetch(prmUrl)).json()) as { resource: string; authorization_servers: string[] };
    expect(prm.resource).toBe(resource);
    const issuer = prm.authorization_servers[0] as string;
    const as = (await (await fetch(`${issuer}/.well-known/oauth-authorization-server`)).json()) as Record<string, string>;
    expect(as.issuer).toBe(issuer);

    // 2. Dynamic registration of a public client (RFC 7591).
    const reg = await fetch(as.registration_endpoint as string, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_name: 'E2E client', redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'] }),
    });
    expect(reg.status).toBe(201);
    const clientId = ((await reg.json()) as { client_id: string }).client_id;

    // 3. /authorize with PKCE S256, the resource (RFC 8707) and dpop_jkt (RFC 9449 §10).
    const key = await createDpopKey();
    const { verifier, challenge } = pkcePair();
    const query = new URLSearchParams({
      response_type: 'code', client_id: clientId, redirect_uri: REDIRECT_URI, code_challenge: challenge, code_challenge_method: 'S256',
      resource, scope: 'mcp:tools mcp:admin', state: 'xyz', dpop_jkt: key.jkt,
    });
    const start = await fetch(`${as.authorization_endpoint}?${query}`, { redirect: 'manual' });
    expect(start.status).toBe(303);
    const interaction = new URL(start.headers.get('location') as string, issuer).href;

    // 4. Sign in, then consent.
    const login = await fetch(interaction);
    expect(login.headers.get('content-security-policy')).toMatch(/frame-ancestors 'none'/);
    const consent = await form(interaction, { csrf: csrfOf(await login.text()), action: 'login', username: user.username, password: user.password });
    expect(consent.status).toBe(200);
    const consentHtml = await consent.text();
    expect(consentHtml).toContain('E2E client');
    expect(consentHtml).toContain('mcp:admin');
    const back = await form(interaction, { csrf: csrfOf(consentHtml), action: 'allow' }, { cookie: cookiePair(consent.headers.get('set-cookie') ?? '') });
    expect(back.status).toBe(303);
    const redirect = new URL(back.headers.get('location') as string);
    expect(`${redirect.origin}${redirect.pathname}`).toBe(REDIRECT_URI);
    expect(redirect.searchParams.get('state')).toBe('xyz');
    expect(redirect.searchParams.get('iss')).toBe(issuer);
    const code = redirect.searchParams.get('code') as string;

    // 5. Token request with a DPoP proof of the same key.
    const tokenRes = await form(as.token_endpoint as string, { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT_URI, client_id: clientId, resource }, { dpop: await key.proof({ htm: 'POST', htu: as.token_endpoint as string }) });
    expect(tokenRes.status).toBe(200);
    expect(tokenRes.headers.get('cache-control')).toBe('no-store');
    const tokens = (await tokenRes.json()) as { access_token: string; token_type: string; refresh_token: string; scope: string };
    expect(tokens.token_type).toBe('DPoP');
    const claims = claimsOf(tokens.access_token);
    expect(claims).toMatchObject({ iss: issuer, aud: resource, client_id: clientId, sub: user.username, cnf: { jkt: key.jkt } });
    expect(tokens.scope.split(' ').sort()).toEqual(['mcp:admin', 'mcp:tools']);

    // 6. tools/call through the gauntlet, with a fresh proof each time.
    const whoami = await dpopCall(resource, key, tokens.access_token, 'whoami');
    expect(whoami.res.status).toBe(200);
    const whoamiBody = JSON.stringify(await whoami.res.json());
    expect(whoamiBody).toContain(key.jkt);
    expect(whoamiBody).not.toContain(tokens.access_token);
    expect((await dpopCall(resource, key, tokens.access_token, 'admin_reset')).res.status).toBe(200);

    // 7. Theft and replay: the proof again, the token as Bearer, the token with another key's proof.
    const replay = await dpopCall(resource, key, tokens.access_token, 'echo', 'DPoP', whoami.proof);
    expect(replay.res.status).toBe(401);
    expect(parseChallenges(replay.res.headers.get('www-authenticate')).find((c) => c.params.error)?.params.error).toBe('invalid_dpop_proof');
    expect((await dpopCall(resource, key, tokens.access_token, 'echo', 'Bearer')).res.status).toBe(401);
    const thief = await createDpopKey();
    expect((await dpopCall(resource, thief, tokens.access_token, 'echo')).res.status).toBe(401);

    // 8. Refresh: rotation, bound to the same DPoP key (public client).
    const stolenRefresh = await form(as.token_endpoint as string, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: clientId }, { dpop: await thief.proof({ htm: 'POST', htu: as.token_endpoint as string }) });
    expect(stolenRefresh.status).toBe(400);
    expect(((await stolenRefresh.json()) as { error: string }).error).toBe('invalid_grant');
    const refreshed = await form(as.token_endpoint as string, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: clientId }, { dpop: await key.proof({ htm: 'POST', htu: as.token_endpoint as string }) });
    expect(refreshed.status).toBe(200);
    const next = (await refreshed.json()) as { access_token: string; refresh_token: string; token_type: string };
    expect(next.token_type).toBe('DPoP');
    expect(next.refresh_token).not.toBe(tokens.refresh_token);
    expect((await dpopCall(resource, key, next.access_token, 'echo')).res.status).toBe(200);

    // Nothing secret reached the logs (the JSON lines; the human banner shows the demo credentials on purpose).
    const logs = [...warden.stdout().split('\n').filter((l) => l.startsWith('{')), warden.stderr()].join('\n');
    expect(logs).toContain('token.issued');
    for (const secret of [tokens.access_token, tokens.refresh_token, code, verifier, user.password]) expect(logs).not.toContain(secret);
  });
});

/**
 * The authorization endpoint, probed without a user: a valid request first (the control), then the
 * same request with one defect each — PKCE plain or absent, a redirect URI that only nearly
 * matches. A defective request must be refused (an error page, or an error redirected to the
 * registered URI), never continue to sign-in or redirect anywhere else. The audit never follows a
 * redirect, and its registered redirect URI is under `.invalid`.
 */
import { randomBytes } from 'node:crypto';
import { defineCheck, type CheckRun } from '../check.js';
import { scopesToRequest } from '../discovery.js';
import type { Exchange } from '../http-client.js';
import { authorizationRequestUrl, classifyAuthorize, pkcePair, probeClient, type AuthorizeOutcome, type ProbeClientInfo } from '../registration.js';
import { inconclusive, skip } from '../signals.js';
import { STANDARDS } from '../standards.js';

/** The valid request every probe varies, and how the server answered it. */
export interface AuthorizeControl {
  client: ProbeClientInfo;
  exchange: Exchange;
  outcome: AuthorizeOutcome;
  verifier: string;
  params: Record<string, string | undefined>;
}

async function send(run: CheckRun, params: Record<string, string | undefined>, note: string): Promise<Exchange> {
  const url = await authorizationRequestUrl(run.ctx, params);
  if (url === undefined) skip('the authorization server has no authorization endpoint the audit may use');
  return run.ctx.send({ method: 'GET', url, headers: { accept: 'text/html' }, note });
}

/** Sends the valid authorization request once per audit. */
export function authorizeControl(run: CheckRun): Promise<AuthorizeControl> {
  return run.ctx.memo('authorize-control', async () => {
    const client = await probeClient(run.ctx);
    if ('reason' in client) skip(client.reason);
    const { verifier, challenge } = pkcePair();
    run.ctx.redactor.add(verifier);
    const scopes = await scopesToRequest(run.ctx);
    const params: Record<string, string | undefined> = {
      response_type: 'code',
      client_id: client.clientId,
      redirect_uri: client.redirectUri,
      code_challenge: challenge,
      code_challenge_method: 'S256',
      state: randomBytes(12).toString('base64url'),
      resource: run.ctx.target.canonical,
      scope: scopes.length > 0 ? scopes.join(' ') : undefined,
    };
    const exchange = await send(run, params, 'a valid authorization request (the control)');
    return { client, exchange, outcome: classifyAuthorize(run.ctx, exchange, client.redirectUri), verifier, params };
  });
}

/** The control, which must have been accepted (sign-in or a code); else every probe is inconclusive. */
async function acceptedControl(run: CheckRun): Promise<AuthorizeControl> {
  const control = await authorizeControl(run);
  const { outcome } = control;
  if (outcome.kind === 'refused') inconclusive(`the authorization server refused a valid authorization request (HTTP ${outcome.status}), so a refusal of a defective one proves nothing`);
  if (outcome.kind === 'redirect' && outcome.code === undefined) inconclusive(`the authorization server answered a valid authorization request with error=${outcome.error ?? '?'}`);
  return control;
}

/** True when a defective request was accepted: it continues to sign-in, yields a code, or redirects to where it asked. */
function accepted(run: CheckRun, exchange: Exchange, redirectUri: string): boolean {
  const outcome = classifyAuthorize(run.ctx, exchange, redirectUri);
  // Redirected to where it asked, with a code or even with an error: either way the address was trusted.
  if (outcome.kind === 'redirect') return true;
  if (outcome.kind === 'refused') return false;
  // A 2xx page: the sign-in page, unless it is an error page about the redirect URI.
  return !(exchange.response.status < 300 && /redirect[_ ]ur[il]/i.test(exchange.response.body));
}

/** Near misses of a registered redirect URI (RFC 9700 §4.1.3 requires exact matching). */
export function nearMisses(registered: string): Array<{ uri: string; what: string }> {
  const url = new URL(registered);
  const path = url.pathname === '/' ? '' : url.pathname;
  const host = url.host;
  const misses = [
    { uri: `${url.protocol}//${host}${path}/warden-audit`, what: 'a longer path (prefix match)' },
    { uri: `${url.protocol}//${host}${path}x`, what: 'a suffix on the last segment' },
    { uri: `${url.protocol}//${url.hostname}.attacker.warden-audit.invalid${url.port ? `:${url.port}` : ''}${path}`, what: 'the host as a prefix of another host' },
    { uri: `${url.protocol}//${host}@attacker.warden-audit.invalid${path}`, what: 'the host as userinfo of another host' },
    { uri: `${url.protocol}//${host}${path.toUpperCase() === path ? path.toLowerCase() : path.toUpperCase()}`, what: 'the path in another case' },
    { uri: `${url.protocol}//${host}${path}/../warden-audit`, what: 'a dot segment' },
    { uri: `${url.protocol}//${host}${path}%2F..%2Fwarden-audit`, what: 'an encoded path traversal' },
  ];
  // The port of a loopback redirect may vary (RFC 8252 §7.3); elsewhere it may not.
  if (!/^(127\.0\.0\.1|\[::1\]|localhost)$/.test(url.hostname)) misses.push({ uri: `${url.protocol}//${url.hostname}:8443${path}`, what: 'another port' });
  return misses.filter((m) => m.uri !== registered);
}

export const authorizeChecks = [
  defineCheck({
    id: 'as.authorize-without-user',
    area: 'authorization-server',
    severity: 'high',
    title: 'The authorization endpoint issues codes without a user',
    summary: 'A valid authorization request from the audit (no cookies, no sign-in) must lead to a sign-in page, not straight back with a code.',
    standards: [STANDARDS.rfc6749AuthorizationEndpoint, STANDARDS.rfc6749ClientImpersonation],
    fix: 'Authenticate the resource owner and obtain consent before issuing a code; a client registered by anyone must never be approved automatically.',
    needs: [],
    async run(run) {
      const control = await authorizeControl(run);
      if (control.outcome.kind === 'redirect' && control.outcome.code !== undefined) {
        run.fail('A client the audit registered got an authorization code at once — no sign-in, no consent: anyone can obtain tokens for this server.', [control.exchange]);
      }
    },
  }),
  defineCheck({
    id: 'as.pkce-plain-accepted',
    area: 'authorization-server',
    severity: 'high',
    title: 'PKCE with the plain method is accepted',
    summary: 'Sends the valid authorization request with code_challenge_method=plain.',
    standards: [STANDARDS.mcpCodeProtection, STANDARDS.rfc9700Pkce, STANDARDS.rfc7636S256],
    fix: 'Accept only code_challenge_method=S256; refuse plain with invalid_request.',
    needs: [],
    async run(run) {
      const control = await acceptedControl(run);
      const exchange = await send(run, { ...control.params, code_challenge: randomBytes(32).toString('base64url'), code_challenge_method: 'plain' }, 'code_challenge_method=plain');
      if (accepted(run, exchange, control.client.redirectUri) && !refusedByRedirect(run, exchange, control)) {
        run.fail('An authorization request with code_challenge_method=plain was accepted: the challenge is the verifier, so an intercepted request gives away the code.', [exchange]);
      }
    },
  }),
  defineCheck({
    id: 'as.pkce-missing-accepted',
    area: 'authorization-server',
    severity: 'high',
    title: 'Authorization requests without PKCE are accepted',
    summary: 'Sends the valid authorization request without code_challenge.',
    standards: [STANDARDS.mcpCodeProtection, STANDARDS.rfc7636Server, STANDARDS.rfc9700Pkce],
    fix: 'Require code_challenge (S256) on every authorization request.',
    needs: [],
    async run(run) {
      const control = await acceptedControl(run);
      const exchange = await send(run, { ...control.params, code_challenge: undefined, code_challenge_method: undefined }, 'no code_challenge');
      if (accepted(run, exchange, control.client.redirectUri) && !refusedByRedirect(run, exchange, control)) {
        run.fail('An authorization request without a PKCE challenge was accepted.', [exchange], control.client.source === 'option' ? { severity: 'medium' } : {});
      }
    },
  }),
  defineCheck({
    id: 'as.redirect-uri-near-miss',
    area: 'authorization-server',
    severity: 'high',
    title: 'Redirect URIs that only nearly match are accepted',
    summary: 'Sends the valid authorization request with redirect URIs that differ from the registered one in path, host, userinfo, case, port or encoding.',
    standards: [STANDARDS.mcpOpenRedirection, STANDARDS.rfc9700RedirectUri, STANDARDS.rfc9700OpenRedirector, STANDARDS.rfc6749ErrorResponse],
    fix: 'Compare redirect_uri with the registered URIs by exact string match (only the port of a loopback URI may vary), and show an error page — never redirect — when it does not match.',
    needs: [],
    async run(run) {
      const control = await acceptedControl(run);
      const hits: Array<{ what: string; exchange: Exchange }> = [];
      for (const miss of nearMisses(control.client.redirectUri)) {
        const exchange = await send(run, { ...control.params, redirect_uri: miss.uri }, `redirect_uri with ${miss.what}`);
        if (accepted(run, exchange, miss.uri)) hits.push({ what: miss.what, exchange });
      }
      if (hits.length > 0) {
        run.fail(`Accepted (continued to sign-in or redirected there): ${hits.map((h) => h.what).join('; ')}. A code or error can be sent to an address the client never registered.`, hits.slice(0, 3).map((h) => h.exchange));
      }
    },
  }),
];

/** A defective request answered with an error redirected to the registered URI was refused, correctly. */
function refusedByRedirect(run: CheckRun, exchange: Exchange, control: AuthorizeControl): boolean {
  const outcome = classifyAuthorize(run.ctx, exchange, control.client.redirectUri);
  return outcome.kind === 'redirect' && outcome.error !== undefined;
}

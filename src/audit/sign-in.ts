/**
 * Interactive sign-in (`--sign-in`): the authorization code flow an MCP client runs — PKCE S256,
 * `resource`, `state`, `dpop_jkt` when the server supports DPoP — with a person (or a test) at the
 * sign-in page. It yields a user token for the credentialed checks, and the code and refresh token
 * the code-reuse and refresh-reuse checks replay.
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization#authorization-flow-steps
 */
import { randomBytes } from 'node:crypto';
import type { AuditContext } from './context.js';
import { asSupportsDpop, tokenRequest, type AuditClient, type TokenResponse } from './credentials.js';
import { authorizationServerMetadata, scopesToRequest } from './discovery.js';
import { authorizationRequestUrl, pkcePair, register } from './registration.js';

/** A completed sign-in. */
export interface SignInGrant {
  client: AuditClient;
  redirectUri: string;
  code: string;
  verifier: string;
  /** The first (and only legitimate) redemption of the code. */
  tokens: TokenResponse;
  /** The redirect the sign-in came back with (its `iss`, RFC 9207). */
  callback: URL;
  /** Whether the proof key went with the code (DPoP-bound tokens). */
  dpop: boolean;
}

/**
 * Runs the sign-in for `resource` (default: the target) once per audit. `{ reason }` when it
 * cannot be done or did not succeed.
 */
export function signInGrant(ctx: AuditContext, resource = ctx.target.canonical): Promise<SignInGrant | { reason: string }> {
  return ctx.memo(`sign-in ${resource}`, async () => {
    const signIn = ctx.options.signIn;
    if (signIn === undefined) return { reason: 'needs --sign-in' };
    const metadata = await authorizationServerMetadata(ctx);
    if (metadata === undefined) return { reason: 'no authorization server metadata was found' };
    const client = await signInClient(ctx, signIn.redirectUri);
    if ('reason' in client) return client;
    const dpop = await asSupportsDpop(ctx);
    const { verifier, challenge } = pkcePair();
    ctx.redactor.add(verifier);
    const state = randomBytes(16).toString('base64url');
    const scopes = await scopesToRequest(ctx);
    const url = await authorizationRequestUrl(ctx, {
      response_type: 'code',
      client_id: client.clientId,
      redirect_uri: signIn.redirectUri,
      code_challenge: challenge,
      code_challenge_method: 'S256',
      state,
      resource,
      scope: scopes.length > 0 ? scopes.join(' ') : undefined,
      dpop_jkt: dpop ? ctx.auditKey.thumbprint : undefined,
    });
    if (url === undefined) return { reason: 'the authorization server has no authorization endpoint the audit may use' };
    let callback: URL;
    try {
      callback = await signIn.authorize(new URL(url));
    } catch (error) {
      return { reason: `the sign-in did not come back: ${error instanceof Error ? error.message : String(error)}` };
    }
    const code = callback.searchParams.get('code');
    ctx.redactor.add(code);
    const error = callback.searchParams.get('error');
    if (error !== null) return { reason: `the authorization server answered error=${error}` };
    if (callback.searchParams.get('state') !== state) return { reason: 'the sign-in came back without the state the audit sent' };
    if (code === null) return { reason: 'the sign-in came back without a code' };
    const tokens = await tokenRequest(
      ctx,
      { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: signIn.redirectUri, resource },
      { client, ...(dpop && { key: ctx.auditKey }), note: 'the code of the sign-in, redeemed for the first time' },
    );
    if (tokens.accessToken === undefined) return { reason: `the token endpoint refused the code (HTTP ${tokens.exchange.response.status})` };
    return { client, redirectUri: signIn.redirectUri, code, verifier, tokens, callback, dpop };
  });
}

/**
 * The client the sign-ins use: one registered for the loopback redirect when the server allows
 * it, else `--client-id` (which must then have the sign-in's redirect URI registered).
 */
function signInClient(ctx: AuditContext, redirectUri: string): Promise<AuditClient | { reason: string }> {
  return ctx.memo('sign-in-client', async () => {
    const registration = await register(ctx, {
      redirect_uris: [redirectUri],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      application_type: 'native',
    }, 'a native client for the sign-in');
    if (registration?.clientId !== undefined) {
      return { clientId: registration.clientId, ...(registration.clientSecret !== undefined && { clientSecret: registration.clientSecret }) };
    }
    if (ctx.options.clientId !== undefined) {
      return { clientId: ctx.options.clientId, ...(ctx.options.clientSecret !== undefined && { clientSecret: ctx.options.clientSecret }) };
    }
    return { reason: 'the authorization server did not register a client for the sign-in; pass --client-id (with the sign-in redirect URI registered)' };
  });
}

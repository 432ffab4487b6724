import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { DEFAULTS } from '../../../oauth/defaults.js';
import { isOAuthError } from '../../../oauth/errors.js';
import { fetchJson, FetchJsonError } from '../../../jose/fetch-json.js';
import type { FederatedIdentity } from '../../../stores/authorization-server-contracts.js';
import type { AsContext } from '../../context.js';
import type { Endpoint } from '../../endpoint.js';
import { clearBindingCookie, isBoundBrowser } from '../../federation/browser-binding.js';
import { linkFederatedUser } from '../../federation/federated-user.js';
import { IdTokenError, validateIdToken } from '../../federation/id-token.js';
import { federationCallbackUrl, identityProviders, providerMetadata, type IdentityProvider } from '../../federation/providers.js';
import { federatedSignInKey, parseFederatedSignIn } from '../../federation/start-sign-in.js';
import { readQuery, unavailableRetryAfter } from '../../http.js';
import { continueSignedIn } from '../interaction/index.js';
import { sendError } from '../interaction/send-page.js';
import { sessionCookie } from '../interaction/session.js';

/** A sign-in at the provider that cannot go on: shown on a page, nothing issued. */
class FederationFailure extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * `{issuer}/federation/callback`: where the provider sends the browser back. In order:
 * 1. `state` names a sign-in this server started and has not finished (taken: single use);
 * 2. RFC 9207 §2.4: `iss` is the provider's issuer — required when the provider says it sends
 *    it — so a response from another provider (mix-up) is refused;
 * 3. an `error` from the provider ends the sign-in;
 * 4. the code is redeemed at the provider's token endpoint with the PKCE verifier;
 * 5. the ID token is validated in full (`id-token.ts`), `nonce` included;
 * 6. the user is linked (subject stable per provider issuer and subject), the browser signed in,
 *    and the pending authorization continues (consent, then the code to the client).
 * Every failure ends on an error page; no session, code or token is issued.
 *
 * @see https://openid.net/specs/openid-connect-core-1_0.html#CodeFlowAuth
 * @see https://www.rfc-editor.org/rfc/rfc9207#section-2.4
 */
export const federationCallbackEndpoint: Endpoint = async (ctx, req, res) => {
  try {
    await callback(ctx, req, res);
  } catch (error) {
    if (res.headersSent) throw error;
    const retryAfter = unavailableRetryAfter(error);
    if (retryAfter !== undefined) return sendError(ctx, res, 503, 'Temporarily unavailable', 'The sign-in service is temporarily unavailable. Please try again in a moment.', { 'Retry-After': retryAfter });
    if (error instanceof FederationFailure) return sendError(ctx, res, error.status, 'Sign-in failed', `${error.message} Go back to the application and start again.`);
    if (error instanceof IdTokenError) return sendError(ctx, res, 400, 'Sign-in failed', `The identity provider's answer was refused: ${error.message}. Go back to the application and start again.`);
    if (isOAuthError(error)) return sendError(ctx, res, 400, 'Sign-in failed', 'The answer from the identity provider was malformed. Go back to the application and start again.');
    throw error;
  }
};

async function callback(ctx: AsContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const q = readQuery(req);
  if (q.state === undefined || q.state === '') throw new FederationFailure(400, 'The answer from the identity provider has no state.');
  // Before the state is taken: a link someone else sent cannot burn (or use) their sign-in.
  if (!isBoundBrowser(ctx, req, q.state)) throw new FederationFailure(400, 'This sign-in was not started in this browser.');
  const signIn = parseFederatedSignIn(await ctx.stores.interactions.take(federatedSignInKey(q.state), ctx.now()));
  if (signIn === undefined) throw new FederationFailure(400, 'This sign-in has expired, was already used, or was not started here.');
  const provider = identityProviders(ctx).get(signIn.providerId);
  if (provider === undefined) throw new FederationFailure(400, 'This identity provider is no longer configured.');
  const metadata = await providerMetadata(ctx, provider).catch((error: unknown) => {
    throw new FederationFailure(502, `The identity provider could not be reached (${(error as Error).message}).`);
  });
  if (q.iss !== undefined ? q.iss !== provider.issuer : metadata.issParameterSupported) {
    throw new FederationFailure(400, `The answer did not come from ${provider.name} (its issuer does not match: RFC 9207).`);
  }
  if (q.error !== undefined) {
    const code = /^[\x20-\x7e]{1,64}$/.test(q.error) ? q.error : 'error';
    throw new FederationFailure(400, `${provider.name} did not sign you in (${code}).`);
  }
  if (q.code === undefined || q.code === '') throw new FederationFailure(400, `The answer from ${provider.name} has no authorization code.`);

  const tokens = await redeem(ctx, provider, metadata.tokenEndpoint, q.code, signIn.verifier);
  if (typeof tokens.id_token !== 'string') throw new FederationFailure(502, `${provider.name} sent no ID token.`);
  const claims = await validateIdToken(tokens.id_token, { issuer: provider.issuer, clientId: provider.clientId, nonce: signIn.nonce, keys: metadata.keys, now: ctx.now(), skew: ctx.skew });
  const subject = claims[provider.claims.subject];
  if (typeof subject !== 'string' || subject === '') throw new FederationFailure(400, `The ID token has no "${provider.claims.subject}" claim to identify you by.`);
  const now = ctx.now();
  const identity: FederatedIdentity = { issuer: provider.issuer, subject, updatedAt: now };
  const email = claims[provider.claims.email];
  if (typeof email === 'string') identity.email = email;
  const groups = claims[provider.claims.groups];
  if (Array.isArray(groups) && groups.every((g) => typeof g === 'string')) identity.groups = [...groups];
  else if (typeof groups === 'string') identity.groups = [groups];
  const username = await linkFederatedUser(ctx, identity);
  if (username === undefined) throw new FederationFailure(409, 'A local account already uses the name this identity maps to.');
  ctx.audit({ type: 'login.succeeded', subject: username, detail: `via identity provider ${provider.id}` });
  await continueSignedIn(ctx, res, signIn.interactionId, username, now, { 'Set-Cookie': [sessionCookie(ctx, username, now), clearBindingCookie(ctx)] });
}

/**
 * The token request at the provider (OIDC Core §3.1.3.1) with the code and the PKCE verifier,
 * authenticated with `client_secret_basic`, or `private_key_jwt` (RFC 7523 §2.2): a one-minute
 * assertion for the token endpoint with a fresh `jti`, signed with Warden's own key.
 */
async function redeem(ctx: AsContext, provider: IdentityProvider, tokenEndpoint: string, code: string, verifier: string): Promise<Record<string, unknown>> {
  const encode = (v: string) => encodeURIComponent(v).replace(/%20/g, '+');
  const body = new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: federationCallbackUrl(ctx), code_verifier: verifier });
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
  if (provider.auth.method === 'client_secret_basic') {
    headers.authorization = `Basic ${Buffer.from(`${encode(provider.clientId)}:${encode(provider.auth.secret)}`).toString('base64')}`;
  } else {
    const now = ctx.now();
    const assertion = await ctx.keys.signJwt({ iss: provider.clientId, sub: provider.clientId, aud: tokenEndpoint, jti: randomUUID(), iat: now, exp: now + 60 }, 'JWT');
    body.set('client_id', provider.clientId);
    body.set('client_assertion_type', 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
    body.set('client_assertion', assertion);
  }
  try {
    return (await fetchJson(
      new URL(tokenEndpoint),
      { method: 'POST', headers, body: body.toString() },
      { timeoutMs: DEFAULTS.jwks.timeoutMs, maxBytes: DEFAULTS.jwks.maxBytes, fetch: globalThis.fetch },
    )) as Record<string, unknown>;
  } catch (error) {
    if (error instanceof FetchJsonError) throw new FederationFailure(502, `${provider.name} refused to issue tokens for this sign-in.`);
    throw error;
  }
}

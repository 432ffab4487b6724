/** The first leg of a sign-in at an upstream provider: the authorization request (OpenID Connect Core 1.0 §3.1.2.1). */
import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { AsContext } from '../context.js';
import { sha256Base64url } from '../pkce.js';
import { bindingCookie } from './browser-binding.js';
import { federationCallbackUrl, providerMetadata, type IdentityProvider } from './providers.js';

/** A sign-in in flight at a provider, parked in the interaction store under its `state`'s digest. */
export interface FederatedSignIn {
  v: 1;
  kind: 'federated-sign-in';
  /** The Warden interaction (pending authorization) the sign-in is for. */
  interactionId: string;
  providerId: string;
  nonce: string;
  /** PKCE verifier (RFC 7636). */
  verifier: string;
  expiresAt: number;
}

/** The interaction-store key of a sign-in's `state`: only its digest is stored. */
export function federatedSignInKey(state: string): string {
  return `federated-sign-in:${sha256Base64url(state)}`;
}

/** Reads a parked sign-in back; anything else is absent. */
export function parseFederatedSignIn(data: unknown): FederatedSignIn | undefined {
  if (typeof data !== 'object' || data === null) return undefined;
  const d = data as Record<string, unknown>;
  if (d.v !== 1 || d.kind !== 'federated-sign-in') return undefined;
  for (const name of ['interactionId', 'providerId', 'nonce', 'verifier'] as const) if (typeof d[name] !== 'string') return undefined;
  if (typeof d.expiresAt !== 'number') return undefined;
  return { v: 1, kind: 'federated-sign-in', interactionId: d.interactionId as string, providerId: d.providerId as string, nonce: d.nonce as string, verifier: d.verifier as string, expiresAt: d.expiresAt };
}

/**
 * Sends the browser to the provider: `response_type=code`, fresh `state` (CSRF, RFC 6749 §10.12),
 * `nonce` (replay, OIDC Core §15.5.2) and PKCE S256, each 256 random bits; the sign-in lives as
 * long as the interaction it serves.
 */
export async function startFederatedSignIn(ctx: AsContext, res: ServerResponse, interactionId: string, expiresAt: number, provider: IdentityProvider): Promise<void> {
  const metadata = await providerMetadata(ctx, provider);
  const state = randomBytes(32).toString('base64url');
  const signIn: FederatedSignIn = {
    v: 1,
    kind: 'federated-sign-in',
    interactionId,
    providerId: provider.id,
    nonce: randomBytes(32).toString('base64url'),
    verifier: randomBytes(32).toString('base64url'),
    expiresAt,
  };
  await ctx.stores.interactions.put(federatedSignInKey(state), signIn, expiresAt);
  const url = new URL(metadata.authorizationEndpoint);
  const params = {
    response_type: 'code',
    client_id: provider.clientId,
    redirect_uri: federationCallbackUrl(ctx),
    scope: provider.scopes.join(' '),
    state,
    nonce: signIn.nonce,
    code_challenge: sha256Base64url(signIn.verifier),
    code_challenge_method: 'S256',
  };
  for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
  const cookie = bindingCookie(ctx, state, expiresAt - ctx.now());
  res.writeHead(303, { Location: url.href, 'Set-Cookie': cookie, 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer', 'Content-Length': 0 });
  res.end();
}

/**
 * Clients the audit registers (RFC 7591) or is given, and the authorization requests it builds
 * for them. Registered clients use redirect URIs under `.invalid` (RFC 2606), which resolve
 * nowhere: a code or error the server redirects there reaches no one, and the audit never follows
 * a redirect anyway.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { AuditContext } from './context.js';
import { endpoint, jsonBody } from './discovery.js';
import type { Exchange } from './http-client.js';

/** The redirect URI of the probe client. */
export const PROBE_REDIRECT_URI = 'https://client.warden-audit.invalid/callback';

/** A registration attempt. */
export interface Registration {
  exchange: Exchange;
  body: Record<string, unknown> | undefined;
  /** The client id when the server registered the client. */
  clientId?: string;
  clientSecret?: string;
}

/** POSTs client metadata to the registration endpoint; registers every secret it returns with the redactor. */
export async function register(ctx: AuditContext, metadata: Record<string, unknown>, note?: string): Promise<Registration | undefined> {
  if (ctx.options.register === false) return undefined;
  const url = await endpoint(ctx, 'registration_endpoint');
  if (url === undefined) return undefined;
  const exchange = await ctx.send({
    method: 'POST',
    url,
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ client_name: 'warden audit', ...metadata }),
    ...(note !== undefined && { note }),
  });
  const body = jsonBody(exchange);
  for (const name of ['client_secret', 'registration_access_token']) ctx.redactor.add(typeof body?.[name] === 'string' ? (body[name] as string) : undefined);
  const registration: Registration = { exchange, body };
  if ((exchange.response.status === 201 || exchange.response.status === 200) && typeof body?.client_id === 'string') {
    registration.clientId = body.client_id;
    if (typeof body.client_secret === 'string') registration.clientSecret = body.client_secret;
  }
  return registration;
}

/** The client the authorization-endpoint probes use, with a redirect URI registered for it. */
export interface ProbeClientInfo {
  clientId: string;
  redirectUri: string;
  /** How the audit got it. */
  source: 'option' | 'registered';
}

/**
 * The client for authorization-endpoint probes: `--client-id` with `--redirect-uri`, else a public
 * client registered for {@link PROBE_REDIRECT_URI}. `{ reason }` when there is neither.
 */
export function probeClient(ctx: AuditContext): Promise<ProbeClientInfo | { reason: string }> {
  return ctx.memo('probe-client', async () => {
    const { clientId, redirectUri } = ctx.options;
    if (clientId !== undefined && redirectUri !== undefined) return { clientId, redirectUri, source: 'option' as const };
    if (ctx.options.register === false) return { reason: 'needs a client: --client-id with --redirect-uri (registration probes are off: --no-register)' };
    if ((await endpoint(ctx, 'registration_endpoint')) === undefined) {
      return { reason: 'needs a client: the authorization server offers no registration endpoint; pass --client-id with --redirect-uri' };
    }
    const registration = await register(ctx, {
      redirect_uris: [PROBE_REDIRECT_URI],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    }, 'a public client for the authorization-endpoint probes');
    if (registration?.clientId === undefined) {
      return { reason: `the authorization server refused to register a public client (HTTP ${registration?.exchange.response.status ?? '-'}); pass --client-id with --redirect-uri` };
    }
    return { clientId: registration.clientId, redirectUri: PROBE_REDIRECT_URI, source: 'registered' as const };
  });
}

/** A PKCE verifier and its S256 challenge (RFC 7636 §4.1–4.2). */
export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** An authorization request URL (RFC 6749 §4.1.1) with the given parameters, `undefined` ones left out. */
export async function authorizationRequestUrl(ctx: AuditContext, params: Record<string, string | undefined>): Promise<string | undefined> {
  const base = await endpoint(ctx, 'authorization_endpoint');
  if (base === undefined) return undefined;
  const url = new URL(base);
  for (const [name, value] of Object.entries(params)) if (value !== undefined) url.searchParams.append(name, value);
  return url.href;
}

/** How an authorization endpoint answered: redirected to the client (with a code or an error), refused, or went on to sign-in. */
export type AuthorizeOutcome =
  | { kind: 'redirect'; code?: string; error?: string; location: string }
  | { kind: 'refused'; status: number }
  | { kind: 'continues'; status: number; location?: string };

/**
 * Classifies an authorization response for a request whose redirect URI was `redirectUri` (and
 * registers any code it carries with the redactor): a 3xx
 * to it (RFC 6749 §4.1.2, §4.1.2.1), a 4xx/5xx page, or anything else (the sign-in page, or a
 * redirect to it) — the server accepted the request and will send the code to `redirectUri`.
 */
export function classifyAuthorize(ctx: AuditContext, exchange: Exchange, redirectUri: string): AuthorizeOutcome {
  const { status } = exchange.response;
  const location = exchange.response.header('location');
  if (status >= 300 && status < 400 && location !== undefined) {
    if (location === redirectUri || location.startsWith(`${redirectUri}?`) || location.startsWith(`${redirectUri}#`) || location.startsWith(`${redirectUri}&`)) {
      const target = new URL(location);
      const params = new URLSearchParams(target.search || target.hash.slice(1));
      const code = params.get('code') ?? undefined;
      const error = params.get('error') ?? undefined;
      ctx.redactor.add(code);
      return { kind: 'redirect', ...(code !== undefined && { code }), ...(error !== undefined && { error }), location };
    }
    return { kind: 'continues', status, location };
  }
  if (status >= 400) return { kind: 'refused', status };
  return { kind: 'continues', status };
}

import { createHash, randomBytes } from 'node:crypto';
import { DEFAULTS } from '../../../oauth/defaults.js';
import type { AsContext } from '../../context.js';
import type { AuthorizationServerOptions } from '../../options.js';
import { AuthorizePageError, type AuthorizationParams } from '../authorize/checks.js';

/** RFC 9126 §2.2: the prefix of a `request_uri` the server issued. */
export const REQUEST_URI_PREFIX = 'urn:ietf:params:oauth:request_uri:';

/** A pushed authorization request, as parked (validated authorization parameters, no client credentials). */
interface PushedRequest {
  v: 1;
  clientId: string;
  values: Record<string, string>;
}

interface ParSettings {
  required: boolean;
  requestUriSeconds: number;
  /** Configured clients that must push (RFC 9126 §6 `require_pushed_authorization_requests`). */
  requiredFor: ReadonlySet<string>;
}

const settings = new WeakMap<AsContext, ParSettings>();

/**
 * Checks `options.par` and the clients that require PAR, at start-up.
 *
 * @throws {TypeError} Saying what to change.
 */
export function configurePar(ctx: AsContext, options: AuthorizationServerOptions): void {
  const seconds = options.par?.requestUriSeconds ?? DEFAULTS.par.requestUriSeconds;
  if (!Number.isSafeInteger(seconds) || seconds < 5 || seconds > 600) throw new TypeError('createAuthorizationServer: par.requestUriSeconds must be a whole number from 5 to 600');
  settings.set(ctx, {
    required: options.par?.required ?? false,
    requestUriSeconds: seconds,
    requiredFor: new Set((options.clients ?? []).filter((c) => c.requirePushedAuthorizationRequests === true).map((c) => c.clientId)),
  });
}

export function parSettings(ctx: AsContext): ParSettings {
  return settings.get(ctx) ?? { required: false, requestUriSeconds: DEFAULTS.par.requestUriSeconds, requiredFor: new Set() };
}

/** The interaction-store key of a request URI: hashed, so the store never holds the handle itself. */
const keyOf = (requestUri: string): string => `par:${createHash('sha256').update(requestUri).digest('base64url')}`;

/** Parks a validated authorization request; returns its single-use `request_uri` and lifetime (RFC 9126 §2.2). */
export async function pushAuthorizationRequest(ctx: AsContext, clientId: string, values: Record<string, string>): Promise<{ requestUri: string; expiresIn: number }> {
  const { requestUriSeconds } = parSettings(ctx);
  // 256 bits: the request URI is a bearer handle on the request until it is used.
  const requestUri = `${REQUEST_URI_PREFIX}${randomBytes(32).toString('base64url')}`;
  const parked: PushedRequest = { v: 1, clientId, values };
  await ctx.stores.interactions.put(keyOf(requestUri), parked, ctx.now() + requestUriSeconds);
  return { requestUri, expiresIn: requestUriSeconds };
}

/**
 * At the authorization endpoint (RFC 9126 §4): a `request_uri` is exchanged, once, for the request
 * that was pushed — only by the client that pushed it (`client_id` must match); every other
 * parameter of the front-channel request is ignored. Without a `request_uri`, a client that must
 * push (globally, or its own `require_pushed_authorization_requests`) is refused. Errors are pages:
 * nothing here verified a redirect URI yet.
 */
export async function resolvePushedRequest(ctx: AsContext, params: AuthorizationParams): Promise<AuthorizationParams> {
  const requestUri = params.values.request_uri;
  const { required, requiredFor } = parSettings(ctx);
  if (requestUri === undefined) {
    const clientId = params.values.client_id;
    if (required || (clientId !== undefined && requiredFor.has(clientId))) {
      throw new AuthorizePageError('This application must send its authorization request to the pushed authorization request endpoint first (RFC 9126 §5).');
    }
    return params;
  }
  if (params.duplicated.has('request_uri') || !requestUri.startsWith(REQUEST_URI_PREFIX)) throw new AuthorizePageError('The request_uri is not one this server issued (RFC 9126 §4).');
  const parked = (await ctx.stores.interactions.take(keyOf(requestUri), ctx.now())) as PushedRequest | undefined;
  if (parked === undefined || parked.v !== 1) throw new AuthorizePageError('The authorization request has expired or was already used; start again from the application (RFC 9126 §4).');
  if (params.values.client_id !== parked.clientId) throw new AuthorizePageError('The request_uri was issued to another application (client_id does not match, RFC 9126 §4).');
  const values = Object.assign(Object.create(null) as Record<string, string>, parked.values);
  return { values, duplicated: new Set() };
}

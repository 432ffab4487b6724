import type { IncomingMessage } from 'node:http';
import type { ClientRecord } from '../../stores/authorization-server-contracts.js';
import { InvalidClientError, InvalidRequestError, TemporarilyUnavailableError } from '../../oauth/errors.js';
import { PASSWORD_CHECK_RETRY_AFTER_SECONDS } from '../password-check-limiter.js';
import type { AsContext } from '../context.js';
import { verifyClientSecret } from '../password.js';
import { authenticateWithAssertion } from './client-assertion.js';
import { getClient } from './get-client.js';

/** An authenticated (or identified public) client. */
export interface AuthenticatedClient {
  client: ClientRecord;
  method: 'none' | 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt';
}

/** Raised credentials parse; `basic` tells the caller to answer with a `WWW-Authenticate: Basic` challenge. */
export class ClientAuthenticationError extends InvalidClientError {
  readonly basic: boolean;
  constructor(description: string, basic: boolean) {
    super(description);
    this.basic = basic;
  }
}

function decodeBasic(header: string): { id: string; secret: string } {
  const match = /^Basic ([A-Za-z0-9+/]+=*)$/i.exec(header.trim());
  if (match === null) throw new ClientAuthenticationError('malformed Basic Authorization header', true);
  const decoded = Buffer.from(match[1] as string, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon === -1) throw new ClientAuthenticationError('malformed Basic credentials', true);
  try {
    // RFC 6749 §2.3.1: id and secret are form-urlencoded before base64.
    return { id: decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' ')), secret: decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, ' ')) };
  } catch {
    throw new ClientAuthenticationError('malformed Basic credentials', true);
  }
}

/**
 * Verifies a client secret. A secret stored as a scrypt hash (older stores) costs a password
 * check, so it takes a slot of the instance's cap and, beyond it, is refused with 503
 * `temporarily_unavailable` and `Retry-After` rather than queued.
 */
async function checkSecret(ctx: AsContext, secret: string, stored: string | undefined): Promise<boolean> {
  if (stored === undefined || !stored.startsWith('scrypt$')) return verifyClientSecret(secret, stored);
  const release = ctx.login.passwordChecks.tryAcquire();
  if (release === undefined) {
    throw new TemporarilyUnavailableError('the server is checking as many secrets as it can; retry shortly', { retryAfterSeconds: PASSWORD_CHECK_RETRY_AFTER_SECONDS });
  }
  try {
    return await verifyClientSecret(secret, stored);
  } finally {
    release();
  }
}

/**
 * Authenticates the client of a token, revocation or introspection request (RFC 6749 §2.3):
 * `client_secret_basic`, `client_secret_post`, `private_key_jwt` (RFC 7523 §2.2, see
 * `client-assertion.ts`), or `none` (public client identified by `client_id`,
 * only when `allowPublic`). Using two methods at once is `invalid_request`. The method must be the
 * one the client registered. Secrets are compared in constant time (SHA-256 of a high-entropy secret).
 */
export async function authenticateClient(ctx: AsContext, req: IncomingMessage, form: Record<string, string>, options: { allowPublic: boolean }): Promise<AuthenticatedClient> {
  const authorization = req.headersDistinct.authorization;
  if (authorization !== undefined && authorization.length > 1) throw new InvalidRequestError('more than one Authorization header');
  const header = authorization?.[0];
  const basic = header !== undefined && /^basic /i.test(header);
  if (header !== undefined && !basic) throw new InvalidRequestError('only the Basic scheme is accepted for client authentication here');
  const postSecret = form.client_secret;
  if (basic && (postSecret !== undefined || form.client_assertion !== undefined)) {
    throw new InvalidRequestError('use exactly one client authentication method (RFC 6749 §2.3)');
  }
  if (form.client_assertion !== undefined || form.client_assertion_type !== undefined) {
    if (postSecret !== undefined) throw new InvalidRequestError('use exactly one client authentication method (RFC 6749 §2.3)');
    return { client: await authenticateWithAssertion(ctx, form), method: 'private_key_jwt' };
  }

  let id: string;
  let secret: string | undefined;
  let method: AuthenticatedClient['method'];
  if (basic) {
    ({ id, secret } = decodeBasic(header as string));
    if (form.client_id !== undefined && form.client_id !== id) throw new InvalidRequestError('client_id does not match the authenticated client');
    method = 'client_secret_basic';
  } else if (postSecret !== undefined) {
    if (form.client_id === undefined) throw new InvalidRequestError('client_secret without client_id');
    id = form.client_id;
    secret = postSecret;
    method = 'client_secret_post';
  } else {
    if (form.client_id === undefined) throw new ClientAuthenticationError('client authentication required', false);
    id = form.client_id;
    method = 'none';
  }

  const client = await getClient(ctx, id);
  if (method === 'none') {
    if (client === undefined) throw new ClientAuthenticationError('unknown client', false);
    if (client.tokenEndpointAuthMethod !== 'none') throw new ClientAuthenticationError('this client must authenticate', false);
    if (!options.allowPublic) throw new ClientAuthenticationError('a public client (no secret) cannot use this grant or endpoint; it needs client authentication', false);
    return { client, method };
  }
  // Always hash and compare, even for unknown clients, so timing does not reveal which ids exist.
  const ok = await checkSecret(ctx, secret as string, client?.secretHash);
  if (client === undefined || !ok) throw new ClientAuthenticationError('client authentication failed', basic);
  if (client.tokenEndpointAuthMethod !== method) throw new ClientAuthenticationError(`this client is registered for ${client.tokenEndpointAuthMethod}`, basic);
  return { client, method };
}

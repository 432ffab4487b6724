import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { DEFAULTS } from '../../../oauth/defaults.js';
import { InvalidClientMetadataError, InvalidRequestError, TemporarilyUnavailableError } from '../../../oauth/errors.js';
import type { ClientRecord } from '../../../stores/authorization-server-contracts.js';
import { clientRecordFromMetadata, parseClientMetadataJson, validateClientMetadata, type ValidatedClientMetadata } from '../../clients/validate-metadata.js';
import type { AsContext } from '../../context.js';
import type { Endpoint } from '../../endpoint.js';
import { readRaw, sendJson } from '../../http.js';
import { requestSource } from '../../client-address.js';
import { hashClientSecret } from '../../password.js';
import { throttleRegistration } from './limits.js';

/** 16 random bytes → 22 base64url characters: unguessable, and never mistaken for a URL client id. */
const CLIENT_ID_BYTES = 16;
/** RFC 6749 §10.10: client secrets carry 256 bits of entropy. */
const CLIENT_SECRET_BYTES = 32;

/** RFC 8259 §8.1: JSON between systems is UTF-8; `fatal` refuses invalid sequences instead of replacing them. */
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** RFC 7591 §3: the registration request is an HTTP POST with an `application/json` body. */
function requireJson(req: IncomingMessage): void {
  const type = req.headers['content-type'] ?? '';
  if (!/^application\/json[ \t]*(;|$)/i.test(type)) throw new InvalidRequestError('the registration request must be application/json (RFC 7591 §3.1)');
  const charset = /;[ \t]*charset[ \t]*=[ \t]*"?([^";\s]+)/i.exec(type)?.[1];
  if (charset !== undefined && charset.toLowerCase() !== 'utf-8') throw new InvalidRequestError('the registration request must be UTF-8 JSON');
}

/** Reads the capped body (oversize → 400 `invalid_request` from `readRaw`) and parses it without a reviver. */
async function readMetadata(ctx: AsContext, req: IncomingMessage): Promise<unknown> {
  const raw = await readRaw(req, ctx.registration.maxBodyBytes);
  let text: string;
  try {
    text = utf8.decode(raw);
  } catch {
    throw new InvalidClientMetadataError('the client metadata is not valid UTF-8');
  }
  return parseClientMetadataJson(text);
}

/** A fresh client id that no stored client has (a collision is astronomically unlikely; checking is cheap). */
async function newClientId(ctx: AsContext): Promise<string> {
  for (;;) {
    const id = randomBytes(CLIENT_ID_BYTES).toString('base64url');
    if ((await ctx.stores.clients.get(id)) === undefined) return id;
  }
}

/**
 * RFC 7591 §3.2.1 client information response: the server-assigned credentials plus every
 * metadata value that was registered (and only those — ignored members are not echoed).
 */
export function clientInformationResponse(record: ClientRecord, secret?: string): Record<string, unknown> {
  const body: Record<string, unknown> = { client_id: record.clientId, client_id_issued_at: record.createdAt };
  if (secret !== undefined) {
    body.client_secret = secret;
    // RFC 7591 §3.2.1: 0 means the secret does not expire.
    body.client_secret_expires_at = 0;
  }
  body.redirect_uris = record.redirectUris;
  body.token_endpoint_auth_method = record.tokenEndpointAuthMethod;
  body.grant_types = record.grantTypes;
  body.response_types = record.responseTypes;
  if (record.clientName !== undefined) body.client_name = record.clientName;
  if (record.clientUri !== undefined) body.client_uri = record.clientUri;
  if (record.logoUri !== undefined) body.logo_uri = record.logoUri;
  if (record.scope !== undefined) body.scope = record.scope;
  if (record.jwks !== undefined) body.jwks = record.jwks;
  if (record.jwksUri !== undefined) body.jwks_uri = record.jwksUri;
  return body;
}

/** Issues a secret for confidential methods; the store only ever sees its scrypt hash. */
async function credentials(metadata: ValidatedClientMetadata): Promise<{ secret?: string; secretHash?: string }> {
  // Public clients hold no secret; private_key_jwt clients authenticate with their registered keys.
  if (metadata.tokenEndpointAuthMethod === 'none' || metadata.tokenEndpointAuthMethod === 'private_key_jwt') return {};
  const secret = randomBytes(CLIENT_SECRET_BYTES).toString('base64url');
  return { secret, secretHash: hashClientSecret(secret) };
}

/**
 * `POST /register` — RFC 7591 dynamic client registration, open (no initial access token), as
 * MCP clients expect. Checks in order: `application/json` (else 400 `invalid_request`), body within
 * `registration.maxBodyBytes` (else 400 `invalid_request`), UTF-8 JSON object, metadata per
 * {@link validateClientMetadata} (400 `invalid_client_metadata` / `invalid_redirect_uri`). Any
 * `client_id`, `client_secret` or `client_id_issued_at` the client sends is ignored: the server
 * assigns a random id and, for `client_secret_basic`/`client_secret_post`, a 256-bit secret that
 * is returned once and stored only as a SHA-256 hash. Then the registration is counted against
 * its source address (`registration.throttle`): too soon after the previous ones → 429
 * `temporarily_unavailable` with `Retry-After` (RFC 6585 §4; RFC 7591 defines no code for it), and
 * nothing is stored. Answers 201 with `Cache-Control: no-store` and audits `client.registered`.
 * A client that is not used (no completed authorization, no token) within
 * `registration.expireUnusedAfterSeconds` expires and is purged.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7591#section-3
 */
export const registerEndpoint: Endpoint = async (ctx, req, res) => {
  requireJson(req);
  const input = await readMetadata(ctx, req);
  const metadata = validateClientMetadata(input, {
    source: 'registered',
    allowLoopbackHttp: ctx.clientMetadataDocuments.allowPrivateNetworks,
    allowClientCredentials: ctx.registration.clientCredentials,
    assertionAlgorithms: ctx.options.assertions?.algorithms ?? DEFAULTS.assertions.algorithms,
  });
  // Counted once the request is valid: a client fixing its metadata is not slowed for its mistakes.
  const wait = await throttleRegistration(ctx, requestSource(ctx, req));
  if (wait !== undefined) {
    throw new TemporarilyUnavailableError(`too many client registrations from this address; retry in ${wait} s (RFC 6585 §4)`, {
      status: 429,
      retryAfterSeconds: wait,
      headers: { 'Cache-Control': 'no-store', Pragma: 'no-cache' },
    });
  }
  const clientId = await newClientId(ctx);
  const { secret, secretHash } = await credentials(metadata);
  const fields: Parameters<typeof clientRecordFromMetadata>[1] = { clientId, source: 'registered', createdAt: ctx.now() };
  if (secretHash !== undefined) fields.secretHash = secretHash;
  const record = clientRecordFromMetadata(metadata, fields);
  await ctx.stores.clients.put(record);
  ctx.audit({ type: 'client.registered', clientId, detail: `token_endpoint_auth_method=${record.tokenEndpointAuthMethod} grant_types=${record.grantTypes.join(',')}` });
  sendJson(res, 201, clientInformationResponse(record, secret), { 'Cache-Control': 'no-store', Pragma: 'no-cache' });
};

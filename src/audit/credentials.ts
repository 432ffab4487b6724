/**
 * The credentials credentialed checks present, from what the user supplied: a token (with the key
 * it is bound to), a confidential client (client_credentials, DPoP-bound with the audit's key when
 * the authorization server supports DPoP), or an interactive sign-in. Every token, code and
 * secret that passes through here is registered with the redactor before anything can print it.
 */
import type { AuditContext, Credential } from './context.js';
import { authorizationServerMetadata, baseline, endpoint, jsonBody, stringList } from './discovery.js';
import { decodeJwt } from './forge-token.js';
import type { Exchange } from './http-client.js';
import { initializeBody, served } from './mcp-messages.js';
import type { ProofKey } from './proof-key.js';
import { inconclusive, skip } from './signals.js';
import { signInGrant } from './sign-in.js';

/** A token endpoint answer. */
export interface TokenResponse {
  exchange: Exchange;
  body: Record<string, unknown> | undefined;
  accessToken?: string;
  refreshToken?: string;
  tokenType?: string;
}

/** A client the audit authenticates as: the user's confidential client, or one it registered. */
export interface AuditClient {
  clientId: string;
  clientSecret?: string;
}

/** True when the authorization server advertises DPoP (RFC 9449 §5.1). */
export async function asSupportsDpop(ctx: AuditContext): Promise<boolean> {
  return stringList((await authorizationServerMetadata(ctx))?.document, 'dpop_signing_alg_values_supported').length > 0;
}

/**
 * A token request (RFC 6749 §3.2): client authentication as the metadata allows
 * (`client_secret_basic` unless only `client_secret_post` is listed), a DPoP proof when `key` is
 * given, and one retry when the server asks for a nonce (RFC 9449 §8).
 */
export async function tokenRequest(ctx: AuditContext, form: Record<string, string>, options: { client?: AuditClient; key?: ProofKey; note?: string } = {}): Promise<TokenResponse> {
  const url = await endpoint(ctx, 'token_endpoint');
  if (url === undefined) skip('the authorization server has no token endpoint the audit may use');
  const methods = stringList((await authorizationServerMetadata(ctx))?.document, 'token_endpoint_auth_methods_supported');
  const params = new URLSearchParams(form);
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
  const client = options.client;
  if (client?.clientSecret !== undefined && (methods.length === 0 || methods.includes('client_secret_basic'))) {
    // RFC 6749 §2.3.1: both halves form-urlencoded before Basic encoding.
    headers.authorization = `Basic ${Buffer.from(`${encodeURIComponent(client.clientId)}:${encodeURIComponent(client.clientSecret)}`).toString('base64')}`;
  } else if (client !== undefined) {
    params.set('client_id', client.clientId);
    if (client.clientSecret !== undefined) params.set('client_secret', client.clientSecret);
  }
  const origin = new URL(url).origin;
  const send = (nonce: string | undefined) => {
    const withProof = { ...headers };
    if (options.key !== undefined) {
      const proof = options.key.sign({ htm: 'POST', htu: url, ...(nonce !== undefined && { nonce }) });
      ctx.redactor.add(proof);
      withProof.dpop = proof;
    }
    return ctx.send({ method: 'POST', url, headers: withProof, body: params.toString(), ...(options.note !== undefined && { note: options.note }) });
  };
  const before = ctx.nonce(origin);
  let exchange = await send(before);
  ctx.rememberNonce(url, exchange);
  if (options.key !== undefined && exchange.response.status === 400 && jsonBody(exchange)?.error === 'use_dpop_nonce' && ctx.nonce(origin) !== before) {
    exchange = await send(ctx.nonce(origin));
    ctx.rememberNonce(url, exchange);
  }
  const body = jsonBody(exchange);
  for (const name of ['access_token', 'refresh_token', 'id_token']) ctx.redactor.add(typeof body?.[name] === 'string' ? (body[name] as string) : undefined);
  const result: TokenResponse = { exchange, body };
  if (exchange.response.status === 200 && typeof body?.access_token === 'string') {
    result.accessToken = body.access_token;
    if (typeof body.refresh_token === 'string') result.refreshToken = body.refresh_token;
    if (typeof body.token_type === 'string') result.tokenType = body.token_type;
  }
  return result;
}

/** A client_credentials token for `resource` (RFC 6749 §4.4, RFC 8707), DPoP-bound to the audit's key when asked. */
export function clientCredentialsToken(ctx: AuditContext, resource: string, dpop: boolean): Promise<TokenResponse> {
  return ctx.memo(`client-credentials ${resource} ${dpop}`, async () => {
    const { clientId, clientSecret } = ctx.options;
    if (clientId === undefined || clientSecret === undefined) skip('needs a confidential client: --client-id and --client-secret');
    return tokenRequest(ctx, { grant_type: 'client_credentials', resource }, { client: { clientId, clientSecret }, ...(dpop && { key: ctx.auditKey }) });
  });
}

/** The token credentialed checks present: `--token`, else a sign-in, else client credentials. */
export function primaryCredential(ctx: AuditContext): Promise<Credential | undefined> {
  return ctx.memo('primary-credential', async () => {
    const { token, dpopKey } = ctx.options;
    if (token !== undefined) return suppliedCredential(token, dpopKey, '--token');
    if (ctx.options.signIn !== undefined) {
      const grant = await signInGrant(ctx);
      if ('reason' in grant) {
        ctx.notes.push(`Sign-in did not produce a token: ${grant.reason}`);
      } else if (grant.tokens.accessToken !== undefined) {
        return { token: grant.tokens.accessToken, ...(isDpop(grant.tokens) && { key: ctx.auditKey }), label: 'the signed-in token' };
      }
    }
    if (ctx.options.clientId !== undefined && ctx.options.clientSecret !== undefined) {
      const dpop = await asSupportsDpop(ctx);
      const response = await clientCredentialsToken(ctx, ctx.target.canonical, dpop);
      if (response.accessToken !== undefined) return { token: response.accessToken, ...(isDpop(response) && { key: ctx.auditKey }), label: 'the client_credentials token' };
      ctx.notes.push(`The client_credentials request for ${ctx.target.canonical} was refused (HTTP ${response.exchange.response.status}${errorOf(response)}).`);
    }
    return undefined;
  });
}

/**
 * Skips a check whose verdict is "the server served a request it should have refused" when the
 * server serves requests without any token: that is one finding (discovery.unauthenticated-access),
 * not twenty.
 */
export async function requireProtected(ctx: AuditContext): Promise<void> {
  if (served((await baseline(ctx)).response)) skip('the endpoint serves initialize without any token (discovery.unauthenticated-access), so this check would prove nothing');
}

/** The primary credential, or a skip saying how to provide one; checked to be accepted by the target. */
export async function requireCredential(ctx: AuditContext): Promise<Credential> {
  await requireProtected(ctx);
  const credential = await primaryCredential(ctx);
  if (credential === undefined) skip('needs a token: --token, --client-id/--client-secret, or --sign-in');
  const jkt = boundThumbprint(credential.token);
  if (jkt !== undefined && credential.key === undefined) skip('the token is DPoP-bound (cnf.jkt): pass the private key it is bound to with --dpop-key');
  if (jkt !== undefined && credential.key !== undefined && credential.key.thumbprint !== jkt) skip('--dpop-key is not the key the token is bound to (its thumbprint differs from cnf.jkt)');
  await positiveControl(ctx, credential);
  return credential;
}

/** A DPoP-bound credential with its key, or a skip. */
export async function requireBoundCredential(ctx: AuditContext): Promise<Credential & { key: ProofKey }> {
  const credential = await requireCredential(ctx);
  if (credential.key === undefined) skip('needs a DPoP-bound token: --token with --dpop-key, or a client or sign-in at an authorization server that issues DPoP-bound tokens');
  return credential as Credential & { key: ProofKey };
}

/**
 * The positive control of every credentialed check: the credential, presented correctly, is
 * served. Without it a refusal proves nothing.
 */
export function positiveControl(ctx: AuditContext, credential: Credential): Promise<Exchange> {
  return ctx.memo(`positive-control ${credential.token}`, async () => {
    const exchange = await ctx.authorized(credential, { body: initializeBody() });
    if (!served(exchange.response)) {
      const error = /error="([^"]*)"/.exec((exchange.response.headers.get('www-authenticate') ?? []).join(', '))?.[1];
      inconclusive(`${credential.label} was not accepted when presented correctly (HTTP ${exchange.response.status}${error ? ` ${error}` : ''}), so a refusal would prove nothing`);
    }
    return exchange;
  });
}

/** An unbound (bearer) credential, when one can be had. */
export function unboundCredential(ctx: AuditContext): Promise<Credential | undefined> {
  return ctx.memo('unbound-credential', async () => {
    const { token } = ctx.options;
    if (token !== undefined && boundThumbprint(token) === undefined && ctx.options.dpopKey === undefined) return { token, label: '--token' };
    if (ctx.options.clientId !== undefined && ctx.options.clientSecret !== undefined) {
      const response = await clientCredentialsToken(ctx, ctx.target.canonical, false);
      if (response.accessToken !== undefined && !isDpop(response) && boundThumbprint(response.accessToken) === undefined) return { token: response.accessToken, label: 'a client_credentials token without DPoP' };
    }
    const primary = await primaryCredential(ctx);
    if (primary !== undefined && primary.key === undefined && boundThumbprint(primary.token) === undefined) return primary;
    return undefined;
  });
}

function suppliedCredential(token: string, key: ProofKey | undefined, label: string): Credential {
  return { token, ...(key !== undefined && { key }), label };
}

/** `cnf.jkt` of a JWT access token, if it has one. */
export function boundThumbprint(token: string): string | undefined {
  const cnf = decodeJwt(token)?.payload.cnf;
  const jkt = cnf !== null && typeof cnf === 'object' ? (cnf as Record<string, unknown>).jkt : undefined;
  return typeof jkt === 'string' ? jkt : undefined;
}

/** True when a token response says `token_type: DPoP`. */
export function isDpop(response: TokenResponse): boolean {
  return response.tokenType?.toLowerCase() === 'dpop';
}

/** `: error_code` of a token endpoint refusal, for messages. */
export function errorOf(response: TokenResponse): string {
  return typeof response.body?.error === 'string' ? ` ${response.body.error}` : '';
}

/**
 * Step-up authorization: when a request is refused with 403 `insufficient_scope`, authorize again
 * for the union of what was granted and what the challenge asks for, retry, and stop after a
 * limit so a server that keeps refusing becomes an error, not a loop. A 401 after connect (the
 * server let the session start without a token, or the token expired) is answered the same way,
 * refresh first: the SDK would only stop there with `UnauthorizedError` and leave the redirect
 * to the application.
 * @see https://modelcontextprotocol.io/specification/2026-07-28/basic/authorization#step-up-authorization-flow
 */
import type { FetchLike } from './dpop-fetch.js';
import { AuthorizationDeclinedError, stepUpRefused } from './errors.js';

/** Options of step-up. */
export interface StepUpOptions {
  /**
   * Re-authorizations per request before the refusal is final. Default 1 (as the MCP client
   * SDK); 0 turns step-up off, so the first 403 throws `InsufficientScopeError`.
   */
  maxAttempts?: number;
}

/** What step-up needs from the OAuth provider. */
export interface StepUpAuthorizer {
  grantedScopes(): string[];
  tokens(): { access_token: string } | undefined | Promise<{ access_token: string } | undefined>;
  reauthorize(serverUrl: string | URL, scope: string, resourceMetadataUrl?: URL, options?: { refresh?: boolean }): Promise<void>;
}

/** A parsed `insufficient_scope` challenge (RFC 6750 §3.1, RFC 9728 §5.1). */
export interface ScopeChallenge {
  scope: string | undefined;
  resourceMetadata: string | undefined;
  description: string | undefined;
}

/**
 * Wraps `fetch` with step-up. Requests the server refuses for scope are retried with a token
 * for the union of the scopes requested so far, the scopes granted, and the challenge's scopes.
 */
export function createStepUpFetch(fetch: FetchLike, authorizer: StepUpAuthorizer, options: StepUpOptions = {}): FetchLike {
  const maxAttempts = options.maxAttempts ?? 1;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 0) throw new TypeError('stepUp.maxAttempts must be a whole number ≥ 0');
  /** Scopes asked for so far, per resource: the MCP spec makes accumulating them the client's job. */
  const requested = new Map<string, Set<string>>();
  /**
   * Operations that stayed refused after step-up, so the user is not asked again and again — by
   * operation alone, so a server that varies its challenge cannot reopen the question.
   */
  const exhausted = new Map<string, number>();
  /**
   * Resources that answered a request with success. Before that, a 401 is the connect's own,
   * which the SDK handles (and `connectWithAuthorization` finishes); after it, it is ours.
   */
  const connected = new Set<string>();

  /** The request's headers with the current access token, in the scheme the request used (a bound token becomes DPoP below). */
  async function withToken(original: RequestInit['headers']): Promise<Headers> {
    const tokens = await authorizer.tokens();
    const headers = new Headers(original);
    const scheme = /^dpop\s/i.test(headers.get('authorization') ?? '') ? 'DPoP' : 'Bearer';
    if (tokens !== undefined) headers.set('authorization', `${scheme} ${tokens.access_token}`);
    return headers;
  }

  return async function stepUpFetch(input, init = {}) {
    if (input instanceof Request) {
      // A Request's body can be read once: keep it, so the retry can send it again.
      init = { method: input.method, headers: input.headers, signal: input.signal, ...(input.body && { body: await input.text() }), ...init };
      input = input.url;
    }
    let response = await fetch(input, init);
    const url = new URL(input);
    const resource = `${url.origin}${url.pathname}`;
    if (response.ok) connected.add(resource);
    else if (response.status === 401 && connected.has(resource)) {
      const unauthorized = bearerChallenge(response);
      if (unauthorized !== undefined) {
        await response.body?.cancel().catch(() => undefined);
        const scopes = requested.get(resource) ?? new Set<string>();
        requested.set(resource, scopes);
        for (const scope of split(unauthorized.scope)) scopes.add(scope);
        await authorizer.reauthorize(url, [...scopes].join(' '), (unauthorized.resourceMetadata && URL.parse(unauthorized.resourceMetadata)) || undefined, { refresh: true });
        response = await fetch(input, { ...init, headers: await withToken(init.headers) });
      }
    }
    let challenge = await insufficientScope(response);
    if (challenge === undefined) return response;
    const operation = `${describeOperation(init.body)} at ${resource}`;
    const before = exhausted.get(operation);
    if (before !== undefined) throw stepUpRefused({ requiredScope: challenge.scope, operation, attempts: before, description: 'it was refused after step-up before; not asking the user once more' });

    for (let attempt = 1; ; attempt++) {
      if (attempt > maxAttempts) {
        if (maxAttempts > 0) exhausted.set(operation, maxAttempts);
        throw stepUpRefused({ requiredScope: challenge.scope, operation, attempts: maxAttempts, description: challenge.description });
      }
      await response.body?.cancel().catch(() => undefined);
      const scopes = requested.get(resource) ?? new Set<string>();
      requested.set(resource, scopes);
      for (const scope of [...authorizer.grantedScopes(), ...split(challenge.scope)]) scopes.add(scope);
      try {
        await authorizer.reauthorize(url, [...scopes].join(' '), (challenge.resourceMetadata && URL.parse(challenge.resourceMetadata)) || undefined);
      } catch (error) {
        // Declined: later authorizations ask for what is granted plus what they need, not this again.
        if (error instanceof AuthorizationDeclinedError) requested.set(resource, new Set(authorizer.grantedScopes()));
        throw error;
      }
      response = await fetch(input, { ...init, headers: await withToken(init.headers) });
      const next = await insufficientScope(response);
      if (next === undefined) return response;
      challenge = next;
    }
  };
}

function split(scope: string | undefined): string[] {
  return (scope ?? '').split(' ').filter(Boolean);
}

/** `tools/call admin_reset`, `tools/list`, … from a JSON-RPC body; `request` otherwise. */
function describeOperation(body: unknown): string {
  if (typeof body !== 'string') return 'request';
  try {
    const message = JSON.parse(body) as unknown;
    if (Array.isArray(message)) return 'JSON-RPC batch';
    const { method, params } = (message ?? {}) as { method?: unknown; params?: { name?: unknown } };
    if (typeof method !== 'string') return 'request';
    return method === 'tools/call' && typeof params?.name === 'string' ? `tools/call ${params.name}` : method;
  } catch {
    return 'request';
  }
}

/**
 * The Bearer or DPoP challenge of a 401 (RFC 6750 §3, RFC 9449 §7.1) other than a DPoP nonce
 * request (the DPoP fetch answers those); `undefined` otherwise.
 */
function bearerChallenge(response: Response): ScopeChallenge | undefined {
  for (const challenge of parseChallenges(response.headers.get('www-authenticate') ?? '')) {
    const scheme = challenge.scheme.toLowerCase();
    if ((scheme === 'bearer' || scheme === 'dpop') && challenge.params.error !== 'use_dpop_nonce') {
      return { scope: challenge.params.scope, resourceMetadata: challenge.params.resource_metadata, description: challenge.params.error_description };
    }
  }
  return undefined;
}

/** The `insufficient_scope` challenge of a 403, from either scheme; `undefined` otherwise. */
export async function insufficientScope(response: Response): Promise<ScopeChallenge | undefined> {
  if (response.status !== 403) return undefined;
  for (const challenge of parseChallenges(response.headers.get('www-authenticate') ?? '')) {
    const scheme = challenge.scheme.toLowerCase();
    if ((scheme === 'bearer' || scheme === 'dpop') && challenge.params.error === 'insufficient_scope') {
      return { scope: challenge.params.scope, resourceMetadata: challenge.params.resource_metadata, description: challenge.params.error_description };
    }
  }
  return undefined;
}

/**
 * Parses a `WWW-Authenticate` value into challenges with their auth-params (RFC 9110 §11.6.1):
 * token and quoted-string values, backslash escapes, several challenges in one header.
 */
export function parseChallenges(header: string): Array<{ scheme: string; params: Record<string, string> }> {
  const challenges: Array<{ scheme: string; params: Record<string, string> }> = [];
  const token = /[!#$%&'*+.^_`|~0-9A-Za-z-]+/y;
  let i = 0;
  const skip = (chars: RegExp) => {
    while (i < header.length && chars.test(header[i] as string)) i++;
  };
  const read = (re: RegExp): string | undefined => {
    re.lastIndex = i;
    const m = re.exec(header);
    if (!m) return undefined;
    i = re.lastIndex;
    return m[0];
  };
  let current: { scheme: string; params: Record<string, string> } | undefined;
  while (i < header.length) {
    skip(/[\s,]/);
    const start = i;
    const name = read(token);
    if (name === undefined) return challenges;
    skip(/[ \t]/);
    if (header[i] === '=' && current !== undefined) {
      i++;
      skip(/[ \t]/);
      let value = '';
      if (header[i] === '"') {
        i++;
        while (i < header.length && header[i] !== '"') {
          if (header[i] === '\\') i++;
          value += header[i] ?? '';
          i++;
        }
        i++;
      } else {
        value = read(token) ?? '';
      }
      current.params[name.toLowerCase()] = value;
      continue;
    }
    if (header[i] === '=' && current === undefined) return challenges;
    i = start + name.length;
    current = { scheme: name, params: {} };
    challenges.push(current);
  }
  return challenges;
}

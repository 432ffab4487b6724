/**
 * A `fetch` that adds DPoP proofs: one fresh proof per request, `ath` when an access token goes
 * with it, the server's latest nonce, and one retry when the server answers `use_dpop_nonce`
 * (400 from a token endpoint, 401 from a resource). Drop it in wherever a client takes a `fetch`.
 */
import type { DpopKey } from './dpop-key.js';

/** The fetch signature the wrapper takes and returns. */
export type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/** Where nonces are kept: the latest `DPoP-Nonce` per origin (RFC 9449 §8, §9). A `Map` works. */
export interface DpopNonceStore {
  get(origin: string): string | undefined;
  set(origin: string, nonce: string): unknown;
}

/** Options of {@link createDpopFetch}. */
export interface DpopFetchOptions {
  /** Shared nonce memory, so several wrappers (token endpoint, MCP transport) learn from each other. */
  nonces?: DpopNonceStore;
  /**
   * Says whether a token sent as `Authorization: Bearer` is in fact DPoP-bound. Clients that only
   * know Bearer (the v1 MCP SDK) send bound tokens that way; such requests are rewritten to the
   * `DPoP` scheme (RFC 9449 §7.1). Default: no Bearer token is treated as bound.
   */
  isBound?: (accessToken: string) => boolean;
}

const AUTH = /^(Bearer|DPoP)[ \t]+([^\s]+)[ \t]*$/i;
const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Wraps `fetch` so requests carry DPoP proofs signed by `key`. A proof is added when the request
 * carries a DPoP-bound token (with `ath`), and to unsafe requests without an access token (a
 * token request binds what it gets). A request with an unbound Bearer token, and GETs without
 * one (metadata discovery), go out untouched.
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-7.1
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-8
 */
export function createDpopFetch(fetch: FetchLike, key: DpopKey, options: DpopFetchOptions = {}): FetchLike {
  if (typeof fetch !== 'function') throw new TypeError('createDpopFetch needs a fetch function');
  if (typeof key?.proof !== 'function') throw new TypeError('createDpopFetch needs a DPoP key holder (generateDpopKey())');
  const nonces = options.nonces ?? new Map<string, string>();
  const isBound = options.isBound ?? (() => false);

  return async function dpopFetch(input, init) {
    const request = await normalize(input, init);
    const origin = request.url.origin;
    const plan = planAuthorization(request.headers.get('authorization'), request.method, isBound);
    if (plan === undefined) return fetch(request.url, { ...request.init, headers: request.headers });

    const send = async (): Promise<{ response: Response; nonce: string | undefined }> => {
      const nonce = nonces.get(origin);
      const headers = new Headers(request.headers);
      if (plan.token !== undefined) headers.set('authorization', `DPoP ${plan.token}`);
      headers.set('dpop', await key.proof({ htm: request.method, htu: request.url, accessToken: plan.token, nonce }));
      const response = await fetch(request.url, { ...request.init, headers });
      const fresh = response.headers.get('dpop-nonce');
      if (fresh !== null && fresh !== '') nonces.set(origin, fresh);
      return { response, nonce };
    };

    const first = await send();
    if (!(await asksForNonce(first.response)) || nonces.get(origin) === first.nonce) return first.response;
    await first.response.body?.cancel().catch(() => undefined);
    return (await send()).response;
  };
}

interface NormalizedRequest {
  url: URL;
  method: string;
  headers: Headers;
  /** Everything else of the caller's init, with the body buffered so a retry can resend it. */
  init: RequestInit;
}

async function normalize(input: string | URL | Request, init: RequestInit = {}): Promise<NormalizedRequest> {
  const base = input instanceof Request ? input : undefined;
  const url = new URL(base ? base.url : input instanceof URL ? input.href : input);
  const method = (init.method ?? base?.method ?? 'GET').toUpperCase();
  const headers = new Headers(base?.headers);
  new Headers(init.headers).forEach((value, name) => headers.set(name, value));
  let body: RequestInit['body'] = init.body;
  if (body === undefined && base?.body) body = new Uint8Array(await base.arrayBuffer());
  else if (body instanceof ReadableStream) body = new Uint8Array(await new Response(body).arrayBuffer());
  const rest: RequestInit = { ...init, method, body };
  if (base && rest.signal === undefined) rest.signal = base.signal;
  delete rest.headers;
  delete (rest as { duplex?: unknown }).duplex;
  return { url, method, headers, init: rest };
}

/**
 * `undefined`: send as is. Otherwise sign, with `token` for `ath` and the `DPoP` scheme. Client
 * authentication (`Basic`) at a token endpoint is kept and the request still gets a proof.
 */
function planAuthorization(authorization: string | null, method: string, isBound: (token: string) => boolean): { token?: string } | undefined {
  const match = authorization === null ? null : AUTH.exec(authorization);
  if (match === null) return SAFE.has(method) ? undefined : {};
  const scheme = (match[1] as string).toLowerCase();
  const token = match[2] as string;
  if (scheme === 'dpop' || isBound(token)) return { token };
  return undefined;
}

/** The server asked for a (new) nonce: RFC 9449 §8 (AS, 400) or §9 (resource, 401). */
async function asksForNonce(response: Response): Promise<boolean> {
  if (!response.headers.has('dpop-nonce')) return false;
  if (response.status === 401) {
    const challenge = response.headers.get('www-authenticate') ?? '';
    return /(^|,)\s*DPoP\b[^]*\berror\s*=\s*"?use_dpop_nonce"?/i.test(challenge);
  }
  if (response.status !== 400) return false;
  try {
    const body = (await response.clone().json()) as { error?: unknown };
    return body?.error === 'use_dpop_nonce';
  } catch {
    return false;
  }
}

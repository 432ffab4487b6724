/**
 * What every check of one audit shares: the target, the bounded HTTP client, the redactor, the
 * DPoP nonces a server handed out, and memoised results (discovery, credentials) so each is
 * fetched once however many checks need it.
 */
import { canonicalResourceUri } from '../oauth/canonical-uri.js';
import { challengesOf } from './discovery.js';
import { excerpt } from './evidence.js';
import { ProbeClient, type Exchange, type ProbeRequest, type Transport } from './http-client.js';
import { postHeaders } from './mcp-messages.js';
import type { RateLimiterClock } from './rate-limiter.js';
import { Redactor } from './redact.js';
import { generateProofKey, type ProofKey } from './proof-key.js';
import type { ExchangeExcerpt } from './types.js';

/** How the audit gets a user's sign-in done (the CLI: a loopback listener and the browser). */
export interface SignIn {
  /** The redirect URI the sign-in answers at (a loopback URI for a native client). */
  redirectUri: string;
  /** Shows the authorization URL to a person (or plays one) and resolves with the redirect it came back with. */
  authorize(authorizationUrl: URL): Promise<URL>;
}

/** Everything `warden audit` can be told. Only `url` is required. */
export interface AuditOptions {
  /** The MCP endpoint to audit. */
  url: string;
  /** An access token for the target (`--token`). */
  token?: string;
  /** The private JWK `token` is DPoP-bound to (`--dpop-key`). */
  dpopKey?: ProofKey;
  /** A second principal's token, for session-binding checks (`--second-token`). */
  secondToken?: string;
  /** A confidential client of the authorization server (`--client-id`, `--client-secret`). */
  clientId?: string;
  clientSecret?: string;
  /** A redirect URI registered for `clientId`, for authorization-endpoint probes (`--redirect-uri`). */
  redirectUri?: string;
  /** Another resource of the same authorization server, for the audience check (`--other-resource`). */
  otherResource?: string;
  /** A JWT the same issuer signed that is not an access token, e.g. an OpenID ID token (`--id-token`). */
  idToken?: string;
  /** The one tool the audit may call: harmless, and outside the token's scope (`--probe-tool`). */
  probeTool?: string;
  /** Allows the refresh-token reuse check, which may revoke the grant it tests (`--allow-refresh`). */
  allowRefresh?: boolean;
  /** Interactive sign-in, for a user token, code reuse and refresh checks (`--sign-in`). */
  signIn?: SignIn;
  /** Dynamic client registration probes (default true; `--no-register`). */
  register?: boolean;
  /** Requests per second. Default {@link DEFAULT_RATE}. */
  rate?: number;
  /** Most requests the audit sends. Default {@link DEFAULT_BUDGET}. */
  maxRequests?: number;
  /** Per-request timeout. Default 10 s. */
  timeoutMs?: number;
  /** Origins the audit may contact besides the target's and its authorization server's. */
  allowOrigins?: string[];
  /** Only these checks (ids, or area prefixes such as `dpop.`). Default: all. */
  checks?: string[];
  /** Called as checks start and finish (progress display). */
  onProgress?: (event: ProgressEvent) => void;
  /** Test seams. */
  transport?: Transport;
  clock?: RateLimiterClock;
}

/** A progress event. */
export interface ProgressEvent {
  index: number;
  total: number;
  id: string;
  title: string;
  phase: 'start' | 'end';
  status?: string;
  requests: number;
}

/** Default requests per second: polite to a server the auditor may not own. */
export const DEFAULT_RATE = 10;
/** Default request budget. */
export const DEFAULT_BUDGET = 500;

/** A credential the audit presents: a token, and the key it is bound to when it is DPoP-bound. */
export interface Credential {
  token: string;
  key?: ProofKey;
  /** Where it came from, for evidence and skip reasons. */
  label: string;
}

/** An MCP session (`Mcp-Session-Id`) a principal opened. */
export interface McpSession {
  id: string;
  protocolVersion: string;
}

/** How a request carries a credential; every field defaults to the correct behaviour. */
export interface AuthorizedRequest {
  body: string;
  method?: string;
  url?: string;
  session?: McpSession;
  /** Default `DPoP` for a bound credential, `Bearer` otherwise. */
  scheme?: 'Bearer' | 'DPoP';
  /** `none` sends no proof; an object overrides what the proof says (or resends one verbatim). */
  proof?: 'none' | ProofOverrides;
  headers?: Record<string, string>;
  note?: string;
}

/** Deliberate defects of a proof. */
export interface ProofOverrides {
  key?: ProofKey;
  htm?: string;
  htu?: string;
  iat?: number;
  /** false: no `ath`. */
  ath?: boolean;
  /** `ath` computed over this string instead of the presented token. */
  athToken?: string;
  /** Sends this exact proof again (replay). */
  reuse?: string;
}

/** The target as the audit sees it. */
export interface Target {
  /** The URL as given. */
  url: string;
  /** Its canonical form (RFC 8707 §2): what a token's `aud` and the metadata's `resource` should say. */
  canonical: string;
  origin: string;
  /** True for localhost, 127.0.0.0/8 and ::1. */
  loopback: boolean;
}

/** Whether a host name is the local machine (RFC 8252 §8.3, plus `localhost` names). */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return host === 'localhost' || host.endsWith('.localhost') || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** One audit's shared state. */
export class AuditContext {
  readonly target: Target;
  readonly http: ProbeClient;
  readonly redactor = new Redactor();
  readonly options: AuditOptions;
  /** Things worth saying that are not findings. */
  readonly notes: string[] = [];
  /** The key for tokens the audit obtains itself and for proofs it makes up. */
  readonly auditKey: ProofKey = generateProofKey();
  readonly #nonces = new Map<string, string>();
  readonly #memo = new Map<string, Promise<unknown>>();

  constructor(options: AuditOptions) {
    let canonical: string;
    try {
      canonical = canonicalResourceUri(options.url);
    } catch (error) {
      throw new TypeError(`the target ${(error as Error).message}`);
    }
    const url = new URL(options.url);
    this.options = options;
    this.target = { url: options.url, canonical, origin: url.origin, loopback: isLoopbackHost(url.hostname) };
    this.http = new ProbeClient({
      rate: options.rate ?? DEFAULT_RATE,
      budget: options.maxRequests ?? DEFAULT_BUDGET,
      timeoutMs: options.timeoutMs ?? 10_000,
      ...(options.transport && { transport: options.transport }),
      ...(options.clock && { clock: options.clock }),
    });
    this.http.allowOrigin(url.origin);
    for (const origin of options.allowOrigins ?? []) this.http.allowOrigin(origin);
    for (const secret of [options.token, options.secondToken, options.clientSecret, options.idToken]) this.redactor.add(secret);
  }

  /** Runs `compute` once per key for the whole audit; later callers get the same promise. */
  memo<T>(key: string, compute: () => Promise<T>): Promise<T> {
    let value = this.#memo.get(key) as Promise<T> | undefined;
    if (value === undefined) {
      value = compute();
      this.#memo.set(key, value);
    }
    return value;
  }

  /** Sends a request and pairs it with its response. */
  async send(request: ProbeRequest): Promise<Exchange> {
    const response = await this.http.send(request);
    return { request, response };
  }

  /** A redacted excerpt of an exchange, for evidence. */
  evidence(exchange: Exchange): ExchangeExcerpt {
    return excerpt(exchange, this.redactor);
  }

  /** The DPoP nonce an origin handed out last (RFC 9449 §8, §9). */
  nonce(origin: string): string | undefined {
    return this.#nonces.get(origin);
  }

  /** Remembers a `DPoP-Nonce` a response carried. */
  rememberNonce(url: string, exchange: Exchange): void {
    const nonce = exchange.response.header('dpop-nonce');
    if (nonce !== undefined && nonce !== '') this.#nonces.set(new URL(url).origin, nonce);
  }

  /**
   * Sends an MCP request with a credential: the right scheme, a fresh proof for a bound credential
   * (or the deliberate defects asked for), and one retry when the server asks for a new nonce.
   */
  async authorized(credential: Credential, request: AuthorizedRequest): Promise<Exchange & { proof?: string }> {
    const method = request.method ?? 'POST';
    const url = request.url ?? this.target.url;
    const origin = new URL(url).origin;
    const overrides = typeof request.proof === 'object' ? request.proof : {};
    const key = overrides.key ?? credential.key;
    const signs = request.proof !== 'none' && (key !== undefined || overrides.reuse !== undefined);
    const build = (nonce: string | undefined) => {
      const headers: Record<string, string> = {
        ...postHeaders(request.session),
        ...request.headers,
        authorization: `${request.scheme ?? (credential.key ? 'DPoP' : 'Bearer')} ${credential.token}`,
      };
      let proof: string | undefined;
      if (signs) {
        proof =
          overrides.reuse ??
          (key as ProofKey).sign({
            htm: overrides.htm ?? method,
            htu: overrides.htu ?? url,
            ...(overrides.ath !== false && { accessToken: overrides.athToken ?? credential.token }),
            ...(nonce !== undefined && { nonce }),
            ...(overrides.iat !== undefined && { iat: overrides.iat }),
          });
        this.redactor.add(proof);
        headers.dpop = proof;
      }
      const probe: ProbeRequest = { method, url, headers, ...(method !== 'GET' && method !== 'DELETE' && { body: request.body }) };
      if (request.note !== undefined) probe.note = request.note;
      return { probe, proof };
    };
    let attempt = build(this.nonce(origin));
    let exchange = await this.send(attempt.probe);
    const before = this.nonce(origin);
    this.rememberNonce(url, exchange);
    if (signs && overrides.reuse === undefined && asksForNonce(exchange) && this.nonce(origin) !== before) {
      attempt = build(this.nonce(origin));
      exchange = await this.send(attempt.probe);
      this.rememberNonce(url, exchange);
    }
    return attempt.proof === undefined ? exchange : { ...exchange, proof: attempt.proof };
  }
}

/** A 401 whose DPoP challenge says `use_dpop_nonce` (RFC 9449 §9), or a 400 with that error (§8). */
export function asksForNonce(exchange: Exchange): boolean {
  const { response } = exchange;
  if (response.header('dpop-nonce') === undefined) return false;
  if (response.status === 401) {
    return challengesOf(response).some((c) => c.params.error === 'use_dpop_nonce');
  }
  return response.status === 400 && /"error"\s*:\s*"use_dpop_nonce"/.test(response.body);
}

import type { AsymmetricAlg } from '../jose/algorithms.js';
import type { KeySource } from '../jose/key-source.js';
import type { DpopMode, PublicJwk, ScopePolicy } from '../oauth/vocabulary.js';
import type { JsonRpcMessage } from '../mcp/json-rpc-messages.js';
import type { ReplayStore, RevocationList } from '../stores/contracts.js';
import type { DecisionListener, RequestContext } from '../oauth/authorization-decision.js';
import type { PolicyOptions } from './policy/types.js';

export type { AsymmetricAlg } from '../jose/algorithms.js';
export type { DpopMode, PublicJwk, ScopePolicy } from '../oauth/vocabulary.js';
export type { PolicyOptions, PolicyRuleOptions } from './policy/types.js';

/** Where access-token signing keys (or token validity) come from. */
export type TrustOptions = {
  /** Expected `iss`, compared byte for byte. */
  issuer: string;
  /** Signing algorithms accepted for access tokens. Default: every asymmetric alg. */
  algorithms?: readonly AsymmetricAlg[];
  /** Accepted JOSE `typ` values. Default `['at+jwt', 'application/at+jwt']` (RFC 9068 §4). */
  tokenTypes?: readonly string[];
} & (
  | { jwks: { keys: readonly PublicJwk[] }; jwksUri?: never; introspection?: never; keySource?: never }
  | {
      /** A key source in the same process, e.g. the authorization server's live signing keys. */
      keySource: KeySource;
      jwks?: never;
      jwksUri?: never;
      introspection?: never;
    }
  | {
      jwksUri: string;
      jwks?: never;
      introspection?: never;
      keySource?: never;
      /** Minimum seconds between refetches triggered by an unknown `kid`. Default 30. */
      refetchIntervalSeconds?: number;
      /** Seconds a fetched JWKS is fresh. Default 300. */
      cacheMaxAgeSeconds?: number;
      /** Per-request timeout for the JWKS fetch. Default 5000 ms. */
      timeoutMs?: number;
      /** Injected fetch (tests). Default global fetch. */
      fetch?: typeof fetch;
    }
  | {
      /** RFC 7662 introspection for opaque tokens. */
      introspection: {
        endpoint: string;
        clientId: string;
        clientSecret: string;
        /** Upper bound on caching an active result (never beyond the token's `exp`). Default 60 s. */
        cacheMaxSeconds?: number;
        timeoutMs?: number;
        fetch?: typeof fetch;
      };
      /** Optional: JWT tokens are still verified locally with these keys. */
      jwks?: { keys: readonly PublicJwk[] };
      jwksUri?: never;
      keySource?: never;
    }
);

/** Options of {@link createResourceServer}; validated at construction. */
export interface ResourceServerOptions {
  /** Canonical URI of this MCP server (RFC 8707 / MCP): the `aud` tokens must carry. */
  resource: string;
  /** Authorization server issuers advertised in RFC 9728 metadata. Default `[trust.issuer]`. */
  authorizationServers?: readonly string[];
  trust: TrustOptions;
  /** Default `'allowed'`. */
  dpop?: DpopMode;
  /** DPoP proof algorithms accepted. Default ES256, ES384, ES512, EdDSA, RS256, PS256. */
  dpopAlgorithms?: readonly AsymmetricAlg[];
  /** Stateless server nonces (RFC 9449 §9). */
  nonce?: {
    /**
     * Shared secret (≥ 32 bytes) so every instance accepts every instance's nonces. Nonces are bound
     * to the public origin: resources on one origin (and an authorization server there using the
     * same secret) accept each other's nonces, as clients keep one nonce per origin.
     */
    secret: string | Uint8Array;
    /** Require a nonce in every proof. Default true when `nonce` is set. */
    required?: boolean;
    /** Length of a nonce slot; current and previous slots are valid. Default 60 s. */
    slotSeconds?: number;
  };
  /** Where proof `jti`s are claimed. Default: a bounded in-memory store. */
  replayStore?: ReplayStore;
  /** Optional deny-list of revoked access-token `jti`s. */
  revocation?: RevocationList;
  scopes?: ScopePolicy;
  /**
   * Rules in CEL over the token's claims, the call and the time, checked after scopes (see
   * {@link PolicyOptions}). Compiled here: a rule that does not compile throws at set-up with its
   * name, line and column. A refusal answers 403 `access_denied` naming the rule.
   */
  policy?: PolicyOptions;
  /**
   * The node and Express adapters rewrite the application's answers to `tools/list`
   * (JSON or SSE) to show only the tools the caller may call (`VerifyResult.toolVisible`). Default
   * false: a client that never sees a tool cannot discover it for step-up. (The gateway always filters.)
   */
  filterToolsList?: boolean;
  /**
   * Verified access tokens remembered by digest, so a reused token's signature is checked once:
   * `{ maxEntries, maxSeconds }` (defaults 10,000 and 60 s; an entry never outlives the token's
   * `exp`), or `false` to verify every signature every time. Time claims, audience, binding, the
   * proof, scopes, revocation and replay are checked on every request either way.
   */
  tokenCache?: { maxEntries?: number; maxSeconds?: number } | false;
  /** Allowed clock skew for `exp`/`nbf`/`iat` and proof `iat`. Default 30 s. */
  clockSkewSeconds?: number;
  /** Maximum age of a DPoP proof (`iat` window). Default 60 s. */
  proofMaxAgeSeconds?: number;
  /**
   * Public base URL clients use (scheme + host + optional port). `htu` is built from it and the
   * request path — never from `Host` or `X-Forwarded-*`. Default: the origin of `resource`.
   */
  publicBaseUrl?: string;
  limits?: {
    /** Max bytes of the Authorization header. Default 8192. */
    maxAuthorizationBytes?: number;
    /** Max bytes of the DPoP header. Default 8192. */
    maxProofBytes?: number;
    /** Max request body bytes the adapters read for scope evaluation. Default 4 MiB. */
    maxBodyBytes?: number;
  };
  /**
   * Refuse request bodies another parser could read differently from Warden: a charset other than
   * UTF-8 or a `Content-Encoding` (415); bytes that are not I-JSON — a BOM, invalid UTF-8,
   * duplicate member names, lone surrogates, integers beyond 2^53 (400); member names that a
   * lenient decoder folds into a JSON-RPC or MCP member name (`Params`, `paramſ`, `name\u0000`),
   * and method or tool names that fold into one the policy names (400). Default `true`: the
   * application behind Warden may use another parser than `JSON.parse`. With `false` such bodies
   * are let through but need every scope the policy knows (the behaviour before strict messages).
   */
  strictMessages?: boolean;
  /**
   * Further checks of an authenticated request, run after scopes and revocation and before the
   * DPoP replay claim (so a refused request never consumes a proof). Throw an `OAuthError` (or a
   * `MessageRefusedError`) to refuse with it; anything else thrown refuses with 503 (fail closed).
   */
  checks?: readonly RequestCheck[];
  /**
   * Told every authorization decision — allow or deny, the reason code, the caller as far as it
   * was verified, the gauntlet steps passed — once per request, after the answer is decided (the
   * audit trail and traces listen here). Never given a token or proof. What it throws is ignored.
   */
  onDecision?: DecisionListener;
  /** RFC 9728 extras. */
  resourceName?: string;
  resourceDocumentation?: string;
  /** Clock (seconds since epoch), for tests. */
  now?: () => number;
}

/** Request as the core sees it: plain values, no framework. */
export interface VerifyRequest {
  method: string;
  /** Request URL: absolute, or path + query. Only the path and query are used. */
  url: string;
  /** Headers: node `headersDistinct`-style record, a plain record, or Web `Headers`. */
  headers: Headers | Readonly<Record<string, string | readonly string[] | undefined>>;
  /** Parsed JSON body (or raw string/bytes) — needed for `tools/call` scope evaluation. */
  body?: unknown;
  /** Request id and source address, recorded with the decision (see `onDecision`). */
  context?: RequestContext;
}

/**
 * Auth info handed to MCP tool handlers: the shape of the official SDK's `AuthInfo`
 * (v1 `@modelcontextprotocol/sdk` and v2 `@modelcontextprotocol/server`).
 */
export interface WardenAuthInfo {
  token: string;
  clientId: string;
  scopes: string[];
  /** Seconds since epoch. */
  expiresAt?: number;
  resource?: URL;
  extra: {
    subject?: string;
    /** RFC 7638 thumbprint of the DPoP key the token is bound to. */
    jkt?: string;
    issuer: string;
    jti?: string;
    tokenType: 'Bearer' | 'DPoP';
  };
}

/** What a {@link RequestCheck} sees: the caller, the request, and the JSON-RPC messages Warden read. */
export interface RequestCheckContext {
  auth: WardenAuthInfo;
  request: VerifyRequest;
  messages: readonly JsonRpcMessage[];
}

/** An extra check of an authenticated request; see {@link ResourceServerOptions.checks}. */
export type RequestCheck = (context: RequestCheckContext) => void | Promise<void>;

/** Outcome of {@link ResourceServer.verify}. */
export type VerifyResult =
  | {
      ok: true;
      auth: WardenAuthInfo;
      headers: Record<string, string>;
      /** The request body as Warden parsed it (strict I-JSON), when it was JSON. */
      parsedBody?: unknown;
      /**
       * Present when the request lists tools (`tools/list`) and scopes or policy restrict tools:
       * whether this caller may be shown a tool. Filter the answer's `result.tools` with it; a
       * hidden tool's call is refused by the gauntlet either way.
       */
      toolVisible?: (name: string) => boolean;
    }
  | {
      ok: false;
      status: number;
      headers: Record<string, string>;
      body: string;
      /** Why: the wire error code (`invalid_token`, `insufficient_scope`, …), or `no_credentials`. */
      error: string;
    };

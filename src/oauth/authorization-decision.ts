/**
 * An authorization decision of a resource server (allow or deny, and why), handed as a value
 * from the gauntlet that made it to whoever records it (the audit trail, traces). Shared
 * vocabulary: the resource server writes it, the observability layer reads it.
 */

/** Where a request came from and which request it is, as the server that received it saw it. */
export interface RequestContext {
  /** The server's own id for this request (also sent back as `X-Request-Id` by the stack). */
  readonly requestId?: string;
  /** The peer address of the connection. */
  readonly sourceAddress?: string;
  /** The request's trace span, when the server traces (OpenTelemetry). */
  readonly trace?: RequestTrace;
}

/** The span of one request: its W3C trace context, and where the decision's steps are recorded. */
export interface RequestTrace {
  /** 32 lower-case hex digits. */
  readonly traceId: string;
  /** 16 lower-case hex digits. */
  readonly spanId: string;
  /** W3C `traceparent` naming this span as parent: what a gateway sends upstream. */
  readonly traceparent: string;
  /** Records the decision on the span (the gauntlet steps as events); must not throw. */
  decision(decision: AuthorizationDecision): void;
}

/** The gauntlet step names, in the order they run (DESIGN.md: The request gauntlet). */
export type GauntletStep = 'shape' | 'token' | 'audience' | 'proof' | 'binding' | 'scope' | 'revocation' | 'policy' | 'checks' | 'replay';

/** One authorization decision. Carries no token, proof or secret: `jti` is the token's id only. */
export interface AuthorizationDecision {
  readonly outcome: 'allow' | 'deny';
  /** `ok`, or the wire error code (`invalid_token`, `insufficient_scope`, …) or `no_credentials`. */
  readonly reason: string;
  /** The HTTP status answered (200 stands for "passed on" when allowed). */
  readonly status: number;
  /** Canonical URI of the resource that decided. */
  readonly resource: string;
  /** JSON-RPC methods of the request, in order, without duplicates. */
  readonly methods: readonly string[];
  /** Tools a `tools/call` names. */
  readonly tools: readonly string[];
  /** Known once the access token verified. */
  readonly clientId?: string;
  readonly subject?: string;
  /** RFC 7638 thumbprint of the key the token is bound to. */
  readonly jkt?: string;
  /** The access token's `jti` (the audit trail records only its hash). */
  readonly jti?: string;
  readonly scheme?: 'Bearer' | 'DPoP';
  /** Steps passed, with the time each ended (ms, `performance.now()`), the failing one last when denied. */
  readonly steps: ReadonlyArray<readonly [GauntletStep, number]>;
  /** When the gauntlet started (ms, `performance.now()`). */
  readonly startedAt: number;
  readonly context?: RequestContext;
}

/** Told every decision; must not throw (what it throws is ignored). */
export type DecisionListener = (decision: AuthorizationDecision) => void;

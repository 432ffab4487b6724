/**
 * What the gauntlet learns about a request as it runs — the steps entered, the caller once the
 * token verified — turned at the end into the {@link AuthorizationDecision} that `onDecision` is
 * told. Only created when someone listens, so the gauntlet without listeners pays nothing.
 */
import type { AuthorizationDecision, GauntletStep } from '../oauth/authorization-decision.js';
import type { AccessTokenClaims } from '../jose/verify-access-token.js';
import type { RpcView } from './json-rpc.js';
import type { VerifyRequest, VerifyResult } from './types.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export class DecisionProgress {
  readonly startedAt = performance.now();
  readonly #steps: Array<readonly [GauntletStep, number]> = [];
  #current: GauntletStep | undefined;
  claims: AccessTokenClaims | undefined;
  scheme: 'Bearer' | 'DPoP' | undefined;
  rpc: RpcView | undefined;

  /** Starts `step`, ending the one before. */
  enter(step: GauntletStep): void {
    if (this.#current !== undefined) this.#steps.push([this.#current, performance.now()]);
    this.#current = step;
  }

  /** The decision, for `result` of `request` at `resource`. */
  decide(resource: string, request: VerifyRequest, result: VerifyResult): AuthorizationDecision {
    if (this.#current !== undefined) this.#steps.push([this.#current, performance.now()]);
    this.#current = undefined;
    const methods: string[] = [];
    for (const message of this.rpc?.messages ?? []) {
      if (message.kind !== 'response' && !methods.includes(message.method)) methods.push(message.method);
    }
    // Assigned member by member: conditional spreads made up to five throw-away objects per decision.
    const decision: Mutable<AuthorizationDecision> = {
      outcome: result.ok ? 'allow' : 'deny',
      reason: result.ok ? 'ok' : result.error,
      status: result.ok ? 200 : result.status,
      resource,
      methods,
      tools: this.rpc?.toolNames ?? [],
      steps: this.#steps,
      startedAt: this.startedAt,
    };
    const claims = this.claims;
    if (claims !== undefined) {
      decision.clientId = claims.clientId;
      if (claims.sub !== undefined) decision.subject = claims.sub;
      if (claims.jkt !== undefined) decision.jkt = claims.jkt;
      if (claims.jti !== undefined) decision.jti = claims.jti;
    }
    if (this.scheme !== undefined) decision.scheme = this.scheme;
    if (request.context !== undefined) decision.context = request.context;
    return decision;
  }
}

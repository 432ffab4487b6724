import { SUPPORTED_ALGORITHMS } from '../../jose/algorithms.js';
import { DEFAULTS } from '../../oauth/defaults.js';
import type { AsContext } from '../context.js';
import type { AuthorizationServerOptions } from '../options.js';
import type { AssertionRules } from './verify-assertion.js';

/**
 * Checks `options.assertions` at start-up (asymmetric algorithms Warden verifies; a lifetime cap
 * from 10 s to 1 h), so a wrong value fails before the first request.
 *
 * @throws {TypeError} Saying what to change.
 */
export function checkAssertionOptions(options: AuthorizationServerOptions): void {
  const given = options.assertions;
  if (given === undefined) return;
  if (given.algorithms !== undefined) {
    if (!Array.isArray(given.algorithms) || given.algorithms.length === 0) throw new TypeError('createAuthorizationServer: assertions.algorithms must list at least one algorithm');
    for (const alg of given.algorithms) {
      if (!SUPPORTED_ALGORITHMS.includes(alg)) throw new TypeError(`createAuthorizationServer: assertions.algorithms: ${JSON.stringify(alg)} is not an asymmetric algorithm Warden verifies (${SUPPORTED_ALGORITHMS.join(', ')})`);
    }
  }
  const max = given.maxLifetimeSeconds;
  if (max !== undefined && (!Number.isSafeInteger(max) || max < 10 || max > 3600)) throw new TypeError('createAuthorizationServer: assertions.maxLifetimeSeconds must be a whole number from 10 to 3600');
}

/** The rules every assertion at this server follows, for one kind (`what`, accepted `typ`s). */
export function assertionRules(ctx: AsContext, what: string, types: ReadonlySet<string | undefined>): AssertionRules {
  const given = ctx.options.assertions;
  return {
    what,
    algorithms: new Set(given?.algorithms ?? DEFAULTS.assertions.algorithms),
    types,
    audience: ctx.issuer,
    now: ctx.now(),
    skewSeconds: ctx.skew,
    maxLifetimeSeconds: given?.maxLifetimeSeconds ?? DEFAULTS.assertions.maxLifetimeSeconds,
    maxJtiLength: DEFAULTS.assertions.maxJtiLength,
    maxLength: DEFAULTS.assertions.maxLength,
  };
}

/** The assertion signature algorithms this server accepts, for metadata (RFC 8414 §2 `*_auth_signing_alg_values_supported`). */
export function assertionAlgorithms(ctx: AsContext): string[] {
  return [...(ctx.options.assertions?.algorithms ?? DEFAULTS.assertions.algorithms)];
}

/**
 * The flaws the gallery server can be started with — one at a time — and the finding id
 * `warden audit` must report for each (and nothing else).
 */
export const FLAWS = {
  // discovery
  'notifications-unauthenticated': 'discovery.unauthenticated-access',
  'challenge-without-resource-metadata': 'discovery.challenge-no-resource-metadata',
  'prm-resource-mismatch': 'discovery.prm-resource-mismatch',
  'issuer-mismatch': 'discovery.as-issuer-mismatch',
  'no-dpop-challenge': 'discovery.dpop-challenge-missing',
  // transport
  'credentialed-cors': 'transport.cors-credentialed',
  'dns-rebinding': 'transport.dns-rebinding',
  // tokens
  'token-in-query': 'tokens.token-in-query',
  'token-in-body': 'tokens.token-in-body',
  'signature-not-verified': 'tokens.signature-not-verified',
  'alg-none': 'tokens.alg-none',
  'alg-confusion': 'tokens.alg-confusion',
  'embedded-jwk': 'tokens.untrusted-key',
  'no-audience-check': 'tokens.audience-not-checked',
  'typ-not-checked': 'tokens.typ-not-checked',
  // DPoP
  'bearer-for-bound': 'dpop.bound-token-as-bearer',
  'replay-accepted': 'dpop.proof-replay',
  'htm-not-checked': 'dpop.htm-not-checked',
  'htu-not-checked': 'dpop.htu-not-checked',
  'htu-from-host': 'dpop.htu-from-host',
  'ath-not-checked': 'dpop.ath-not-checked',
  'iat-not-checked': 'dpop.iat-not-checked',
  'binding-not-checked': 'dpop.binding-not-checked',
  'dpop-required-not-enforced': 'dpop.required-not-enforced',
  // scopes and sessions
  'scopes-not-enforced': 'scopes.not-enforced',
  'no-step-up-challenge': 'scopes.step-up-challenge',
  'session-not-bound': 'sessions.not-bound',
  // authorization server
  'auto-approve': 'as.authorize-without-user',
  'pkce-plain': 'as.pkce-plain-accepted',
  'pkce-missing': 'as.pkce-missing-accepted',
  'redirect-prefix-match': 'as.redirect-uri-near-miss',
  'open-machine-registration': 'as.registration-machine-grant',
  'dangerous-redirect-registration': 'as.registration-dangerous-redirect',
  'code-reuse': 'as.code-reuse',
  'refresh-reuse': 'as.refresh-reuse',
  'no-iss-in-response': 'as.authorization-response-iss',
} as const;

/** One flaw of the gallery. */
export type Flaw = keyof typeof FLAWS;

/** Flaws that only exist on a server whose metadata requires DPoP-bound tokens. */
export const DPOP_REQUIRED_FLAWS: readonly Flaw[] = ['no-dpop-challenge', 'dpop-required-not-enforced'];

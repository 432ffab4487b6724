export { createResourceServer, type ResourceServer } from './create-resource-server.js';
export type { AuthenticatedHandler, AuthenticatedRequest } from './adapters/node.js';
export type { ExpressLikeRequest, NextFunction } from './adapters/express.js';
export type { WardenHonoEnv } from './adapters/hono.js';
export type { ProtectedResourceMetadata } from './metadata.js';
export { PolicyDeniedError } from './policy/policy-denied-error.js';
export { createRateLimitCheck, type RateLimitCheckOptions } from './rate-limit/rate-limit-check.js';
export type {
  AsymmetricAlg,
  DpopMode,
  PolicyOptions,
  PolicyRuleOptions,
  PublicJwk,
  ResourceServerOptions,
  ScopePolicy,
  TrustOptions,
  VerifyRequest,
  VerifyResult,
  WardenAuthInfo,
} from './types.js';

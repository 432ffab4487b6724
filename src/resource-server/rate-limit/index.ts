export { createRateLimitCheck, type RateLimitCheckOptions } from './rate-limit-check.js';
export { rateLimitFields, type AppliedLimit } from '../../oauth/rate-limit-fields.js';

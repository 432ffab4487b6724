/**
 * `resources[].rateLimit` and `authorizationServer.rateLimit`: token buckets, `{ rate, burst }`
 * — `rate` requests per second refill the bucket, `burst` is how many may come back to back.
 */
import { z } from 'zod';

/** `{ rate, burst }`. */
export const bucketSchema = z
  .object({
    rate: z.number().positive('must be a positive number of requests per second (0.5 = one every 2 s)').finite(),
    burst: z.number().int('must be a whole number of requests').min(1, 'must allow at least 1 request'),
  })
  .strict('allowed keys: rate, burst');

/** `resources[].rateLimit`: per OAuth client and per user (`iss` + `sub`), for this resource. */
export const resourceRateLimitSchema = z
  .object({ perClient: bucketSchema.optional(), perSubject: bucketSchema.optional() })
  .strict('allowed keys: perClient, perSubject')
  .refine((v) => v.perClient !== undefined || v.perSubject !== undefined, 'set perClient and/or perSubject (or remove rateLimit)');

/** `authorizationServer.rateLimit`: the token endpoint, per client. */
export const authorizationServerRateLimitSchema = z
  .object({ tokenEndpoint: z.object({ perClient: bucketSchema }).strict('allowed keys: perClient') })
  .strict('allowed keys: tokenEndpoint');

/**
 * The shape of `warden.yaml` / `warden.json`, as a strict zod schema: every object rejects keys
 * it does not know, so a typo fails at start-up instead of silently doing nothing. The schema
 * validates; {@link ./defaults.ts} fills in what was left out; {@link ./load.ts} reads files,
 * applies environment overrides and turns zod issues into messages that say what to change.
 */
import { z } from 'zod';
import { validateRedirectUri } from '../oauth/redirect-uri.js';

import type { ThrottlePolicy } from '../stores/authorization-server-contracts.js';
import { DEFAULTS } from '../oauth/defaults.js';
import { ASYMMETRIC_ALGORITHMS } from '../jose/algorithms.js';
import { unforwardableHeader } from '../gateway/forward-headers.js';
import { policySchema } from './policy-schema.js';
import { authorizationServerRateLimitSchema, resourceRateLimitSchema } from './rate-limit-schema.js';

/** `z.object(shape).strict()` whose unknown-key issue lists the keys that are allowed. */
function strictObject<T extends z.ZodRawShape>(shape: T) {
  return z.object(shape).strict(`allowed keys: ${Object.keys(shape).join(', ')}`);
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

interface UrlRule {
  /** Extra schemes besides http(s) (e.g. `redis:`). When set, http(s) are not accepted. */
  schemes?: readonly string[];
  /** http only for loopback hosts: keys and secrets fetched over the network need TLS. */
  httpsUnlessLoopback?: boolean;
  /** Reject a query string (base URLs that paths get appended to). */
  noQuery?: boolean;
  /** The value may hold credentials (database URLs): never echo it. */
  secret?: boolean;
}

/** A string that parses as an absolute URL obeying `rule`; the message says which rule broke. */
function urlString(rule: UrlRule = {}) {
  return z.string().superRefine((value, ctx) => {
    // Database URLs may embed a password: describe them without quoting.
    const shown = rule.secret ? 'the URL' : JSON.stringify(value);
    const fail = (message: string) => ctx.addIssue({ code: z.ZodIssueCode.custom, message });
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      fail(rule.secret ? 'expected an absolute URL' : `expected an absolute URL, got ${shown}`);
      return;
    }
    const schemes = rule.schemes ?? ['http:', 'https:'];
    if (!schemes.includes(url.protocol)) {
      const names = schemes.map((s) => s.slice(0, -1)).join(' or ');
      fail(rule.secret ? `expected a URL with scheme ${names}` : `expected a URL with scheme ${names}, got ${shown}`);
      return;
    }
    if (url.hash !== '' || value.includes('#')) fail(`remove the fragment (#...) from ${shown}`);
    if (rule.noQuery && (url.search !== '' || value.includes('?'))) fail(`remove the query (?...) from ${shown}`);
    if (!rule.secret && (url.username !== '' || url.password !== '')) {
      fail(`remove the user name and password from ${shown}`);
    }
    if (rule.httpsUnlessLoopback && url.protocol === 'http:' && !LOOPBACK_HOSTS.has(url.hostname)) {
      fail(`use https for ${shown} (plain http is accepted only for localhost)`);
    }
  });
}

const nonEmpty = z.string().min(1, 'must not be empty');

/** RFC 6749 §3.3 scope-token: printable ASCII except space, `"` and `\`. */
const scopeToken = z
  .string()
  .regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/, 'expected a scope token (no spaces or quotes); list scopes as separate items');

const scopePolicySchema = strictObject({
  default: z.array(scopeToken).optional(),
  tools: z.record(nonEmpty, z.array(scopeToken)).optional(),
  /** Human words per scope, shown next to its name on the consent page and in the console. */
  descriptions: z.record(z.string(), z.string()
    .min(1, 'must not be empty')
    .max(200, 'at most 200 characters')
    .regex(/^[^\x00-\x1f\x7f-\x9f]*$/, 'no control characters (line breaks, tabs, escapes)')).optional(),
}).superRefine((policy, ctx) => {
  const known = new Set([...(policy.default ?? []), ...Object.values(policy.tools ?? {}).flat()]);
  for (const scope of Object.keys(policy.descriptions ?? {})) {
    if (!known.has(scope)) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['descriptions', scope], message: `describes a scope this resource does not know (known: ${[...known].join(', ') || 'none'}); list it in scopes.default or scopes.tools` });
    }
  }
});

/** Members that only private or symmetric JWKs carry (RFC 7518 §6). */
const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;

const publicJwkSchema = z
  .object({ kty: z.enum(['EC', 'RSA', 'OKP']) })
  .passthrough()
  .superRefine((jwk, ctx) => {
    for (const member of PRIVATE_JWK_MEMBERS) {
      if (member in jwk) {
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: [member],
          message: 'private key material: give only the public key here',
        });
      }
    }
  });

const SLUG = /^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/;
const PATH_CHARS = /^[A-Za-z0-9\-._~!$&'()*+,;=:@%/]+$/;
/** Paths the stack answers itself; a resource there would be shadowed or would shadow them. */
const RESERVED_PATHS = ['/.well-known', '/healthz', '/readyz'] as const;

/** A path the stack serves something at (a resource, the metrics): plain, normalised, not reserved. */
const servedPath = (what: string, example: string) => z.string().superRefine((value, ctx) => {
  const fail = (message: string) => ctx.addIssue({ code: z.ZodIssueCode.custom, message });
  if (!value.startsWith('/')) return fail(`must start with "/", got ${JSON.stringify(value)}`);
  if (value.includes('?') || value.includes('#')) return fail(`must be a plain path without "?" or "#", got ${JSON.stringify(value)}`);
  if (value === '/') return fail(`give ${what} its own path, such as ${JSON.stringify(example)}`);
  if (!PATH_CHARS.test(value)) return fail(`contains characters that are not allowed in a URL path: ${JSON.stringify(value)}`);
  if (value.endsWith('/')) return fail(`remove the trailing "/" (use ${JSON.stringify(value.replace(/\/+$/, ''))})`);
  const segments = value.split('/').slice(1);
  if (segments.some((s) => s === '' || s === '.' || s === '..')) {
    return fail(`must not contain empty, "." or ".." segments, got ${JSON.stringify(value)}`);
  }
  for (const reserved of RESERVED_PATHS) {
    if (value === reserved || value.startsWith(`${reserved}/`)) return fail(`${reserved} is reserved for Warden itself`);
  }
});

const resourcePath = servedPath('the resource', '/mcp');

/** Upstreams Warden runs in-process. */
export const BUILTIN_UPSTREAMS = ['builtin:demo'] as const;

const upstream = z.string().superRefine((value, ctx) => {
  if (value.startsWith('builtin:')) {
    if (!(BUILTIN_UPSTREAMS as readonly string[]).includes(value)) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        message: `unknown built-in upstream ${JSON.stringify(value)} (known: ${BUILTIN_UPSTREAMS.join(', ')})`,
      });
    }
    return;
  }
  const result = urlString().safeParse(value);
  if (!result.success) {
    ctx.addIssue({
      code: z.ZodIssueCode.custom,
      message: `expected ${BUILTIN_UPSTREAMS.join(' or ')} or an http(s) URL of the MCP server to proxy, got ${JSON.stringify(value)}`,
    });
  }
});

const trustSchema = strictObject({
  issuer: urlString(),
  jwksUri: urlString({ httpsUnlessLoopback: true }).optional(),
  jwks: strictObject({ keys: z.array(publicJwkSchema).min(1, 'list at least one key') }).optional(),
  introspection: strictObject({
    endpoint: urlString({ httpsUnlessLoopback: true }),
    clientId: nonEmpty,
    clientSecret: nonEmpty,
  }).optional(),
  algorithms: z.array(z.enum(ASYMMETRIC_ALGORITHMS)).min(1).optional(),
}).superRefine((trust, ctx) => {
  // Introspection may come with local keys (JWTs verified locally, opaque tokens introspected);
  // otherwise exactly one key source.
  const sources = (['jwksUri', 'jwks', 'introspection'] as const).filter((k) => trust[k] !== undefined);
  const ok = sources.length === 1 || (sources.length === 2 && trust.introspection !== undefined && trust.jwks !== undefined);
  if (!ok) {
    ctx.addIssue({
      code: z.ZodIssueCode.custom,
      message:
        sources.length === 0
          ? 'say where token keys come from: set one of jwksUri, jwks or introspection'
          : `set only one of jwksUri, jwks or introspection (introspection may be combined with jwks), got ${sources.join(' + ')}`,
    });
  }
});

const pathRoutedResource = strictObject({
  name: z.string().regex(SLUG, 'expected a slug: lowercase letters, digits and "-", at most 64 characters'),
  /** Served under `publicUrl` at this path (canonical URI = publicUrl + path); or give `url`. */
  path: resourcePath,
  upstream,
  dpop: z.enum(['disabled', 'allowed', 'required']).optional(),
  scopes: scopePolicySchema.optional(),
  /** CEL rules per resource and per tool, after scopes (see policy-schema.ts). */
  policy: policySchema.optional(),
  /** Token buckets per client and per user for this resource (see rate-limit-schema.ts). */
  rateLimit: resourceRateLimitSchema.optional(),
  trust: trustSchema.optional(),
  tokenLifetimeSeconds: z.number().int().min(1).max(86_400).optional(),
  /**
   * Ids of `authorizationServer.clients` (confidential) that are servers of this resource: they
   * may introspect its tokens at `/introspect` (RFC 7662 §4). Default none.
   */
  introspectionClients: z.array(nonEmpty).optional(),
  /**
   * Gateway resources: request headers to forward beyond the MCP transport's own (lower-case
   * names). Credentials, hop-by-hop headers and the ones Warden writes cannot be named.
   */
  forwardHeaders: z
    .array(z.string().superRefine((name, ctx) => {
      const problem = unforwardableHeader(name);
      if (problem !== undefined) ctx.addIssue({ code: z.ZodIssueCode.custom, message: `${JSON.stringify(name)} ${problem}` });
    }))
    .optional(),
  /**
   * Gateway resources: how the upstream learns who calls. `token` (the default when this stack's
   * authorization server issues the resource's tokens): a short-lived JWT from this stack's issuer
   * via token exchange (RFC 8693), `aud` = `audience` (default: the upstream URL), which the
   * upstream verifies; `headers` (the default otherwise): trusted `X-Warden-*` headers, for a
   * private network only; `none`: nothing.
   */
  upstreamAuth: strictObject({
    kind: z.enum(['token', 'headers', 'none']),
    audience: urlString({ noQuery: true }).optional(),
    tokenLifetimeSeconds: z.number().int().min(1).max(60).optional(),
  }).optional(),
  /**
   * Instead of `path`: the server's own canonical URI, routed by host (and path), e.g.
   * `https://files.mcp.example.com/` — requests whose `Host` is that host go to this server.
   */
  url: urlString({ noQuery: true }).optional(),
});

/** A server routed by host: `url` instead of `path`. */
const hostRoutedResource = pathRoutedResource.extend({
  path: z.unknown().refine((v) => v === undefined, 'give path or url, not both'),
  url: urlString({ noQuery: true }),
}).strict(`allowed keys: ${Object.keys(pathRoutedResource.shape).join(', ')}`);

/**
 * One `resources[]` entry: path-routed (`path`, under publicUrl) or host-routed (`url`). Each is
 * checked by its own schema, so every problem is still reported at once with its key path.
 */
export const resourceSchema = z.any().transform((value: unknown, ctx) => {
  const hostRouted = value !== null && typeof value === 'object' && !Array.isArray(value) && (value as { url?: unknown }).url !== undefined;
  const result = hostRouted ? hostRoutedResource.safeParse(value) : pathRoutedResource.safeParse(value);
  if (!result.success) {
    for (const issue of result.error.issues) ctx.addIssue(issue as z.IssueData);
    return z.NEVER;
  }
  return result.data as z.infer<typeof pathRoutedResource> | z.infer<typeof hostRoutedResource>;
});

const port = z.number().int().min(0).max(65_535);

/** Grant types a configured client may be registered for (those the token endpoint implements). */
export const CLIENT_GRANT_TYPES = ['authorization_code', 'refresh_token', 'client_credentials', 'urn:ietf:params:oauth:grant-type:token-exchange', 'urn:ietf:params:oauth:grant-type:jwt-bearer', 'urn:ietf:params:oauth:grant-type:device_code'] as const;

/** Client ids the demo data of `warden start` uses; reserved while `authorizationServer.demo` is on. */
export const DEMO_CLIENT_IDS = ['demo-service', 'demo-cli'] as const;

/** Printable ASCII without spaces, quotes or backslashes: safe in logs, HTML and Basic auth (after encoding). */
const CLIENT_ID = /^[\x21\x23-\x5b\x5d-\x7e]{1,255}$/;

const redirectUri = z.string().superRefine((value, ctx) => {
  try {
    validateRedirectUri(value);
  } catch (error) {
    // The validator's message names the rule ("redirect URI must not contain a fragment").
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: `${(error as Error).message}, got ${JSON.stringify(value)}` });
  }
});

/** RFC 8628: a user-facing grant, open to public clients like the code grant. */
const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

const clientSchema = strictObject({
  clientId: z
    .string()
    .regex(CLIENT_ID, 'expected 1-255 visible ASCII characters without spaces, quotes or backslashes')
    .refine((id) => !/^https?:/i.test(id), 'must not be a URL: URL client ids are Client ID Metadata Documents, fetched rather than configured'),
  clientSecret: z.string().min(32, 'must be at least 32 characters (generate one with `openssl rand -base64 32`)').optional(),
  redirectUris: z.array(redirectUri).optional(),
  /** Empty: the client obtains no tokens (e.g. a resource server that only introspects). */
  grantTypes: z.array(z.enum(CLIENT_GRANT_TYPES)).optional(),
  clientName: z.string().min(1, 'must not be empty').max(200, 'must be at most 200 characters').optional(),
  scope: z
    .string()
    .regex(/^[\x21\x23-\x5b\x5d-\x7e]+(?: [\x21\x23-\x5b\x5d-\x7e]+)*$/, 'expected scope tokens separated by single spaces (e.g. "mcp:tools mcp:admin")')
    .optional(),
  tokenEndpointAuthMethod: z.enum(['none', 'client_secret_basic', 'client_secret_post', 'private_key_jwt']).optional(),
  /** private_key_jwt (RFC 7523 §2.2): the client's public keys, inline or by URL. */
  jwks: strictObject({ keys: z.array(publicJwkSchema).min(1, 'list at least one key') }).optional(),
  jwksUri: urlString({ httpsUnlessLoopback: true }).optional(),
  /** RFC 9126 §6: this client's authorization requests must be pushed to /par first. */
  requirePushedAuthorizationRequests: z.boolean().optional(),
}).superRefine((client, ctx) => {
  const fail = (path: string, message: string) => ctx.addIssue({ code: z.ZodIssueCode.custom, path: [path], message });
  const keyed = client.jwks !== undefined || client.jwksUri !== undefined;
  const method = client.tokenEndpointAuthMethod ?? (keyed ? 'private_key_jwt' : client.clientSecret === undefined ? 'none' : 'client_secret_basic');
  if (method === 'private_key_jwt') {
    if (client.jwks !== undefined && client.jwksUri !== undefined) fail('jwksUri', 'set only one of jwks and jwksUri');
    if (!keyed) fail('jwks', 'private_key_jwt needs the client\'s public keys: set jwks or jwksUri');
    if (client.clientSecret !== undefined) fail('clientSecret', 'a private_key_jwt client has no secret: remove clientSecret');
  } else if (keyed) fail(client.jwks !== undefined ? 'jwks' : 'jwksUri', `keys are for tokenEndpointAuthMethod private_key_jwt, not ${method}`);
  if (method === 'none' && client.clientSecret !== undefined) {
    fail('clientSecret', 'a public client (tokenEndpointAuthMethod: none) has no secret: remove clientSecret or choose client_secret_basic');
  }
  if (method !== 'none' && method !== 'private_key_jwt' && client.clientSecret === undefined) fail('clientSecret', `required for tokenEndpointAuthMethod ${method}`);
  // Same defaults as the authorization server applies to configured clients.
  const grants = client.grantTypes ?? (client.clientSecret === undefined && method !== 'private_key_jwt' ? ['authorization_code', 'refresh_token'] : ['client_credentials']);
  // jwt-bearer: a workload's platform token identifies it (SEP-1933), no secret needed.
  if (method === 'none' && grants.some((g) => g !== 'authorization_code' && g !== 'refresh_token' && g !== 'urn:ietf:params:oauth:grant-type:jwt-bearer' && g !== DEVICE_GRANT)) {
    fail('grantTypes', 'a public client may use only authorization_code, refresh_token, the device grant and jwt-bearer (workloads; the others need client authentication)');
  }
  if (grants.includes('authorization_code') && (client.redirectUris ?? []).length === 0) {
    fail('redirectUris', 'list at least one redirect URI for the authorization_code grant');
  }
  if (grants.includes('refresh_token') && !grants.includes('authorization_code') && !grants.includes(DEVICE_GRANT)) {
    fail('grantTypes', 'refresh_token needs authorization_code or the device grant (refresh tokens are issued only by those)');
  }
});

const seconds = (min: number, max: number) => z.number().int().min(min).max(max);

/** One upstream OpenID provider (`authorizationServer.identityProviders[]`). */
const identityProviderSchema = strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,31}$/, 'expected 1-32 lower-case letters, digits, "_" or "-"'),
  kind: z.literal('oidc').optional(),
  name: z.string().min(1).max(100).optional(),
  issuer: z.string().url('expected the provider\'s issuer URL'),
  clientId: z.string().min(1),
  clientSecret: z.string().min(1, 'must not be empty').optional(),
  /** private_key_jwt with Warden's own signing key (register {issuer}/jwks at the provider) instead of a secret. */
  privateKeyJwt: z.boolean().optional(),
  scopes: z.array(z.string().min(1)).refine((s) => s.includes('openid'), 'must include "openid"').optional(),
  claims: strictObject({ subject: z.string().min(1).optional(), email: z.string().min(1).optional(), groups: z.string().min(1).optional() }).optional(),
}).superRefine((p, ctx) => {
  if ((p.clientSecret !== undefined) === (p.privateKeyJwt === true)) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['clientSecret'], message: 'set clientSecret or privateKeyJwt: true (how Warden authenticates at the provider), not both' });
  }
});

/**
 * A throttle (see `ThrottlePolicy`): every key optional over `defaults`; the merged values must
 * keep forgetAfterSeconds ≥ maxDelaySeconds ≥ baseDelaySeconds.
 */
const throttleSchema = (defaults: Readonly<ThrottlePolicy>) =>
  strictObject({
    free: z.number().int().min(0).max(1_000_000).optional(),
    baseDelaySeconds: seconds(1, 86_400).optional(),
    maxDelaySeconds: seconds(1, 86_400).optional(),
    forgetAfterSeconds: seconds(1, 366 * 86_400).optional(),
  }).superRefine((given, ctx) => {
    const merged = { ...defaults, ...given };
    if (merged.maxDelaySeconds < merged.baseDelaySeconds) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['maxDelaySeconds'], message: `must be at least baseDelaySeconds (${merged.baseDelaySeconds})` });
    }
    if (merged.forgetAfterSeconds < merged.maxDelaySeconds) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['forgetAfterSeconds'],
        message: `must be at least maxDelaySeconds (${merged.maxDelaySeconds}), or waiting out the delay would forget the failures`,
      });
    }
  });

/** An issuer of jwt-bearer assertions (RFC 7523 §2.1) and where its keys are. */
const assertionIssuerShape = {
  id: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'expected 1-64 letters, digits, ".", "_" or "-"'),
  issuer: z.string().min(1, 'must be the issuer identifier its tokens carry in "iss"'),
  jwksUri: urlString({ httpsUnlessLoopback: true }).optional(),
  jwks: strictObject({ keys: z.array(publicJwkSchema).min(1, 'list at least one key') }).optional(),
};
const oneKeySource = (entry: { jwks?: unknown; jwksUri?: unknown }, ctx: z.RefinementCtx) => {
  if ((entry.jwks === undefined) === (entry.jwksUri === undefined)) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['jwks'], message: 'set exactly one of jwks and jwksUri' });
};

/** The jwt-bearer grant: enterprise IdPs (SEP-990 ID-JAG) and workload trust domains (SEP-1933). */
const jwtBearerSchema = strictObject({
  enterpriseIdps: z.array(strictObject(assertionIssuerShape).superRefine(oneKeySource)).optional(),
  workloads: z
    .array(
      strictObject({
        ...assertionIssuerShape,
        /** The aud its tokens carry for Warden; default the issuer. */
        audience: z.string().min(1).optional(),
        maxLifetimeSeconds: seconds(60, 7 * 86_400).optional(),
        rules: z
          .array(strictObject({ subject: z.string().min(1).refine((v) => v !== '*', 'must be narrower than "*"'), clientId: z.string().min(1) }))
          .min(1, 'map at least one subject pattern to a client'),
      }).superRefine(oneKeySource),
    )
    .optional(),
});

const authorizationServerSchema = strictObject({
  enabled: z.boolean().optional(),
  secret: z.string().min(32, 'must be at least 32 characters (a random secret shared by every instance; `openssl rand -base64 48`)').optional(),
  lifetimes: strictObject({
    accessTokenSeconds: seconds(1, 86_400).optional(),
    refreshTokenSeconds: seconds(60, 366 * 86_400).optional(),
    codeSeconds: seconds(1, 600).optional(),
    interactionSeconds: seconds(30, 86_400).optional(),
  }).optional(),
  refreshGraceSeconds: seconds(0, 300).optional(),
  dpop: strictObject({ requireNonce: z.boolean().optional() }).optional(),
  registration: strictObject({
    enabled: z.boolean().optional(),
    /** Registrations per source address (ThrottlePolicy); beyond: 429 + Retry-After. */
    throttle: throttleSchema(DEFAULTS.registration.throttle).optional(),
    /** A registered client never used (no authorization completed, no token) this long after registering expires. */
    expireUnusedAfterSeconds: seconds(60, 366 * 86_400).optional(),
    /** Self-registered private_key_jwt clients may use client_credentials (resource default scopes only). */
    clientCredentials: z.boolean().optional(),
  }).optional(),
  /** The device authorization grant (RFC 8628). */
  deviceGrant: strictObject({
    enabled: z.boolean().optional(),
    codeSeconds: seconds(60, 3600).optional(),
    intervalSeconds: seconds(1, 60).optional(),
    /** Wrong user codes per source (ThrottlePolicy); beyond: 429 + Retry-After. */
    userCodeThrottle: throttleSchema(DEFAULTS.deviceGrant.userCodeThrottle).optional(),
  }).optional(),
  clientMetadataDocuments: strictObject({
    enabled: z.boolean().optional(),
    allowPrivateNetworks: z.boolean().optional(),
    /** A failed fetch is remembered this long (the client id is unknown meanwhile, without a fetch). */
    failureCacheSeconds: seconds(0, 3600).optional(),
    /** Fetches in flight per instance; beyond: 503 + Retry-After. */
    maxConcurrentFetches: z.number().int().min(1).max(1024).optional(),
    /** Fetches per host (with its registrable domain's other subdomains) per minute per instance; beyond: 503 + Retry-After. */
    fetchesPerHostPerMinute: z.number().int().min(1).max(10_000).optional(),
    /** An expired document is served this long past expiry while a refetch is refused or fails transiently; 0: off. */
    maxStaleSeconds: seconds(0, 7 * 86_400).optional(),
  }).optional(),
  clients: z.array(clientSchema).optional(),
  jwtBearer: jwtBearerSchema.optional(),
  /** Pushed authorization requests (RFC 9126). */
  par: strictObject({ required: z.boolean().optional(), requestUriSeconds: seconds(5, 600).optional() }).optional(),
  /** Upstream OpenID providers users sign in at (register {issuer}/federation/callback there). */
  identityProviders: z.array(identityProviderSchema).optional(),
  login: strictObject({
    title: z.string().min(1, 'must not be empty').max(100, 'must be at most 100 characters').optional(),
    /** false: only the identity providers sign users in. */
    localUsers: z.boolean().optional(),
    maxConcurrentPasswordChecks: z.number().int().min(1).max(1024).optional(),
    throttle: strictObject({
      perSource: throttleSchema(DEFAULTS.login.perSource).optional(),
      perAccount: throttleSchema(DEFAULTS.login.perAccount).optional(),
      /** One source across all accounts, before a password check is started. */
      perSourceAllAccounts: throttleSchema(DEFAULTS.login.perSourceAllAccounts).optional(),
      /** A browser with a device cookie for the account: instead of every other throttle. */
      perDevice: throttleSchema(DEFAULTS.login.perDevice).optional(),
    }).optional(),
    /** Device cookies (OWASP): how long one vouches (browsers cap cookies at 400 days), and the failures it may see before it stops. */
    deviceCookie: strictObject({
      lifetimeSeconds: seconds(3600, 400 * 86_400).optional(),
      maxFailures: z.number().int().min(1).max(1000).optional(),
    }).optional(),
  }).optional(),
  trustedProxyHops: z.number().int().min(0).max(DEFAULTS.limits.maxTrustedProxyHops).optional(),
  demo: z.boolean().optional(),
  /** Token buckets at the token endpoint, per client (see rate-limit-schema.ts). */
  rateLimit: authorizationServerRateLimitSchema.optional(),
}).superRefine((as, ctx) => {
  const seen = new Map<string, number>();
  (as.clients ?? []).forEach((client, index) => {
    const first = seen.get(client.clientId);
    if (first !== undefined) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['clients', index, 'clientId'],
        message: `duplicate client id ${JSON.stringify(client.clientId)} (also clients[${first}].clientId)`,
      });
    } else seen.set(client.clientId, index);
    if (as.demo === true && (DEMO_CLIENT_IDS as readonly string[]).includes(client.clientId)) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['clients', index, 'clientId'],
        message: `${JSON.stringify(client.clientId)} is reserved for the demo clients while demo is true: choose another id`,
      });
    }
  });
  const lifetimes = as.lifetimes;
  if (lifetimes?.accessTokenSeconds !== undefined && lifetimes.refreshTokenSeconds !== undefined && lifetimes.refreshTokenSeconds < lifetimes.accessTokenSeconds) {
    ctx.addIssue({
      code: z.ZodIssueCode.custom,
      path: ['lifetimes', 'refreshTokenSeconds'],
      message: 'must be at least accessTokenSeconds (a refresh token that dies before its access token refreshes nothing)',
    });
  }
});

/**
 * The validated configuration as written, before defaults: every key optional except each
 * resource's `name`, `path` and `upstream`.
 */
export const configSchema = strictObject({
  publicUrl: urlString({ noQuery: true }).optional(),
  /** Web origins (besides publicUrl's) whose pages may call the MCP endpoints (CORS; MCP: servers validate Origin). */
  allowedOrigins: z.array(urlString()).optional(),
  listen: strictObject({ host: nonEmpty.optional(), port: port.optional() }).optional(),
  issuer: urlString({ noQuery: true }).optional(),
  storage: z
    .discriminatedUnion('kind', [
      strictObject({ kind: z.literal('sqlite'), path: nonEmpty.optional() }),
      strictObject({
        kind: z.literal('postgres'),
        url: urlString({ schemes: ['postgres:', 'postgresql:'], secret: true }),
        // Lets several deployments (or test runs) share one database.
        schema: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be 1-63 lower-case letters, digits or _, not starting with a digit').optional(),
      }),
      strictObject({ kind: z.literal('memory') }),
    ])
    .optional(),
  replay: z
    .discriminatedUnion('kind', [
      strictObject({ kind: z.literal('memory'), capacity: z.number().int().min(1).optional() }),
      strictObject({ kind: z.literal('redis'), url: urlString({ schemes: ['redis:', 'rediss:'], secret: true }) }),
      strictObject({
        kind: z.literal('redis-cluster'),
        // Some nodes of the cluster (the rest are discovered); credentials, if any, alike in each.
        nodes: z
          .array(urlString({ schemes: ['redis:', 'rediss:'], secret: true }))
          .min(1, 'list at least one node of the cluster, e.g. [redis://10.0.0.5:6379, redis://10.0.0.6:6379]'),
        // Replicas that must hold a DPoP claim before it counts (WAIT): 0 accepts losing the
        // last claims of a master that crashes before replicating them.
        replicaAcks: z.number().int().min(0).max(5).optional(),
      }),
    ])
    .optional(),
  /** Clock skew tolerated on token and proof times (`exp`, `nbf`, `iat`), by resources and the authorization server. */
  clockSkewSeconds: z.number().int().min(0).max(300).optional(),
  nonce: strictObject({
    secret: z.string().min(32, 'must be at least 32 characters (a random secret shared by every instance)'),
    required: z.boolean().optional(),
  }).optional(),
  authorizationServer: authorizationServerSchema.optional(),
  resources: z.array(resourceSchema).optional(),
  /**
   * Administration: `clients` — the configured confidential clients (client_credentials, `scope:
   * warden:admin`) that may call the fleet admin API (`<publicUrl>/admin/api`); `subjects` — the
   * users (usernames of the sign-in page) let into the operator console at `/admin`; `console` —
   * run the console (default: when `subjects` are named), for users with the admin role too
   * (`warden users add --admin`).
   */
  admin: strictObject({
    clients: z.array(nonEmpty).min(1, 'name at least one admin client (a configured client with client_credentials)').optional(),
    subjects: z.array(z.string().min(1).max(256)).min(1, 'list at least one subject (a username of the sign-in page)').optional(),
    console: z.boolean().optional(),
  })
    .refine((admin) => admin.clients !== undefined || admin.subjects !== undefined || admin.console === true, 'name admin clients (the admin API), admin subjects (the console), or set console: true')
    .optional(),
  /** Prometheus exposition on the stack's port (unauthenticated: counts only, no identifiers). */
  metrics: strictObject({ enabled: z.boolean().optional(), path: servedPath('the metrics', '/metrics').optional() }).optional(),
  /** OpenTelemetry over OTLP/HTTP: a span per request, audit records as log records. */
  openTelemetry: strictObject({
    endpoint: urlString({ noQuery: true }),
    headers: z.record(z.string().regex(/^[!#$%&'*+.^`|~0-9A-Za-z-]+$/, 'must be a header name'), z.string()).optional(),
    serviceName: z.string().min(1).max(256).optional(),
    traces: z.boolean().optional(),
    logs: z.boolean().optional(),
  }).optional(),
  /** The audit trail (`warden.audit/1` records, hash-chained per instance): JSON lines on stdout or to a rotated file. */
  audit: strictObject({
    enabled: z.boolean().optional(),
    sink: z.enum(['stdout', 'file']).optional(),
    path: nonEmpty.optional(),
    maxBytes: z.number().int().min(1024).optional(),
    keep: z.number().int().min(1).max(1000).optional(),
    instance: z.string().min(1).max(256).optional(),
  })
    .superRefine((audit, ctx) => {
      if (audit.sink === 'file' && audit.path === undefined) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['path'], message: 'is required with sink: file (e.g. path: .warden/audit.log)' });
      if (audit.sink !== 'file' && (audit.path !== undefined || audit.maxBytes !== undefined || audit.keep !== undefined)) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['sink'], message: 'must be file when path, maxBytes or keep are set' });
      }
    })
    .optional(),
}).superRefine((config, ctx) => {
  const resources = config.resources ?? [];
  // The metrics path must not be, or sit under or above, a resource path: one would shadow the other.
  const metricsPath = config.metrics?.enabled === false ? undefined : (config.metrics?.path ?? '/metrics');
  if (metricsPath !== undefined) {
    resources.forEach((resource, index) => {
      if (resource.path === undefined) return;
      if (resource.path === metricsPath || resource.path.startsWith(`${metricsPath}/`) || metricsPath.startsWith(`${resource.path}/`)) {
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: config.metrics?.path === undefined ? ['resources', index, 'path'] : ['metrics', 'path'],
          message:
            config.metrics?.path === undefined
              ? `${JSON.stringify(resource.path)} collides with the metrics path "/metrics": choose another resource path, or set metrics.path (or metrics.enabled: false)`
              : `${JSON.stringify(metricsPath)} collides with resources[${index}].path ${JSON.stringify(resource.path)}: choose another metrics path`,
        });
      }
    });
  }
  const names = new Map<string, number>();
  resources.forEach((resource, index) => {
    const first = names.get(resource.name);
    if (first !== undefined) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['resources', index, 'name'],
        message: `duplicate name ${JSON.stringify(resource.name)} (also resources[${first}].name)`,
      });
    } else names.set(resource.name, index);
  });
  // A resource's introspecting servers are configured confidential clients of our own authorization server.
  const clients = new Map((config.authorizationServer?.clients ?? []).map((client) => [client.clientId, client]));
  (config.admin?.clients ?? []).forEach((clientId, i) => {
    const client = clients.get(clientId);
    if (client === undefined || client.clientSecret === undefined || !(client.grantTypes ?? ['client_credentials']).includes('client_credentials')) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['admin', 'clients', i], message: `${JSON.stringify(clientId)} must be a client of authorizationServer.clients with a clientSecret and the client_credentials grant` });
    }
  });
  resources.forEach((resource, index) => {
    (resource.introspectionClients ?? []).forEach((clientId, i) => {
      const fail = (message: string) => ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['resources', index, 'introspectionClients', i], message });
      const client = clients.get(clientId);
      if (resource.trust !== undefined) {
        fail('only for resources whose tokens this stack issues: remove trust, or remove introspectionClients (the other issuer decides who introspects)');
      } else if (client === undefined) {
        fail(`${JSON.stringify(clientId)} is not in authorizationServer.clients: add it there (with a clientSecret) or remove it here`);
      } else if (client.clientSecret === undefined && client.jwks === undefined && client.jwksUri === undefined) {
        fail(`${JSON.stringify(clientId)} is a public client: a resource server introspects with a clientSecret or private_key_jwt keys (RFC 7662 §2.1)`);
      }
    });
  });
  // A workload rule acts as a configured client that takes the jwt-bearer grant (SEP-1933).
  (config.authorizationServer?.jwtBearer?.workloads ?? []).forEach((domain, d) => {
    domain.rules.forEach((rule, r) => {
      const client = clients.get(rule.clientId);
      const grants = client?.grantTypes ?? [];
      if (client === undefined || !grants.includes('urn:ietf:params:oauth:grant-type:jwt-bearer')) {
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: ['authorizationServer', 'jwtBearer', 'workloads', d, 'rules', r, 'clientId'],
          message: `${JSON.stringify(rule.clientId)} must be in authorizationServer.clients with grantTypes including urn:ietf:params:oauth:grant-type:jwt-bearer`,
        });
      }
    });
  });
  // A resource path may not equal or sit under another's: routing serves a path and its sub-paths.
  resources.forEach((resource, index) => {
    for (let other = 0; other < index; other++) {
      // Host-routed servers (url) are compared by their canonical URIs, path-routed ones by path.
      const earlier = resources[other]!.path ?? resources[other]!.url!;
      const mine = resource.path ?? resource.url!;
      if ((resource.path === undefined) !== (resources[other]!.path === undefined)) continue;
      if (resource.path === undefined) {
        const [a, b] = [new URL(mine), new URL(earlier)];
        const [pa, pb] = [a.pathname.replace(/\/+$/, ''), b.pathname.replace(/\/+$/, '')];
        if (a.host === b.host && (pa === pb || pa.startsWith(`${pb}/`) || pb.startsWith(`${pa}/`))) {
          ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['resources', index, 'url'], message: `${JSON.stringify(mine)} overlaps resources[${other}].url ${JSON.stringify(earlier)}: one would shadow the other` });
        }
        continue;
      }
      if (resource.path === earlier) {
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: ['resources', index, 'path'],
          message: `duplicate path ${JSON.stringify(resource.path)} (also resources[${other}].path)`,
        });
      } else if (resource.path.startsWith(`${earlier}/`) || earlier.startsWith(`${resource.path}/`)) {
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: ['resources', index, 'path'],
          message: `${JSON.stringify(resource.path)} overlaps resources[${other}].path ${JSON.stringify(earlier)}: one would shadow the other`,
        });
      }
    }
  });
});

/** The configuration as written and validated, before defaults. */
export type ConfigInput = z.infer<typeof configSchema>;
/** The `metrics` block as written. */
export type MetricsInput = NonNullable<ConfigInput['metrics']>;
/** One `resources[]` entry as written. */
export type ResourceInput = NonNullable<ConfigInput['resources']>[number];
/** A `trust` block as written. */
export type TrustInput = NonNullable<ResourceInput['trust']>;
/** The `authorizationServer` block as written. */
export type AuthorizationServerInput = NonNullable<ConfigInput['authorizationServer']>;
/** One `authorizationServer.clients[]` entry as written. */
export type ClientInput = NonNullable<AuthorizationServerInput['clients']>[number];

import { timingSafeEqual } from 'node:crypto';
import { verifyProof } from '../dpop/verify-proof.js';
import { ProofKeyCache } from '../dpop/proof-key-cache.js';
import { replayKey } from '../dpop/replay-key.js';
import { accessTokenHash } from '../jose/thumbprint.js';
import { normaliseClaims, verifyAccessToken, type AccessTokenClaims } from '../jose/verify-access-token.js';
import { canonicalResourceUri, expectedHtu } from '../oauth/canonical-uri.js';
import { toWireError } from '../oauth/error-response.js';
import { InsufficientScopeError, InvalidDpopProofError, InvalidTokenError } from '../oauth/errors.js';
import { missingScopes } from '../oauth/scope.js';
import { MessageRefusedError, RPC_CODES } from '../mcp/message-refused-error.js';
import { quote } from '../mcp/strict-json.js';
import { readRpcView, REFUSED_BODY, type RpcView } from './json-rpc.js';
import type { ResolvedOptions } from './options.js';
import { readCredentials } from './read-credentials.js';
import { failure, type FailureContext } from './failure.js';
import type { VerifyRequest, VerifyResult, WardenAuthInfo } from './types.js';
import { DecisionProgress } from './decision-progress.js';
import { enforcePolicy } from './policy/enforce-policy.js';
import { listsTools, toolVisibility } from './policy/tool-visibility.js';

const JWS_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/**
 * The request gauntlet of DESIGN.md, run in full on every request:
 * 1 shape, 2 access token, 3 audience, 4 proof, 5 binding, then authorization (scopes,
 * revocation) and last 6 replay — so that a request failing any check never consumes a `jti`.
 */
export class Gauntlet {
  readonly #o: Readonly<ResolvedOptions>;
  readonly #proofKeys = new ProofKeyCache();
  readonly #htuCache = new Map<string, string | undefined>();

  constructor(options: Readonly<ResolvedOptions>) {
    this.#o = options;
  }

  /** Runs every check; never throws. Tells `onDecision`, when set, how it ended. */
  async verify(request: VerifyRequest): Promise<VerifyResult> {
    const listener = this.#o.onDecision;
    if (listener === undefined) return this.#run(request, undefined);
    const progress = new DecisionProgress();
    const result = await this.#run(request, progress);
    try {
      listener(progress.decide(this.#o.resource, request, result));
    } catch {
      // A listener (an audit sink) must never change or break the answer.
    }
    return result;
  }

  async #run(request: VerifyRequest, progress: DecisionProgress | undefined): Promise<VerifyResult> {
    const o = this.#o;
    const context: FailureContext = { scheme: undefined, scopes: o.defaultScopes, rpc: REFUSED_BODY };
    try {
      // 1. Shape: a body every parser reads alike, then the credentials.
      progress?.enter('shape');
      const rpc = readRpcView(request, o.strictMessages);
      context.rpc = rpc;
      if (progress !== undefined) progress.rpc = rpc;
      const scopes = this.#requiredScopes(rpc);
      context.scopes = scopes;
      const credentials = readCredentials(request, o);
      if (credentials.kind === 'none') return failure(o, undefined, context);
      context.scheme = credentials.scheme;
      const { token, scheme, proof } = credentials;
      if (progress !== undefined) progress.scheme = scheme;

      // 2–3. Access token and audience.
      progress?.enter('token');
      const now = o.now();
      // One SHA-256 of the token serves as its cache key and as the proof's expected `ath`
      // (RFC 9449 §4.3 step 12): the token is token68, so its UTF-8 and ASCII bytes are the same.
      const tokenDigest = accessTokenHash(token);
      const claims = await this.#verifyToken(token, now, tokenDigest);
      if (progress !== undefined) {
        progress.claims = claims;
        progress.enter('audience');
      }
      if (!this.#audienceMatches(claims.aud)) {
        throw new InvalidTokenError(`access token audience does not include this resource; expected ${o.resource} (RFC 8707)`);
      }

      // 4–5. Proof and binding, per DPoP mode.
      const responseHeaders: Record<string, string> = {};
      let proofResult: { jkt: string; jti: string } | undefined;
      progress?.enter('proof');
      if (scheme === 'Bearer') {
        if (claims.jkt !== undefined) throw new InvalidTokenError('access token is DPoP-bound: present it with the DPoP scheme and a DPoP proof (RFC 9449 §7.2)');
        if (o.dpop === 'required') throw new InvalidTokenError('this resource requires DPoP-bound access tokens');
      } else {
        if (o.dpop === 'disabled') throw new InvalidTokenError('DPoP is not enabled for this resource; use a Bearer token');
        if (claims.jkt === undefined) throw new InvalidTokenError('access token is not DPoP-bound (no cnf.jkt) but was sent with the DPoP scheme (RFC 9449 §7.1)');
        if (proof === undefined) throw new InvalidDpopProofError('DPoP proof missing: send a DPoP header with every request (RFC 9449 §7.1)');
        const verified = verifyProof(proof, {
          method: request.method.toUpperCase(),
          htu: this.#htu(request.url),
          accessToken: token,
          ath: tokenDigest,
          algorithms: o.dpopAlgorithms,
          maxAgeSeconds: o.proofMaxAge,
          skewSeconds: o.skew,
          now,
          ...(o.nonce === undefined ? {} : { nonce: o.nonce }),
          keys: this.#proofKeys,
        });
        progress?.enter('binding');
        if (!constantTimeEquals(verified.jkt, claims.jkt)) {
          throw new InvalidDpopProofError("DPoP proof key does not match the access token's cnf.jkt (RFC 9449 §6.1)");
        }
        if (verified.nonceStale && o.nonce !== undefined) responseHeaders['DPoP-Nonce'] = o.nonce.manager.current();
        proofResult = verified;
      }

      // Authorization: every scope this request needs.
      progress?.enter('scope');
      const missing = missingScopes(claims.scopes, scopes);
      if (missing.length > 0) {
        throw new InsufficientScopeError(`this request needs scope ${scopes.join(' ')}; the token lacks ${missing.join(' ')}`, { scope: scopes });
      }
      if (o.revocation !== undefined) {
        progress?.enter('revocation');
        if (claims.jti === undefined) throw new InvalidTokenError('access token has no "jti", so its revocation cannot be checked');
        if (await o.revocation.isRevoked(claims.jti)) throw new InvalidTokenError('access token has been revoked');
      }
      // Policy: the resource's CEL rules (policy/), on what the scopes let through.
      if (o.policy !== undefined) {
        progress?.enter('policy');
        enforcePolicy(o.policy, claims, rpc.messages, rpc.ambiguous, o.strictMessages, now);
      }
      const auth = this.#authInfo(token, scheme, claims);
      if (o.checks.length > 0) progress?.enter('checks');
      for (const check of o.checks) await check({ auth, request, messages: rpc.messages });

      // 6. Replay: claimed last, atomically, keyed with the thumbprint.
      if (proofResult !== undefined) {
        progress?.enter('replay');
        const fresh = await o.replayStore.claim(replayKey(proofResult.jkt, proofResult.jti), o.replayTtl);
        if (!fresh) throw new InvalidDpopProofError('DPoP proof has already been used (replay); sign a fresh proof for every request');
      }

      const verified: VerifyResult = { ok: true, auth, headers: responseHeaders };
      if (rpc.json !== undefined) verified.parsedBody = rpc.json;
      // What a tools/list answer may show this caller (policy/tool-visibility.ts).
      const visible = listsTools(rpc.messages) ? toolVisibility({ policy: o.policy, toolScopes: o.toolScopes, toolNames: o.toolNames, claims, nowSeconds: now }) : undefined;
      if (visible !== undefined) verified.toolVisible = visible;
      return verified;
    } catch (error) {
      return failure(o, toWireError(error, 'fail-closed'), context);
    }
  }

  #requiredScopes(rpc: RpcView): readonly string[] {
    const o = this.#o;
    if (o.toolScopes.size === 0) return o.defaultScopes;
    // A body another parser could read differently needs every tool's scopes (fail closed).
    if (rpc.ambiguous) return o.scopesSupported;
    if (rpc.toolNames.length === 0) return o.defaultScopes;
    const all = new Set(o.defaultScopes);
    for (const name of rpc.toolNames) {
      const required = o.toolScopes.get(name);
      if (required === undefined) {
        // "ADMIN_RESET" or "admin_reset\0" is no policy's tool, but an upstream that matches tool
        // names loosely would run admin_reset.
        const meant = o.toolNames.lookalikeOf(name);
        if (meant !== undefined) {
          if (!o.strictMessages) return o.scopesSupported;
          throw new MessageRefusedError(400, RPC_CODES.invalidRequest, `tool name ${quote(name)} is not "${meant}" but an upstream matching names loosely would run "${meant}"`);
        }
        continue;
      }
      for (const s of required) all.add(s);
    }
    return [...all];
  }

  async #verifyToken(token: string, now: number, tokenDigest: string): Promise<AccessTokenClaims> {
    const o = this.#o;
    if (o.keys !== undefined && (o.introspection === undefined || JWS_SHAPE.test(token))) {
      const cache = o.tokenCache;
      if (cache === undefined) return this.#verifyJwt(token, now);
      const key = tokenDigest;
      const cached = cache.get(key, now, o.skew);
      if (cached !== undefined) return cached;
      const claims = await this.#verifyJwt(token, now);
      cache.set(key, claims, now);
      return claims;
    }
    if (o.introspection === undefined) throw new InvalidTokenError('no way to verify this token');
    const result = await o.introspection.introspect(token);
    if (!result.active) throw new InvalidTokenError('access token is not active (RFC 7662)');
    if (result.iss !== undefined && result.iss !== o.issuer) throw new InvalidTokenError(`access token issuer is not the trusted issuer ${o.issuer}`);
    if (result.exp !== undefined && now - o.skew >= result.exp) throw new InvalidTokenError('access token has expired');
    if (result.nbf !== undefined && result.nbf > now + o.skew) throw new InvalidTokenError('access token is not valid yet ("nbf")');
    return normaliseClaims(result as unknown as Record<string, unknown>, o.issuer, result.exp ?? Number.POSITIVE_INFINITY);
  }

  #verifyJwt(token: string, now: number): Promise<AccessTokenClaims> {
    const o = this.#o;
    return verifyAccessToken(token, {
      keys: o.keys as NonNullable<typeof o.keys>,
      issuer: o.issuer,
      algorithms: o.tokenAlgorithms,
      tokenTypes: o.tokenTypes,
      skewSeconds: o.skew,
      now,
    });
  }

  #audienceMatches(audiences: readonly string[]): boolean {
    const resource = this.#o.resource;
    for (const aud of audiences) if (aud === resource) return true;
    for (const aud of audiences) {
      try {
        if (canonicalResourceUri(aud) === resource) return true;
      } catch {
        // Not a URI: cannot name this resource.
      }
    }
    return false;
  }

  #htu(url: string): string {
    // Bounded memo: an MCP endpoint sees a handful of distinct URLs.
    const cache = this.#htuCache;
    let htu = cache.get(url);
    if (htu === undefined && !cache.has(url)) {
      htu = expectedHtu(this.#o.publicOrigin, url);
      if (cache.size >= 1024) cache.clear();
      cache.set(url, htu);
    }
    if (htu === undefined) throw new InvalidDpopProofError('request URL cannot be matched against "htu"');
    return htu;
  }

  #authInfo(token: string, scheme: 'Bearer' | 'DPoP', claims: AccessTokenClaims): WardenAuthInfo {
    const extra: WardenAuthInfo['extra'] = { issuer: claims.iss, tokenType: scheme };
    if (claims.sub !== undefined) extra.subject = claims.sub;
    if (claims.jkt !== undefined) extra.jkt = claims.jkt;
    if (claims.jti !== undefined) extra.jti = claims.jti;
    const auth: WardenAuthInfo = { token, clientId: claims.clientId, scopes: claims.scopes, resource: this.#o.resourceUrl, extra };
    if (Number.isFinite(claims.exp)) auth.expiresAt = claims.exp;
    return auth;
  }
}

function constantTimeEquals(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

// `minimal`: the ceiling. A hand-written validator on node:crypto only that still performs every
// check of the gauntlet for a DPoP-bound JWT access token (RFC 9068, RFC 9449 §4.3, §6, §7):
// shape, token JWS + claims, proof JWS + claims, binding, replay, tool scope. Keys are imported
// once: issuer keys at start, proof keys cached by their RFC 7638 thumbprint.
// With config.tokenCache (variant `minimal-token-cache`) the access token's signature and static
// claims are verified once per distinct token string and cached; time claims are still checked
// on every request. The proof, being fresh, is always verified.
import { createHash, createPublicKey, verify } from 'node:crypto';
import { CLOCK_SKEW, PROOF_MAX_AGE } from '../lib/shared.mjs';
import { collectBody, missingScopes, ok, reject, requiredScopes, serve } from './common.mjs';

const B64U_P256_COORD = /^[A-Za-z0-9_-]{43}$/;
const PROOF_KEY_CACHE_MAX = 10_000;
const REPLAY_MAX = 1_000_000;
const TOKEN_CACHE_MAX = 10_000;

/** Thrown by a failed check; carries the wire error code. */
class Reject {
  constructor(status, error) {
    this.status = status;
    this.error = error;
  }
}
const fail = (status, error) => {
  throw new Reject(status, error);
};

function decodeJson(segment, status, error) {
  try {
    const value = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) return value;
  } catch {
    // fall through
  }
  return fail(status, error);
}

/** Splits a compact JWS into its parts; the signature must be a 64-byte P1363 ES256 signature. */
function splitJws(jws, error) {
  const a = jws.indexOf('.');
  const b = jws.indexOf('.', a + 1);
  if (a <= 0 || b <= a + 1 || jws.indexOf('.', b + 1) !== -1 || b === jws.length - 1) fail(401, error);
  const sig = Buffer.from(jws.slice(b + 1), 'base64url');
  if (sig.length !== 64) fail(401, error);
  return { header: jws.slice(0, a), payload: jws.slice(a + 1, b), signingInput: jws.slice(0, b), sig };
}

function es256Verify(signingInput, key, sig) {
  return verify('sha256', Buffer.from(signingInput), { key, dsaEncoding: 'ieee-p1363' }, sig);
}

await serve((config) => {
  const { issuer, resource, publicUrl } = config;
  const issuerKeys = new Map(
    config.jwks.keys.map((jwk) => [jwk.kid, createPublicKey({ key: jwk, format: 'jwk' })]),
  );
  const proofKeys = new Map(); // RFC 7638 thumbprint -> KeyObject
  const verifiedTokens = config.tokenCache ? new Map() : undefined; // token -> claims
  const claimed = new Map(); // `${jkt}:${jti}` -> expiry (seconds)
  const replayTtl = PROOF_MAX_AGE + 2 * CLOCK_SKEW;

  // Expired jtis are dropped in the background, so the map stays bounded by the iat window.
  setInterval(() => {
    const now = Math.floor(Date.now() / 1000);
    for (const [k, exp] of claimed) if (exp <= now) claimed.delete(k);
  }, 5_000).unref();

  function proofKey(jwk) {
    if (jwk === null || typeof jwk !== 'object' || Array.isArray(jwk)) fail(401, 'invalid_dpop_proof');
    // Public EC P-256 only: a private member ('d') is refused, coordinates must be exact base64url
    // so that the thumbprint below is unambiguous.
    if (jwk.kty !== 'EC' || jwk.crv !== 'P-256' || 'd' in jwk) fail(401, 'invalid_dpop_proof');
    if (typeof jwk.x !== 'string' || typeof jwk.y !== 'string') fail(401, 'invalid_dpop_proof');
    if (!B64U_P256_COORD.test(jwk.x) || !B64U_P256_COORD.test(jwk.y)) fail(401, 'invalid_dpop_proof');
    const jkt = createHash('sha256')
      .update(`{"crv":"P-256","kty":"EC","x":"${jwk.x}","y":"${jwk.y}"}`)
      .digest('base64url');
    let key = proofKeys.get(jkt);
    if (key === undefined) {
      try {
        key = createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y }, format: 'jwk' });
      } catch {
        fail(401, 'invalid_dpop_proof'); // not a point on the curve
      }
      if (proofKeys.size >= PROOF_KEY_CACHE_MAX) proofKeys.clear();
      proofKeys.set(jkt, key);
    }
    return { jkt, key };
  }

  /** Signature, header and static claims of the access token (RFC 9068 §4, RFC 8707). */
  function verifyToken(token) {
    const t = splitJws(token, 'invalid_token');
    const th = decodeJson(t.header, 401, 'invalid_token');
    if (th.alg !== 'ES256' || (th.typ !== 'at+jwt' && th.typ !== 'application/at+jwt')) fail(401, 'invalid_token');
    const issuerKey = issuerKeys.get(th.kid);
    if (issuerKey === undefined || th.crit !== undefined) fail(401, 'invalid_token');
    if (!es256Verify(t.signingInput, issuerKey, t.sig)) fail(401, 'invalid_token');
    const claims = decodeJson(t.payload, 401, 'invalid_token');
    if (claims.iss !== issuer) fail(401, 'invalid_token');
    if (typeof claims.sub !== 'string' || typeof claims.client_id !== 'string') fail(401, 'invalid_token');

    // 3. Audience: RFC 8707 canonical URI of this resource.
    const aud = claims.aud;
    if (aud !== resource && !(Array.isArray(aud) && aud.includes(resource))) fail(401, 'invalid_token');
    if (typeof claims.cnf?.jkt !== 'string') fail(401, 'invalid_token'); // DPoP mode 'required'
    if (verifiedTokens !== undefined) {
      if (verifiedTokens.size >= TOKEN_CACHE_MAX) verifiedTokens.clear();
      verifiedTokens.set(token, claims);
    }
    return claims;
  }

  /** The whole gauntlet; returns the token claims or throws a Reject. */
  function check(req, body) {
    // 1. Shape: exactly one Authorization (DPoP scheme), exactly one DPoP header.
    const raw = req.rawHeaders;
    let authorization;
    let proof;
    let nAuth = 0;
    let nDpop = 0;
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i];
      if (name.length === 13 && name.toLowerCase() === 'authorization') {
        nAuth++;
        authorization = raw[i + 1];
      } else if (name.length === 4 && name.toLowerCase() === 'dpop') {
        nDpop++;
        proof = raw[i + 1];
      }
    }
    if (nAuth !== 1 || nDpop > 1) fail(400, 'invalid_request');
    if (authorization.length > 8192 || authorization.slice(0, 5).toLowerCase() !== 'dpop ') fail(401, 'invalid_token');
    if (nDpop !== 1 || proof.length > 8192) fail(401, 'invalid_dpop_proof');
    const token = authorization.slice(5).trim();
    const now = Math.floor(Date.now() / 1000);

    // 2.-3. Access token.
    const claims = verifiedTokens?.get(token) ?? verifyToken(token);
    if (typeof claims.exp !== 'number' || claims.exp <= now - CLOCK_SKEW) fail(401, 'invalid_token');
    if (claims.nbf !== undefined && (typeof claims.nbf !== 'number' || claims.nbf > now + CLOCK_SKEW)) fail(401, 'invalid_token');
    if (typeof claims.iat !== 'number' || claims.iat > now + CLOCK_SKEW) fail(401, 'invalid_token');
    const jktBound = claims.cnf.jkt;

    // 4. Proof (RFC 9449 §4.3).
    const p = splitJws(proof, 'invalid_dpop_proof');
    const ph = decodeJson(p.header, 401, 'invalid_dpop_proof');
    if (ph.typ !== 'dpop+jwt' || ph.alg !== 'ES256' || ph.crit !== undefined) fail(401, 'invalid_dpop_proof');
    const { jkt, key } = proofKey(ph.jwk);
    if (!es256Verify(p.signingInput, key, p.sig)) fail(401, 'invalid_dpop_proof');
    const pc = decodeJson(p.payload, 401, 'invalid_dpop_proof');
    if (pc.htm !== req.method) fail(401, 'invalid_dpop_proof');
    if (typeof pc.htu !== 'string') fail(401, 'invalid_dpop_proof');
    const q = req.url.indexOf('?');
    const expectedHtu = publicUrl + (q === -1 ? req.url : req.url.slice(0, q)); // configured URL, never Host
    const hq = pc.htu.search(/[?#]/);
    if ((hq === -1 ? pc.htu : pc.htu.slice(0, hq)) !== expectedHtu) fail(401, 'invalid_dpop_proof');
    if (typeof pc.iat !== 'number' || pc.iat > now + CLOCK_SKEW || pc.iat < now - PROOF_MAX_AGE - CLOCK_SKEW) fail(401, 'invalid_dpop_proof');
    if (typeof pc.jti !== 'string' || pc.jti.length === 0 || pc.jti.length > 256) fail(401, 'invalid_dpop_proof');
    if (pc.ath !== createHash('sha256').update(token).digest('base64url')) fail(401, 'invalid_dpop_proof');

    // 5. Binding (RFC 9449 §6).
    if (jkt !== jktBound) fail(401, 'invalid_token');

    // 6. Replay: claimed last, so a failed check never consumes a jti.
    const replayKey = `${jkt}:${pc.jti}`;
    const seen = claimed.get(replayKey);
    if (seen !== undefined && seen > now) fail(401, 'invalid_dpop_proof');
    if (claimed.size >= REPLAY_MAX) fail(503, 'temporarily_unavailable'); // fail closed
    claimed.set(replayKey, now + replayTtl);

    // Authorization: the scopes the JSON-RPC call needs.
    const needed = requiredScopes(body);
    if (needed === null) fail(400, 'invalid_request');
    if (missingScopes(needed, claims.scope).length > 0) fail(403, 'insufficient_scope');
    return claims;
  }

  return (req, res) =>
    collectBody(req, (err, body) => {
      if (err) return reject(res, 413, 'invalid_request');
      try {
        req.auth = check(req, body);
      } catch (e) {
        if (e instanceof Reject) return reject(res, e.status, e.error);
        return reject(res, 401, 'invalid_token');
      }
      return ok(res);
    });
});

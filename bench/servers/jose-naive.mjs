// `jose-naive`: the same checks as `minimal`, written the obvious way on `jose`:
// jwtVerify(token, createLocalJWKSet) + jwtVerify(proof, EmbeddedJWK) + calculateJwkThumbprint
// and a Map for replay. No caching of proof keys: EmbeddedJWK imports the key on every request.
import { createHash } from 'node:crypto';
import { EmbeddedJWK, calculateJwkThumbprint, createLocalJWKSet, jwtVerify } from 'jose';
import { CLOCK_SKEW, PROOF_MAX_AGE } from '../lib/shared.mjs';
import { collectBody, missingScopes, ok, reject, requiredScopes, serve } from './common.mjs';

await serve((config) => {
  const { issuer, resource, publicUrl } = config;
  const jwks = createLocalJWKSet(config.jwks);
  const claimed = new Map(); // `${jkt}:${jti}` -> expiry (seconds)
  setInterval(() => {
    const now = Math.floor(Date.now() / 1000);
    for (const [k, exp] of claimed) if (exp <= now) claimed.delete(k);
  }, 5_000).unref();

  async function check(req, body) {
    const authorization = req.headers.authorization ?? '';
    const proof = req.headers.dpop;
    if (!authorization.toLowerCase().startsWith('dpop ') || typeof proof !== 'string') {
      throw Object.assign(new Error('missing DPoP credentials'), { status: 401 });
    }
    const token = authorization.slice(5).trim();
    const { payload: claims } = await jwtVerify(token, jwks, {
      issuer,
      audience: resource,
      typ: 'at+jwt',
      algorithms: ['ES256'],
      clockTolerance: CLOCK_SKEW,
      requiredClaims: ['exp', 'iat', 'sub', 'client_id'],
    });
    if (typeof claims.cnf?.jkt !== 'string') throw new Error('token not DPoP-bound');

    const { payload: pc, protectedHeader } = await jwtVerify(proof, EmbeddedJWK, {
      typ: 'dpop+jwt',
      algorithms: ['ES256'],
      maxTokenAge: PROOF_MAX_AGE,
      clockTolerance: CLOCK_SKEW,
      requiredClaims: ['jti', 'htm', 'htu', 'iat', 'ath'],
    });
    if (pc.htm !== req.method) throw new Error('htm');
    const htu = new URL(pc.htu);
    htu.search = '';
    htu.hash = '';
    const expected = new URL(req.url, publicUrl); // configured public URL, never Host
    expected.search = '';
    expected.hash = '';
    if (htu.href !== expected.href) throw new Error('htu');
    if (pc.ath !== createHash('sha256').update(token).digest('base64url')) throw new Error('ath');
    const jkt = await calculateJwkThumbprint(protectedHeader.jwk);
    if (jkt !== claims.cnf.jkt) throw new Error('cnf.jkt');

    const now = Math.floor(Date.now() / 1000);
    const replayKey = `${jkt}:${pc.jti}`;
    if ((claimed.get(replayKey) ?? 0) > now) throw new Error('replayed');
    claimed.set(replayKey, now + PROOF_MAX_AGE + 2 * CLOCK_SKEW);

    const needed = requiredScopes(body);
    if (needed === null) throw Object.assign(new Error('body'), { status: 400 });
    if (missingScopes(needed, claims.scope).length > 0) throw Object.assign(new Error('scope'), { status: 403 });
    return claims;
  }

  return (req, res) =>
    collectBody(req, (err, body) => {
      if (err) return reject(res, 413, 'invalid_request');
      check(req, body).then(
        (claims) => {
          req.auth = claims;
          ok(res);
        },
        (e) => reject(res, e.status ?? 401, e.status === 400 ? 'invalid_request' : 'invalid_token'),
      );
    });
});

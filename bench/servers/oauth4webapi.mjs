// `oauth4webapi`: its resource-server validation, validateJwtAccessToken(), which checks the
// token and the DPoP proof itself (RFC 9068 + RFC 9449). It keeps no replay store, so replayed
// proofs are accepted: this variant does less work than the others. The scope check is added
// after it, as its docs say a user must.
import * as oauth from 'oauth4webapi';
import { CLOCK_SKEW } from '../lib/shared.mjs';
import { collectBody, missingScopes, ok, reject, requiredScopes, serve } from './common.mjs';

await serve((config) => {
  const { issuer, resource, publicUrl } = config;
  const as = { issuer, jwks_uri: `${issuer}/jwks` };
  const jwksBody = JSON.stringify(config.jwks);
  const options = {
    requireDPoP: true,
    signingAlgorithms: ['ES256'],
    [oauth.clockTolerance]: CLOCK_SKEW,
    // Keys are local: seed its JWKS cache, and answer its (5-minutely) refetch without network.
    [oauth.jwksCache]: { jwks: structuredClone(config.jwks), uat: Math.floor(Date.now() / 1000) },
    [oauth.customFetch]: async () => new Response(jwksBody, { headers: { 'content-type': 'application/json' } }),
  };

  return (req, res) =>
    collectBody(req, (err, body) => {
      if (err) return reject(res, 413, 'invalid_request');
      // A Web Request built from the node request the way a user would: the URL from the
      // configured public base (htu must not come from Host), headers as received, the body read.
      const headers = new Headers();
      const raw = req.rawHeaders;
      for (let i = 0; i < raw.length; i += 2) headers.append(raw[i], raw[i + 1]);
      const request = new Request(new URL(req.url, publicUrl), { method: req.method, headers, body });
      oauth.validateJwtAccessToken(as, request, resource, options).then(
        (claims) => {
          const needed = requiredScopes(body);
          if (needed === null) return reject(res, 400, 'invalid_request');
          if (missingScopes(needed, claims.scope).length > 0) return reject(res, 403, 'insufficient_scope');
          req.auth = claims;
          return ok(res);
        },
        () => reject(res, 401, 'invalid_token'),
      );
    });
});

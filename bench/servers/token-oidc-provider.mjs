// `token-oidc-provider-*`: node-oidc-provider 8 configured for the same grant as Warden's token
// benchmark: `client_credentials` (features.clientCredentials) for a confidential client with
// client_secret_basic, RFC 8707 resource indicators (features.resourceIndicators) issuing ES256
// JWT access tokens (`accessTokenFormat: 'jwt'`) whose `aud` is the resource, DPoP
// (features.dPoP, replay detection on — its default) in the DPoP variant only. Default
// in-memory adapter; provider.callback() mounted on node:http.
import { serve } from './common.mjs';

await serve(async (config) => {
  let Provider;
  let errors;
  try {
    ({ default: Provider, errors } = await import('oidc-provider'));
  } catch (err) {
    throw new Error(`cannot import oidc-provider (${err.code ?? err.message.split('\n')[0]}) — it is a devDependency`);
  }
  // Its warnings (development in-memory adapter, default cookie keys) are expected here.
  const provider = new Provider(config.issuer, {
    clients: [{
      client_id: config.clientId,
      client_secret: config.clientSecret,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
      scope: config.scope,
    }],
    clientDefaults: { id_token_signed_response_alg: 'ES256' },
    jwks: { keys: [config.signingJwk] },
    // Client `scope` metadata may only name scopes the provider knows.
    scopes: ['openid', config.scope],
    cookies: { keys: [config.serverSecret] },
    ttl: { ClientCredentials: 600 }, // Warden's default access-token lifetime (the resource's accessTokenTTL says the same)
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      dPoP: { enabled: config.dpop === true },
      introspection: { enabled: false },
      revocation: { enabled: false },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => undefined,
        useGrantedResource: () => false,
        getResourceServerInfo: (ctx, resourceIndicator) => {
          if (resourceIndicator !== config.resource) throw new errors.InvalidTarget();
          return {
            scope: config.scope,
            accessTokenTTL: 600,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'ES256' } },
          };
        },
      },
    },
  });
  return provider.callback();
});

// `assertion-oidc-provider` (bench/assertion.mjs): node-oidc-provider with the same private_key_jwt
// machine client: client_credentials, RFC 8707 resource indicators, ES256 JWT access tokens,
// default in-memory adapter (its replay detection of assertion jtis included).
import { serve } from './common.mjs';

await serve(async (config) => {
  const { default: Provider, errors } = await import('oidc-provider');
  const provider = new Provider(config.issuer, {
    clients: [{
      client_id: config.clientId,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'private_key_jwt',
      token_endpoint_auth_signing_alg: 'ES256',
      jwks: { keys: [config.clientJwk] },
      scope: config.scope,
    }],
    clientDefaults: { id_token_signed_response_alg: 'ES256' },
    jwks: { keys: [config.signingJwk] },
    scopes: ['openid', config.scope],
    cookies: { keys: [config.serverSecret] },
    ttl: { ClientCredentials: 600 },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: false },
      revocation: { enabled: false },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => undefined,
        useGrantedResource: () => false,
        getResourceServerInfo: (ctx, resourceIndicator) => {
          if (resourceIndicator !== config.resource) throw new errors.InvalidTarget();
          return { scope: config.scope, accessTokenTTL: 600, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'ES256' } } };
        },
      },
    },
  });
  return provider.callback();
});

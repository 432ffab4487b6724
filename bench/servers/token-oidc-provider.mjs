// `token-oidc-provider-*`: node-oidc-provider 8 configured for the same grant as Warden's token
// benchmark: `client_credentials` (features.clientCredentials) for a confidential client with
// client_secret_basic, RFC 8707 resource indicators (features.resourceIndicators) issuing ES256
// JWT access tokens (`accessTokenFormat: 'jwt'`) whose `aud` is the resource, DPoP
// (features.dPoP, replay detection on — its default) in the DPoP variant only. Default
// in-memory adapter; provider.callback() mounted on node:http.
//
// The same server takes `authorization_code` and `refresh_token` requests: codes are minted ahead
// of the timed window (`mint-codes` over IPC) through its models, as its interaction flow leaves
// them (a Grant with the resource scope, an AuthorizationCode with the PKCE S256 challenge);
// refresh tokens rotate on every use (`rotateRefreshToken: true`, as Warden), are issued to the
// client whenever it may refresh (`issueRefreshToken`), without `offline_access`/`openid` (no ID
// token). With `config.lruSize` its memory adapter's LRU (default 1,000 entries, QuickLRU keeps
// up to twice that) is enlarged through the adapter's own `setStorage`: the default would evict
// most of a pre-minted pool of codes before they are used.
import { createHash, randomBytes } from 'node:crypto';
import { serve } from './common.mjs';

const sha256 = (s) => createHash('sha256').update(s, 'utf8').digest('base64url');

await serve(async (config) => {
  let Provider;
  let errors;
  try {
    ({ default: Provider, errors } = await import('oidc-provider'));
  } catch (err) {
    throw new Error(`cannot import oidc-provider (${err.code ?? err.message.split('\n')[0]}) — it is a devDependency`);
  }
  if (config.lruSize) {
    const [{ setStorage }, { default: QuickLRU }] = await Promise.all([
      import('oidc-provider/lib/adapters/memory_adapter.js'),
      import('quick-lru'),
    ]);
    setStorage(new QuickLRU({ maxSize: config.lruSize }));
  }
  // Its warnings (development in-memory adapter, default cookie keys) are expected here.
  const provider = new Provider(config.issuer, {
    clients: [{
      client_id: config.clientId,
      client_secret: config.clientSecret,
      grant_types: ['client_credentials', 'authorization_code', 'refresh_token'],
      response_types: ['code'],
      redirect_uris: [config.redirectUri],
      token_endpoint_auth_method: 'client_secret_basic',
      scope: config.scope,
    }],
    clientDefaults: { id_token_signed_response_alg: 'ES256' },
    jwks: { keys: [config.signingJwk] },
    // Client `scope` metadata may only name scopes the provider knows.
    scopes: ['openid', config.scope],
    cookies: { keys: [config.serverSecret] },
    ttl: { ClientCredentials: 600, AuthorizationCode: 60, RefreshToken: 7 * 24 * 3600 }, // Warden's defaults
    issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
    rotateRefreshToken: true,
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

  process.on('message', async (msg) => {
    if (msg?.type !== 'mint-codes') return;
    try {
      const client = await provider.Client.find(config.clientId);
      const codes = [];
      for (let i = 0; i < msg.count; i++) {
        const grant = new provider.Grant({ accountId: 'bench-user', clientId: config.clientId });
        grant.addResourceScope(config.resource, config.scope);
        const grantId = await grant.save();
        const verifier = randomBytes(32).toString('base64url');
        const code = new provider.AuthorizationCode({
          accountId: 'bench-user',
          client,
          grantId,
          redirectUri: config.redirectUri,
          scope: config.scope,
          resource: config.resource,
          codeChallenge: sha256(verifier),
          codeChallengeMethod: 'S256',
          authTime: Math.floor(Date.now() / 1000),
        });
        codes.push([await code.save(), verifier]);
      }
      process.send({ type: 'codes', id: msg.id, codes });
    } catch (err) {
      process.send({ type: 'codes', id: msg.id, error: err.message });
    }
  });
  return provider.callback();
});

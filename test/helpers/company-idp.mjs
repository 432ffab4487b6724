/**
 * "The company IdP": node-oidc-provider as a separate process, with its own (development) login
 * and consent pages, one confidential client for Warden, and users whose claims carry `email`
 * and `groups`. Usage: node company-idp.mjs <port> <warden callback URL> <client secret> [<warden JWKS URL>]
 * (with the JWKS URL, a second client `warden-pkjwt` authenticates with private_key_jwt).
 * Prints `ready <issuer>` once listening.
 */
import Provider from 'oidc-provider';

const [port, callback, secret, wardenJwks] = process.argv.slice(2);
const issuer = `http://127.0.0.1:${port}`;
const provider = new Provider(issuer, {
  clients: [
    {
      client_id: 'warden',
      client_secret: secret,
      redirect_uris: [callback],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
    ...(wardenJwks === undefined
      ? []
      : [
          {
            client_id: 'warden-pkjwt',
            redirect_uris: [callback],
            grant_types: ['authorization_code'],
            response_types: ['code'],
            token_endpoint_auth_method: 'private_key_jwt',
            token_endpoint_auth_signing_alg: 'ES256',
            jwks_uri: wardenJwks,
          },
        ]),
  ],
  claims: { openid: ['sub'], email: ['email'], groups: ['groups'] },
  scopes: ['openid', 'email', 'groups'],
  // The claims go in the ID token (Warden reads them there), not only at userinfo.
  conformIdTokenClaims: false,
  findAccount: (_ctx, id) => ({
    accountId: id,
    claims: () => ({ sub: id, email: `${id}@company.example`, groups: ['engineering', 'mcp-admins'] }),
  }),
  features: { devInteractions: { enabled: true } },
  pkce: { required: () => true },
  cookies: { keys: ['company-idp-test-cookie-key-0123456789'] },
});
// The development pages warn on every request; the test reads stdout.
provider.on('server_error', (_ctx, error) => console.error('server_error', error));
provider.listen(Number(port), '127.0.0.1', () => console.log(`ready ${issuer}`));

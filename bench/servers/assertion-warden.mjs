// `assertion-warden-*` (bench/assertion.mjs): Warden's authorization server with a private_key_jwt
// machine client (client_credentials) and a workload trust domain (the jwt-bearer grant, SEP-1933),
// memory stores; the replay store is widened as in token-warden.mjs (assertion jtis live 5 min).
import { serve } from './common.mjs';

const DIST = new URL('../../dist/', import.meta.url);

await serve(async (config) => {
  const { createAuthorizationServer } = await import(new URL('authorization-server/create-authorization-server.js', DIST).href);
  const { createMemoryAuthorizationServerStores, MemoryReplayStore } = await import(new URL('stores/index.js', DIST).href);
  const as = await createAuthorizationServer({
    issuer: config.issuer,
    stores: createMemoryAuthorizationServerStores(),
    secret: config.serverSecret,
    resources: [{ uri: config.resource, name: 'bench', scopes: [config.scope] }],
    clients: [
      { clientId: config.clientId, jwks: { keys: [config.clientJwk] }, grantTypes: ['client_credentials'], scope: config.scope },
      { clientId: 'workload', grantTypes: ['urn:ietf:params:oauth:grant-type:jwt-bearer'], scope: config.scope },
    ],
    jwtBearer: { workloads: [{ id: 'k8s', issuer: config.workloadIssuer, jwks: { keys: [config.workloadJwk] }, rules: [{ subject: 'system:serviceaccount:bench:*', clientId: 'workload' }] }] },
    replayStore: new MemoryReplayStore({ capacity: 4_000_000 }),
    registration: { enabled: false },
  });
  return (req, res) => {
    as.handle(req, res).then(
      (handled) => {
        if (!handled) {
          res.writeHead(404);
          res.end();
        }
      },
      () => {
        res.writeHead(500);
        res.end();
      },
    );
  };
});

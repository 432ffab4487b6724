// `token-warden-*`: Warden's authorization server (createAuthorizationServer, memory stores) on
// node:http. The token-endpoint benchmark sends it `client_credentials` requests authenticated
// with client_secret_basic, with or without a DPoP proof. The server is the same for both modes:
// the resource accepts DPoP-bound and Bearer tokens (Warden's default, `dpop: 'allowed'`).
// One deviation from the defaults: the token-endpoint replay store holds up to REPLAY_CAPACITY
// proofs instead of 100,000. Proof `jti`s live 120 s (proofMaxAge 60 + 2 × skew 30) and the
// default store fails closed (503) when full of live keys, i.e. above ~830 DPoP token requests/s
// sustained — which this benchmark exceeds within a few rounds.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { serve } from './common.mjs';

const DIST = process.env.BENCH_WARDEN_DIST
  ? pathToFileURL(`${resolve(process.env.BENCH_WARDEN_DIST)}/`)
  : new URL('../../dist/', import.meta.url);

async function importDist(path) {
  const url = new URL(path, DIST);
  try {
    return await import(url.href);
  } catch (err) {
    throw new Error(`cannot import ${url.pathname} (${err.code ?? err.message.split('\n')[0]}) — run \`npm run build\``);
  }
}

const REPLAY_CAPACITY = 2_000_000;

await serve(async (config) => {
  const { createAuthorizationServer } = await importDist('authorization-server/create-authorization-server.js');
  const { createMemoryAuthorizationServerStores, MemoryReplayStore } = await importDist('stores/index.js');
  if (typeof createAuthorizationServer !== 'function') throw new Error('dist/authorization-server/create-authorization-server.js exports no createAuthorizationServer');
  if (typeof createMemoryAuthorizationServerStores !== 'function') throw new Error('dist/stores/index.js exports no createMemoryAuthorizationServerStores');
  const as = await createAuthorizationServer({
    issuer: config.issuer,
    stores: createMemoryAuthorizationServerStores(),
    secret: config.serverSecret,
    resources: [{ uri: config.resource, name: 'bench', scopes: [config.scope] }],
    clients: [{ clientId: config.clientId, clientSecret: config.clientSecret, grantTypes: ['client_credentials'], scope: config.scope }],
    replayStore: new MemoryReplayStore({ capacity: REPLAY_CAPACITY }),
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

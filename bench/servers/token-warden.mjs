// `token-warden-*`: Warden's authorization server (createAuthorizationServer) on node:http, on the
// store the harness names (`config.store`): memory, SQLite (a file in a temporary directory —
// `warden start`'s default backend, opened the same way: WAL, synchronous FULL) or PostgreSQL
// (its own schema). The token-endpoint benchmark sends it `client_credentials` (with or without a
// DPoP proof), `refresh_token` (rotation on every use) and `authorization_code` requests, all
// authenticated with client_secret_basic. The resource accepts DPoP-bound and Bearer tokens
// (Warden's default, `dpop: 'allowed'`).
//
// Authorization codes are minted ahead of the timed window (`mint-codes` over IPC) through the
// store facade, as the authorize endpoint stores them after sign-in and consent: only the code's
// SHA-256 and the PKCE S256 challenge are stored; the harness gets the code and its verifier.
//
// One deviation from the defaults: the token-endpoint replay store holds up to REPLAY_CAPACITY
// proofs instead of 100,000. Proof `jti`s live 120 s (proofMaxAge 60 + 2 × skew 30) and the
// default store fails closed (503) when full of live keys, i.e. above ~830 DPoP token requests/s
// sustained — which this benchmark exceeds within a few rounds.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { join, resolve } from 'node:path';
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
/** DEFAULTS.lifetimes.codeSeconds: a pool is used within one round, well inside it. */
const CODE_SECONDS = 60;
const sha256 = (s) => createHash('sha256').update(s, 'utf8').digest('base64url');

async function openStores(config, stores) {
  switch (config.store ?? 'memory') {
    case 'memory':
      return stores.createMemoryAuthorizationServerStores();
    case 'sqlite':
      return stores.openSqliteAuthorizationServerStores({ path: join(config.stateDir, 'warden.db') });
    case 'postgres':
      return await stores.openPostgresAuthorizationServerStores({ url: config.postgresUrl, schema: config.postgresSchema });
    default:
      throw new Error(`unknown store ${config.store}`);
  }
}

await serve(async (config) => {
  const { createAuthorizationServer } = await importDist('authorization-server/create-authorization-server.js');
  const stores = await importDist('stores/index.js');
  if (typeof createAuthorizationServer !== 'function') throw new Error('dist/authorization-server/create-authorization-server.js exports no createAuthorizationServer');
  if (typeof stores.createMemoryAuthorizationServerStores !== 'function') throw new Error('dist/stores/index.js exports no createMemoryAuthorizationServerStores');
  let opened;
  try {
    opened = await openStores(config, stores);
  } catch (err) {
    throw new Error(`cannot open the ${config.store} store: ${err.message.split('\n')[0]}`);
  }
  const as = await createAuthorizationServer({
    issuer: config.issuer,
    stores: opened,
    secret: config.serverSecret,
    resources: [{ uri: config.resource, name: 'bench', scopes: [config.scope] }],
    clients: [{
      clientId: config.clientId,
      clientSecret: config.clientSecret,
      grantTypes: ['client_credentials', 'authorization_code', 'refresh_token'],
      redirectUris: [config.redirectUri],
      scope: config.scope,
    }],
    replayStore: new stores.MemoryReplayStore({ capacity: REPLAY_CAPACITY }),
    registration: { enabled: false },
  });

  // Codes as the authorize endpoint leaves them once the user has signed in and consented.
  process.on('message', async (msg) => {
    if (msg?.type !== 'mint-codes') return;
    try {
      const now = Math.floor(Date.now() / 1000);
      const codes = [];
      for (let i = 0; i < msg.count; i++) {
        const code = randomBytes(32).toString('base64url');
        const verifier = randomBytes(32).toString('base64url');
        await opened.codes.save({
          codeHash: sha256(code),
          clientId: config.clientId,
          redirectUri: config.redirectUri,
          resource: config.resource,
          scopes: [config.scope],
          subject: 'bench-user',
          codeChallenge: sha256(verifier),
          grantId: randomUUID(),
          authTime: now,
          expiresAt: now + CODE_SECONDS,
        });
        codes.push([code, verifier]);
      }
      process.send({ type: 'codes', id: msg.id, codes });
    } catch (err) {
      process.send({ type: 'codes', id: msg.id, error: err.message });
    }
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

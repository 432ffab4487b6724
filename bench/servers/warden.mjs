// Builds the Warden resource server the way its README tells an MCP server author to, through
// the node:http adapter (which reads the JSON body, runs the whole gauntlet and sets req.auth).
// Imported lazily from dist/ so a missing or broken build makes the variant "unavailable"
// instead of crashing the harness. BENCH_WARDEN_DIST points at another build if needed.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { SCOPES } from '../lib/shared.mjs';

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

/** A node:http handler protected by Warden, with the given replay store (or Warden's default). */
export async function wardenHandler(config, replayStore) {
  const { createResourceServer } = await importDist('resource-server/index.js');
  if (typeof createResourceServer !== 'function') throw new Error('dist/resource-server/index.js exports no createResourceServer');
  const rs = createResourceServer({
    resource: config.resource,
    trust: { issuer: config.issuer, jwks: config.jwks },
    dpop: 'required',
    scopes: SCOPES,
    ...(config.tokenCache === false ? { tokenCache: false } : {}),
    ...(replayStore === undefined ? {} : { replayStore }),
  });
  return rs.node((req, res) => {
    res.end('ok');
  });
}

/** Warden's Redis replay store (shared across instances). */
export async function redisReplayStore(url) {
  const { createRedisReplayStore } = await importDist('stores/index.js');
  if (typeof createRedisReplayStore !== 'function') throw new Error('dist/stores/index.js exports no createRedisReplayStore');
  return await createRedisReplayStore({ url });
}

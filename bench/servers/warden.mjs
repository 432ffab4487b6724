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
  const onDecision = config.audit ? await auditListener() : undefined;
  if (typeof createResourceServer !== 'function') throw new Error('dist/resource-server/index.js exports no createResourceServer');
  const rs = createResourceServer({
    resource: config.resource,
    trust: { issuer: config.issuer, jwks: config.jwks },
    dpop: 'required',
    scopes: SCOPES,
    ...(config.tokenCache === false ? { tokenCache: false } : {}),
    ...(replayStore === undefined ? {} : { replayStore }),
    ...(onDecision === undefined ? {} : { onDecision }),
  });
  return rs.node((req, res) => {
    res.end('ok');
  });
}

/**
 * The stack's audit trail as `audit: { sink: file }` builds it: every decision a chained
 * `warden.audit/1` record, JSON lines to a size-rotated file in a temporary directory.
 */
async function auditListener() {
  const { mkdtempSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { createAuditTrail } = await importDist('observability/audit-trail.js');
  const { createJsonLinesSink } = await importDist('observability/json-lines-sink.js');
  const { decisionEvent } = await importDist('observability/audit-events.js');
  const path = join(mkdtempSync(join(tmpdir(), 'warden-bench-audit-')), 'audit.log');
  const trail = createAuditTrail({ instance: 'bench', sinks: [createJsonLinesSink({ kind: 'file', path, maxBytes: 10 * 1024 * 1024, keep: 2 })] });
  return (decision) => trail.emit(decisionEvent(decision, 'bench'));
}

/** Warden's Redis replay store (shared across instances). */
export async function redisReplayStore(url) {
  const { createRedisReplayStore } = await importDist('stores/index.js');
  if (typeof createRedisReplayStore !== 'function') throw new Error('dist/stores/index.js exports no createRedisReplayStore');
  return await createRedisReplayStore({ url });
}

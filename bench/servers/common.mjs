// Shared plumbing of the benchmark servers: configuration from the harness, listening, the
// ready/unavailable handshake over IPC, body collection and the tool-scope policy.
// Each server is a child process of bench/run.mjs and exits when its parent goes away.
import http from 'node:http';
import { SCOPES } from '../lib/shared.mjs';

const MAX_BODY_BYTES = 4 * 1024 * 1024;

/**
 * Reads `BENCH_SERVER_CONFIG`, calls `build(config)` for the request handler, listens on
 * 127.0.0.1:config.port and tells the parent `{ type: 'ready' }` — or `{ type: 'unavailable',
 * reason }` when `build` throws (e.g. dist/ not built), so the harness can skip the variant.
 */
export async function serve(build) {
  const config = JSON.parse(process.env.BENCH_SERVER_CONFIG ?? '{}');
  // Never outlive the harness, however it ends.
  process.on('disconnect', () => process.exit(0));
  let handler;
  try {
    handler = await build(config);
  } catch (err) {
    const reason = err instanceof Error ? err.message.split('\n')[0] : String(err);
    process.send({ type: 'unavailable', reason }, () => process.exit(0));
    return;
  }
  const server = http.createServer({ keepAliveTimeout: 65_000 }, handler);
  server.on('error', (err) => {
    process.send({ type: 'unavailable', reason: `listen: ${err.message}` }, () => process.exit(1));
  });
  server.listen(config.port, '127.0.0.1', () => process.send({ type: 'ready' }));
}

/** Collects the request body (capped), then calls `done(err, buffer)`. Callback style: no promise per request. */
export function collectBody(req, done) {
  const chunks = [];
  let size = 0;
  let failed = false;
  req.on('data', (chunk) => {
    size += chunk.length;
    if (size > MAX_BODY_BYTES && !failed) {
      failed = true;
      done(new Error('body too large'));
    }
    if (!failed) chunks.push(chunk);
  });
  req.on('end', () => {
    if (!failed) done(null, chunks.length === 1 ? chunks[0] : Buffer.concat(chunks));
  });
}

/**
 * Scopes the JSON-RPC message(s) need under the benchmark policy: the default scopes, plus the
 * tool's scopes for each `tools/call` (batch-aware). Returns null when the body is not JSON.
 */
export function requiredScopes(body) {
  let message;
  try {
    message = JSON.parse(body.length === 0 ? 'null' : body.toString('utf8'));
  } catch {
    return null;
  }
  const needed = new Set(SCOPES.default);
  for (const m of Array.isArray(message) ? message : [message]) {
    if (m !== null && typeof m === 'object' && m.method === 'tools/call') {
      const name = m.params?.name;
      const extra = typeof name === 'string' && Object.hasOwn(SCOPES.tools, name) ? SCOPES.tools[name] : [];
      for (const s of extra) needed.add(s);
    }
  }
  return needed;
}

/** Scopes of `needed` missing from the token's space-delimited `scope` claim. */
export function missingScopes(needed, scopeClaim) {
  const granted = typeof scopeClaim === 'string' ? scopeClaim.split(' ') : [];
  const missing = [];
  for (const s of needed) if (!granted.includes(s)) missing.push(s);
  return missing;
}

/** Answers an RFC 6750 §3 / RFC 9449 §7.1 error. */
export function reject(res, status, error, extra = '') {
  const header = status === 403
    ? `DPoP error="insufficient_scope", algs="ES256"${extra}`
    : `DPoP error="${error}", algs="ES256"${extra}`;
  res.writeHead(status, { 'www-authenticate': header, 'content-type': 'text/plain' });
  res.end(error);
}

/** Answers the successful MCP call (the "tool" itself does nothing). */
export function ok(res) {
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end('ok');
}

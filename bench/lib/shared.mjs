// Constants every variant and the harness agree on.

/** Issuer of the benchmark access tokens (never fetched: keys are handed to servers locally). */
export const ISSUER = 'https://as.warden-bench.test';

/** Path of the protected MCP endpoint on every benchmark server. */
export const MCP_PATH = '/mcp';

/** Tool-scope policy, the same for every validating variant. */
export const SCOPES = Object.freeze({
  default: Object.freeze(['mcp:tools']),
  tools: Object.freeze({ admin_reset: Object.freeze(['mcp:admin']) }),
});

/** Clock skew and DPoP `iat` window (seconds): Warden's defaults. */
export const CLOCK_SKEW = 30;
export const PROOF_MAX_AGE = 60;

/** The JSON-RPC body of the timed requests: an MCP `tools/call`. */
export function toolsCallBody(tool = 'echo', id = 1) {
  return JSON.stringify({
    jsonrpc: '2.0',
    id,
    method: 'tools/call',
    params: { name: tool, arguments: { text: 'hello from the benchmark' } },
  });
}

/** Prints a usage error and exits 2. */
export function fatal(msg) {
  process.stderr.write(`bench: ${msg}\n`);
  process.exit(2);
}

/** Round options from the environment (BENCH_ROUNDS, BENCH_SECONDS, BENCH_CONCURRENCY, BENCH_WARMUP_SECONDS). */
export function roundOptions() {
  const num = (name, fallback) => {
    const v = Number(process.env[name] ?? fallback);
    if (!Number.isFinite(v) || v <= 0) fatal(`${name} must be a positive number, got ${process.env[name]}`);
    return v;
  };
  return {
    rounds: Math.round(num('BENCH_ROUNDS', 3)),
    seconds: num('BENCH_SECONDS', 3),
    concurrency: Math.round(num('BENCH_CONCURRENCY', 32)),
    warmupSeconds: num('BENCH_WARMUP_SECONDS', 1.5),
  };
}

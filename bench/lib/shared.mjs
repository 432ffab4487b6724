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

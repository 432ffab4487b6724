/**
 * `mcp-warden/audit`: attack-test the authorization of any MCP server — discovery, tokens, DPoP,
 * scopes, sessions and its authorization server — and render the findings (terminal, JSON,
 * SARIF 2.1.0, HTML). Never destructive: the only tool it calls is the one named as harmless,
 * requests are bounded and rate-limited, and only the target's and its authorization server's
 * origins are contacted.
 */
export { runAudit, selectChecks, AuditError, TOOL } from './run-audit.js';
export { CHECKS, checkDefinitions } from './catalog.js';
export { gradeAreas } from './grade.js';
export { DEFAULT_BUDGET, DEFAULT_RATE, type AuditOptions, type ProgressEvent, type SignIn } from './context.js';
export { generateProofKey, importProofKey, type ProofKey } from './proof-key.js';
export { renderTerminal, renderCheckList, type TerminalOptions } from './report/terminal.js';
export { renderJson, JSON_REPORT_FORMAT } from './report/json.js';
export { renderSarif, SARIF_SCHEMA } from './report/sarif.js';
export { renderHtml } from './report/html.js';
export { redactPatterns, Redactor, REDACTED } from './redact.js';
export type { Transport, ProbeRequest, ProbeResponse } from './http-client.js';
export { probeResponse } from './http-client.js';
export * from './types.js';
export { startLoopbackCallback, type LoopbackCallback } from '../client/loopback-callback.js';

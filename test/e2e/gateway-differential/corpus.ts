/**
 * The hostile requests of the gateway differential suite (`gateway-differential.test.ts`).
 *
 * Every case is one HTTP request a client with an `mcp:tools` token could send. Each is built so
 * that, if Warden forwarded it as it came, some real JSON parser or MCP transport would run a
 * different tool than the one Warden's `JSON.parse` authorized — or so that the request shows
 * whether Warden hands upstreams one canonical form (ASCII JSON, schema members only,
 * `Content-Type: application/json`, nothing client-written in forwarding headers). Most cases are
 * generated from tables (member names × spellings × arrangements); the exact attacks of the
 * issue are written out by hand and exported by name.
 *
 * A case may carry `expect`: the exact answer Warden's contract (DESIGN.md, "Gateway forwarding")
 * demands. Without it, the suite only demands the differential property: refused with a 4xx, or
 * forwarded in a form on which every upstream agrees with Warden.
 *
 * @see https://www.rfc-editor.org/rfc/rfc8259 (JSON: §2 whitespace, §4 duplicate names, §8.1 UTF-8 and BOM, §6 numbers, §8.2 surrogates)
 * @see https://www.jsonrpc.org/specification (§4 request object, §5.1 error codes, §6 batch)
 * @see https://modelcontextprotocol.io/specification/2025-06-18/basic/transports
 */
import { attackCases } from './attacks.js';
import type { DiffCase } from './case.js';
import { charsetCases, contentEncodingCases, contentTypeCases, encodingCases } from './encodings.js';
import { httpMethodCases, pathCases, sep2243Cases, spoofedHeaderCases } from './http.js';
import { duplicateCases, nestingCases, numberCases } from './json-values.js';
import { memberCases } from './members.js';
import { baselineCases, batchCases, messageShapeCases, methodValueCases, notificationCases, toolValueCases } from './messages.js';

export * from './attacks.js';
export type { CaseGroup, DiffCase, Expectation } from './case.js';
export { toolCall } from './json-text.js';
export { SPOOFED_HEADERS } from './http.js';

/** The whole corpus, in a stable order; throws if two cases share an id. */
export function buildCorpus(): DiffCase[] {
  const cases = [
    ...baselineCases(),
    ...attackCases(),
    ...memberCases(),
    ...duplicateCases(),
    ...encodingCases(),
    ...charsetCases(),
    ...contentEncodingCases(),
    ...contentTypeCases(),
    ...batchCases(),
    ...notificationCases(),
    ...nestingCases(),
    ...numberCases(),
    ...methodValueCases(),
    ...toolValueCases(),
    ...messageShapeCases(),
    ...pathCases(),
    ...httpMethodCases(),
    ...sep2243Cases(),
    ...spoofedHeaderCases(),
  ];
  const ids = new Set<string>();
  for (const c of cases) {
    if (ids.has(c.id)) throw new Error(`duplicate case id ${c.id}`);
    ids.add(c.id);
  }
  return cases;
}

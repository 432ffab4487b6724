/**
 * The caller's W3C trace context, for a server that does not trace itself: without OpenTelemetry
 * the stack starts no span, but a request that arrives with a valid `traceparent` still belongs
 * to the caller's trace, and its audit records say so (the trace id, and the caller's span as
 * `spanId`). The header is passed on unchanged, as a non-participating hop does.
 *
 * @see https://www.w3.org/TR/trace-context/#traceparent-header
 */
import type { RequestTrace } from '../oauth/authorization-decision.js';

// Version 00: trace-id and parent-id, lower-case hex, neither all zeros (§3.2.2.3, §3.2.2.4).
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/;

/** The trace `traceparent` names, or undefined when there is none or it is invalid. */
export function callerTrace(traceparent: string | undefined): RequestTrace | undefined {
  const match = traceparent === undefined ? null : TRACEPARENT.exec(traceparent);
  if (match === null) return undefined;
  const traceId = match[1]!;
  const spanId = match[2]!;
  if (/^0+$/.test(traceId) || /^0+$/.test(spanId)) return undefined;
  return { traceId, spanId, traceparent: traceparent!, decision: () => {} };
}

/**
 * The JSON report: the {@link AuditReport} as is, with a format tag, every string passed once more
 * through the credential patterns (evidence was redacted when it was taken; this is the second lock).
 */
import { redactPatterns } from '../redact.js';
import type { AuditReport } from '../types.js';

/** Identifies the shape of the JSON report; bumped when it changes incompatibly. */
export const JSON_REPORT_FORMAT = 'warden-audit-report/1';

/** Renders the report as pretty-printed JSON (with a final newline). */
export function renderJson(report: AuditReport): string {
  return `${JSON.stringify({ format: JSON_REPORT_FORMAT, ...report }, (_key, value: unknown) => (typeof value === 'string' ? redactPatterns(value) : value), 2)}\n`;
}

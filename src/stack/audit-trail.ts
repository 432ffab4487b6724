/**
 * The stack's audit trail: opened from the `audit` configuration (JSON lines on stdout or a
 * rotated file, chained per instance run), fed by every resource's decisions and the
 * authorization server's security events; and the check behind `warden audit-log verify`.
 */
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import type { WardenConfig } from '../config/defaults.js';
import { createAuditTrail, type AuditSink, type AuditTrail } from '../observability/audit-trail.js';
import { createJsonLinesSink } from '../observability/json-lines-sink.js';
import { verifyAuditLog, type ChainReport } from '../observability/verify-audit-log.js';
import { StackStartError } from './errors.js';
import { createTelemetry, type Telemetry } from '../observability/open-telemetry.js';

export type { AuditTrail } from '../observability/audit-trail.js';
export type { ChainReport, ChainProblem } from '../observability/verify-audit-log.js';
export type { AuditRecord, AuditEventType } from '../observability/audit-event.js';
export { AUDIT_EVENT_TYPES, AUDIT_SCHEMA } from '../observability/audit-event.js';

/**
 * The trail `config.audit` asks for, with `extraSinks` (OpenTelemetry, the console's view)
 * besides; undefined when audit is off and there are no extra sinks.
 *
 * @throws {StackStartError} when the audit file cannot be opened.
 */
export function openAuditTrail(config: WardenConfig, extraSinks: readonly AuditSink[] = []): AuditTrail | undefined {
  const audit = config.audit;
  if (!audit.enabled && extraSinks.length === 0) return undefined;
  const sinks: AuditSink[] = [...extraSinks];
  if (audit.enabled) {
    try {
      sinks.push(audit.sink === 'file' ? createJsonLinesSink({ kind: 'file', path: audit.path, maxBytes: audit.maxBytes, keep: audit.keep }) : createJsonLinesSink({ kind: 'stdout' }));
    } catch (error) {
      throw new StackStartError(`audit.path: cannot open ${audit.sink === 'file' ? audit.path : 'stdout'} for appending: ${(error as Error).message}`, { cause: error });
    }
  }
  return createAuditTrail({ instance: (audit.enabled ? audit.instance : undefined) ?? hostname(), sinks });
}

/**
 * The OpenTelemetry exporters `config.openTelemetry` asks for (the packages load only then).
 *
 * @throws {StackStartError} when the packages are not installed.
 */
export async function startTelemetry(config: WardenConfig): Promise<Telemetry | undefined> {
  const otel = config.openTelemetry;
  if (otel === undefined) return undefined;
  try {
    return await createTelemetry({
      endpoint: otel.endpoint,
      headers: otel.headers,
      serviceName: otel.serviceName,
      instance: (config.audit.enabled ? config.audit.instance : undefined) ?? hostname(),
      traces: otel.traces,
      logs: otel.logs,
    });
  } catch (error) {
    throw new StackStartError(`openTelemetry: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * Verifies the hash chains of audit log files, oldest first (rotated files: `audit.log.2`,
 * `audit.log.1`, `audit.log`).
 *
 * @throws when a file cannot be read.
 */
export async function verifyAuditLogFiles(paths: readonly string[]): Promise<ChainReport> {
  const logs = await Promise.all(paths.map(async (file) => ({ file, text: await readFile(file, 'utf8') })));
  return verifyAuditLog(logs);
}

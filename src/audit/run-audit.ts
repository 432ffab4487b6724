/**
 * Runs an audit: every selected check in catalogue order against one MCP endpoint, within the
 * request budget and rate, and assembles the report.
 */
import { readFileSync } from 'node:fs';
import { CHECKS } from './catalog.js';
import type { Check } from './check.js';
import { AuditContext, DEFAULT_RATE, type AuditOptions } from './context.js';
import { authorizationServer, authorizationServerMetadata, baseline, resourceMetadata } from './discovery.js';
import { BudgetExhaustedError, OriginNotAllowedError, TransportError } from './http-client.js';
import { gradeAreas } from './grade.js';
import { CheckInconclusive, CheckSkipped } from './signals.js';
import { severityRank, type AuditReport, type CheckOutcome, type Finding } from './types.js';

/** The audit could not run at all (the target is unreachable, the options are wrong). */
export class AuditError extends Error {
  override name = 'AuditError';
}

/** Name, version and home of the tool, for reports. */
export const TOOL = Object.freeze({
  name: 'warden audit',
  version: packageVersion(),
  informationUri: 'https://www.npmjs.com/package/mcp-warden',
});

function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : '0.0.0';
  } catch {
    return '0.0.0';
  }
}

/** The checks `only` selects: ids, or prefixes ending in `.` (`dpop.`); every check when empty. */
export function selectChecks(only: readonly string[] | undefined): Check[] {
  if (only === undefined || only.length === 0) return [...CHECKS];
  const unknown = only.filter((o) => !CHECKS.some((c) => c.id === o || (o.endsWith('.') && c.id.startsWith(o))));
  if (unknown.length > 0) throw new AuditError(`unknown check ${unknown.join(', ')} (warden audit --list shows every id)`);
  return CHECKS.filter((c) => only.some((o) => c.id === o || (o.endsWith('.') && c.id.startsWith(o))));
}

/**
 * Audits the MCP endpoint `options.url`. Never throws for what it finds; throws
 * {@link AuditError} when it cannot audit at all (bad options, target unreachable).
 */
export async function runAudit(options: AuditOptions): Promise<AuditReport> {
  let ctx: AuditContext;
  try {
    ctx = new AuditContext(options);
  } catch (error) {
    throw new AuditError((error as Error).message);
  }
  const checks = selectChecks(options.checks);
  const started = Date.now();
  const outcomes: CheckOutcome[] = [];
  try {
    try {
      await baseline(ctx);
    } catch (error) {
      if (error instanceof TransportError) throw new AuditError(`cannot reach ${ctx.target.url}: ${ctx.redactor.redact(error.message)}`);
      throw error;
    }
    for (const [index, check] of checks.entries()) {
      options.onProgress?.({ index, total: checks.length, id: check.id, title: check.title, phase: 'start', requests: ctx.http.sent });
      const cause = check.impliedBy?.find((id) => outcomes.some((o) => o.id === id && o.status === 'failed'));
      const outcome = cause === undefined ? await runCheck(ctx, check) : impliedOutcome(check, cause);
      outcomes.push(outcome);
      options.onProgress?.({ index, total: checks.length, id: check.id, title: check.title, phase: 'end', status: outcome.status, requests: ctx.http.sent });
    }
  } finally {
    ctx.http.close();
  }
  const findings = outcomes.flatMap((o) => o.findings).sort((a, b) => severityRank(a.severity) - severityRank(b.severity));
  const prm = await resourceMetadata(ctx).catch(() => undefined);
  const issuer = await authorizationServer(ctx).catch(() => undefined);
  const asMetadata = await authorizationServerMetadata(ctx).catch(() => undefined);
  return {
    tool: { ...TOOL },
    target: ctx.target.url,
    discovered: {
      ...(prm && { resourceMetadataUrl: prm.url }),
      ...(issuer && { authorizationServer: issuer }),
      ...(asMetadata && { authorizationServerMetadataUrl: asMetadata.url }),
    },
    startedAt: new Date(started).toISOString(),
    durationMs: Date.now() - started,
    requests: { sent: ctx.http.sent, budget: ctx.http.budget, rate: options.rate ?? DEFAULT_RATE },
    origins: ctx.http.origins,
    checks: outcomes,
    findings,
    grades: gradeAreas(outcomes),
    notes: [...new Set(ctx.notes.map((n) => ctx.redactor.redact(n)))],
  };
}

function impliedOutcome(check: Check, cause: string): CheckOutcome {
  return { id: check.id, area: check.area, title: check.title, status: 'skipped', reason: `implied by ${cause}, which failed (fix that first)`, requests: 0, findings: [] };
}

async function runCheck(ctx: AuditContext, check: Check): Promise<CheckOutcome> {
  const before = ctx.http.sent;
  const findings: Finding[] = [];
  const outcome = (status: CheckOutcome['status'], reason?: string): CheckOutcome => ({
    id: check.id,
    area: check.area,
    title: check.title,
    status,
    ...(reason !== undefined && { reason: ctx.redactor.redact(reason) }),
    requests: ctx.http.sent - before,
    findings,
  });
  try {
    await check.run({
      ctx,
      fail(detail, exchanges, options = {}) {
        findings.push({
          id: check.id,
          area: check.area,
          severity: options.severity ?? check.severity,
          title: check.title,
          detail: ctx.redactor.redact(detail),
          evidence: exchanges.map((e) => ctx.evidence(e)),
          standards: check.standards,
          fix: check.fix,
          location: options.location ?? ctx.target.url,
        });
      },
    });
    return outcome(findings.length > 0 ? 'failed' : 'passed');
  } catch (error) {
    // A finding already made stands even if a later step could not run.
    if (findings.length > 0) return outcome('failed');
    if (error instanceof CheckSkipped) return outcome('skipped', error.message);
    if (error instanceof CheckInconclusive) return outcome('inconclusive', error.message);
    if (error instanceof BudgetExhaustedError) return outcome('skipped', error.message);
    if (error instanceof OriginNotAllowedError) return outcome('skipped', error.message);
    return outcome('error', error instanceof Error ? error.message : String(error));
  }
}

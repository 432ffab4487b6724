/**
 * SARIF 2.1.0 output, for GitHub code scanning and other SARIF consumers: one run, every check a
 * rule (so a consumer knows what was tested), every finding a result whose location is the URL it
 * is about, with the redacted evidence in the result's property bag.
 * @see https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html
 */
import { createHash } from 'node:crypto';
import { redactPatterns } from '../redact.js';
import type { AuditReport, CheckDefinition, Severity } from '../types.js';

/** The schema the output conforms to. */
export const SARIF_SCHEMA = 'https://json.schemastore.org/sarif-2.1.0.json';

const LEVEL: Record<Severity, 'error' | 'warning' | 'note'> = { critical: 'error', high: 'error', medium: 'warning', low: 'note', info: 'note' };
/** GitHub reads `security-severity` (0–10) to rank alerts critical/high/medium/low. */
const SECURITY_SEVERITY: Record<Severity, string> = { critical: '9.5', high: '8.0', medium: '5.5', low: '3.0', info: '1.0' };

function rule(check: CheckDefinition) {
  const standards = check.standards.map((s) => `- [${s.cite}](${s.url})`).join('\n');
  return {
    id: check.id,
    name: check.id.replace(/[.-](\w)/g, (_m, c: string) => c.toUpperCase()).replace(/^\w/, (c) => c.toUpperCase()),
    shortDescription: { text: check.title },
    fullDescription: { text: check.summary },
    ...(check.standards[0] && { helpUri: check.standards[0].url }),
    help: { text: `${check.fix}\n\nStandards: ${check.standards.map((s) => `${s.cite} (${s.url})`).join('; ')}`, markdown: `${check.fix}\n\n**Standards**\n\n${standards}` },
    defaultConfiguration: { level: LEVEL[check.severity] },
    properties: { tags: ['security', 'mcp', 'oauth', check.area], precision: 'high', 'security-severity': SECURITY_SEVERITY[check.severity], severity: check.severity, needs: [...check.needs] },
  };
}

/** Renders the report as a SARIF 2.1.0 log (pretty-printed JSON with a final newline). */
export function renderSarif(report: AuditReport, checks: readonly CheckDefinition[]): string {
  const rules = checks.map(rule);
  const index = new Map(checks.map((c, i) => [c.id, i]));
  const results = report.findings.map((finding) => ({
    ruleId: finding.id,
    ruleIndex: index.get(finding.id) ?? -1,
    kind: 'fail',
    level: LEVEL[finding.severity],
    message: { text: `${finding.title}. ${finding.detail}` },
    locations: [{ physicalLocation: { artifactLocation: { uri: finding.location } } }],
    partialFingerprints: { 'wardenAuditFinding/v1': createHash('sha256').update(`${finding.id}\n${finding.location}`).digest('hex') },
    properties: {
      severity: finding.severity,
      'security-severity': SECURITY_SEVERITY[finding.severity],
      area: finding.area,
      standards: finding.standards.map((s) => s.cite),
      fix: finding.fix,
      evidence: finding.evidence,
    },
  }));
  const end = new Date(Date.parse(report.startedAt) + report.durationMs).toISOString();
  const log = {
    $schema: SARIF_SCHEMA,
    version: '2.1.0',
    runs: [
      {
        tool: { driver: { name: report.tool.name, semanticVersion: report.tool.version, version: report.tool.version, informationUri: report.tool.informationUri, rules } },
        automationDetails: { id: `warden-audit/${report.target}/` },
        invocations: [{ executionSuccessful: true, startTimeUtc: report.startedAt, endTimeUtc: end }],
        results,
        properties: {
          target: report.target,
          requests: report.requests,
          grades: report.grades,
          notRun: report.checks.filter((c) => c.status !== 'passed' && c.status !== 'failed').map((c) => ({ id: c.id, status: c.status, reason: c.reason })),
          notes: report.notes,
        },
      },
    ],
  };
  return `${JSON.stringify(log, (_key, value: unknown) => (typeof value === 'string' ? redactPatterns(value) : value), 2)}\n`;
}

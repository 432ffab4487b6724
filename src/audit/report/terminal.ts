/**
 * The terminal report: grades first, then each finding with what happened, the clause it breaks,
 * the fix and the decisive lines of evidence; then what did not run and why. Colour only when
 * asked (the CLI asks when stdout is a TTY and NO_COLOR is unset).
 */
import { AREA_NAMES, type AuditReport, type CheckDefinition, type Finding, type Grade, type Severity } from '../types.js';

/** Options of {@link renderTerminal}. */
export interface TerminalOptions {
  color?: boolean;
  /** Every line of evidence instead of the decisive ones. */
  verbose?: boolean;
}

type Paint = (text: string) => string;
const ansi = (code: string): Paint => (text) => `\x1b[${code}m${text}\x1b[0m`;
const plain: Paint = (text) => text;

interface Palette {
  bold: Paint;
  dim: Paint;
  severity: Record<Severity, Paint>;
  grade: Record<Grade, Paint>;
}

function palette(color: boolean): Palette {
  if (!color) {
    const severity = { critical: plain, high: plain, medium: plain, low: plain, info: plain };
    return { bold: plain, dim: plain, severity, grade: { A: plain, B: plain, C: plain, D: plain, F: plain, '-': plain } };
  }
  return {
    bold: ansi('1'),
    dim: ansi('2'),
    severity: { critical: ansi('1;97;41'), high: ansi('1;31'), medium: ansi('1;33'), low: ansi('36'), info: ansi('2') },
    grade: { A: ansi('1;32'), B: ansi('32'), C: ansi('1;33'), D: ansi('1;31'), F: ansi('1;97;41'), '-': ansi('2') },
  };
}

/** Renders the report for a terminal. */
export function renderTerminal(report: AuditReport, options: TerminalOptions = {}): string {
  const p = palette(options.color === true);
  const out: string[] = [];
  out.push(p.bold(`warden audit ${report.target}`));
  const as = report.discovered.authorizationServer;
  out.push(p.dim(`${as ? `authorization server ${as} · ` : ''}${report.requests.sent} requests in ${(report.durationMs / 1000).toFixed(1)} s (rate ${report.requests.rate}/s, budget ${report.requests.budget})`));
  out.push('');
  out.push(p.bold('Grades'));
  for (const g of report.grades.filter((grade) => grade.total > 0)) {
    const findings = g.findings === 0 ? '' : `  ${g.findings} finding${g.findings === 1 ? '' : 's'}`;
    out.push(`  ${AREA_NAMES[g.area].padEnd(22)}${p.grade[g.grade](g.grade.padEnd(2))}  ${p.dim(`${g.tested}/${g.total} checks`)}${findings}`);
  }
  out.push('');
  if (report.findings.length === 0) {
    out.push(p.bold('No findings.'));
  } else {
    out.push(p.bold(`Findings (${report.findings.length})`));
    for (const finding of report.findings) out.push('', ...renderFinding(finding, p, options.verbose === true));
  }
  const notRun = report.checks.filter((c) => c.status !== 'passed' && c.status !== 'failed');
  if (notRun.length > 0) {
    out.push('', p.bold(`Not run to a verdict (${notRun.length})`));
    for (const c of notRun) out.push(`  ${p.dim(c.status.padEnd(12))} ${c.id}: ${c.reason ?? ''}`);
  }
  if (report.notes.length > 0) {
    out.push('', p.bold('Notes'));
    for (const note of report.notes) out.push(`  - ${note}`);
  }
  return `${out.join('\n')}\n`;
}

function renderFinding(finding: Finding, p: Palette, verbose: boolean): string[] {
  const label = p.severity[finding.severity](` ${finding.severity.toUpperCase()} `);
  const lines = [`${label} ${p.bold(finding.title)}  ${p.dim(finding.id)}`, `  ${finding.detail}`];
  lines.push(`  ${p.dim('Breaks:')} ${finding.standards.map((s) => s.cite).join('; ')}`);
  lines.push(`  ${p.dim('Fix:')} ${finding.fix}`);
  for (const exchange of finding.evidence.slice(0, verbose ? undefined : 2)) {
    const request = verbose ? exchange.request.split('\n') : decisive(exchange.request, true);
    const response = verbose ? exchange.response.split('\n') : decisive(exchange.response, false);
    lines.push(...request.map((l) => p.dim(`  > ${l}`)), ...response.map((l) => p.dim(`  < ${l}`)));
  }
  return lines;
}

/** The lines that decide a finding: request line and notes; status line and the auth headers. */
function decisive(text: string, request: boolean): string[] {
  const lines = text.split('\n');
  const head = lines[0] ?? '';
  const keep = lines.slice(1).filter((l) => (request ? l.startsWith('# ') || /^(host|origin|x-forwarded-host):/.test(l) : /^(www-authenticate|location|access-control-allow-(origin|credentials)):/i.test(l)));
  return [head, ...keep.map((l) => (l.length > 160 ? `${l.slice(0, 157)}...` : l))];
}

/** `warden audit --list`: every check with its id, severity, area and what it needs. */
export function renderCheckList(checks: readonly CheckDefinition[], options: { color?: boolean } = {}): string {
  const p = palette(options.color === true);
  const out: string[] = [];
  let area = '';
  for (const check of checks) {
    if (check.area !== area) {
      area = check.area;
      out.push('', p.bold(AREA_NAMES[check.area]));
    }
    const needs = check.needs.length === 0 ? 'no credentials' : `needs ${check.needs.join(', ')}`;
    out.push(`  ${check.id.padEnd(46)}${p.severity[check.severity](check.severity.padEnd(9))}${check.title}`);
    out.push(p.dim(`  ${' '.repeat(46)}${' '.repeat(9)}${needs} · ${check.standards.map((s) => s.cite).join('; ')}`));
  }
  return `${out.join('\n').trimStart()}\n`;
}

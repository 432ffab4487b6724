/**
 * `warden audit-log verify FILE...`: checks the hash chains of audit log files (oldest first) and
 * says whether they are intact, or where a record was cut, edited or moved. Exit 0 intact, 1 not
 * (or unreadable), 2 usage.
 */
import { verifyAuditLogFiles, type ChainReport } from '../stack/index.js';

/** The verdict, and the lines to print. */
export interface AuditLogVerifyResult {
  intact: boolean;
  lines: string[];
  report?: ChainReport;
}

/** Verifies `files`; an unreadable file is a failed verification, not a crash. */
export async function auditLogVerifyCommand(files: readonly string[], options: { json?: boolean } = {}): Promise<AuditLogVerifyResult> {
  let report: ChainReport;
  try {
    report = await verifyAuditLogFiles(files);
  } catch (error) {
    return { intact: false, lines: [`cannot read the audit log: ${(error as Error).message}`] };
  }
  if (options.json) return { intact: report.intact, lines: [JSON.stringify(report, null, 2)], report };
  const lines: string[] = [];
  const chains = report.chains.length;
  if (report.intact) {
    lines.push(`intact: ${report.records} record(s) in ${chains} chain(s)${report.skipped > 0 ? `, ${report.skipped} other line(s) skipped` : ''}`);
    for (const chain of report.chains.filter((c) => !c.complete)) {
      lines.push(`note: chain ${chain.chain} starts at seq ${chain.first}; its earlier records are in an older (rotated) file — pass it first to check across the rotation`);
    }
  } else {
    lines.push(`NOT intact: ${report.problems.length} problem(s) in ${report.records} record(s)`);
    for (const p of report.problems) lines.push(`${p.file}:${p.line}: ${p.kind}: ${p.message}`);
  }
  return { intact: report.intact, lines, report };
}

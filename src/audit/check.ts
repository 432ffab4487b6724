/**
 * A check: its definition (what `--list` and SARIF show) and the steps that test it. A check
 * reports a finding with `fail`, and stops early with `skip` or `inconclusive` (see signals.ts).
 */
import type { AuditContext } from './context.js';
import type { Exchange } from './http-client.js';
import type { CheckDefinition, Severity } from './types.js';

/** What a running check can do. */
export interface CheckRun {
  readonly ctx: AuditContext;
  /**
   * Reports a finding: `detail` says what happened in this audit, `exchanges` prove it (they are
   * redacted before they are kept). `severity` lowers (or raises) the check's default for this
   * case, e.g. when the behaviour is a documented trade-off.
   */
  fail(detail: string, exchanges: readonly Exchange[], options?: { severity?: Severity; location?: string }): void;
}

/** A check with its steps. */
export interface Check extends CheckDefinition {
  run(run: CheckRun): Promise<void>;
}

/** Identity function that type-checks a check and freezes its definition. */
export function defineCheck(check: Check): Check {
  return Object.freeze({
    ...check,
    standards: Object.freeze([...check.standards]),
    needs: Object.freeze([...check.needs]),
    ...(check.impliedBy && { impliedBy: Object.freeze([...check.impliedBy]) }),
  });
}

/**
 * The vocabulary of `warden audit`: checks, findings, outcomes and the report every writer
 * (terminal, JSON, SARIF, HTML) renders.
 */

/** How bad a finding is. `critical`: anyone can act without a valid token; `info`: worth knowing. */
export type Severity = 'critical' | 'high' | 'medium' | 'low' | 'info';

/** Severities from worst to mildest. */
export const SEVERITIES: readonly Severity[] = Object.freeze(['critical', 'high', 'medium', 'low', 'info']);

/** Rank of a severity: 0 for `critical` … 4 for `info` (lower is worse). */
export function severityRank(severity: Severity): number {
  return SEVERITIES.indexOf(severity);
}

/** True when `severity` is `threshold` or worse. */
export function atLeast(severity: Severity, threshold: Severity): boolean {
  return severityRank(severity) <= severityRank(threshold);
}

/** The part of a deployment a check looks at; each gets its own grade. */
export type Area = 'discovery' | 'transport' | 'tokens' | 'dpop' | 'scopes' | 'sessions' | 'authorization-server';

/** Areas in report order. */
export const AREAS: readonly Area[] = Object.freeze(['discovery', 'transport', 'tokens', 'dpop', 'scopes', 'sessions', 'authorization-server']);

/** Human names of the areas. */
export const AREA_NAMES: Readonly<Record<Area, string>> = Object.freeze({
  discovery: 'Discovery',
  transport: 'Transport',
  tokens: 'Tokens',
  dpop: 'DPoP',
  scopes: 'Scopes',
  sessions: 'Sessions',
  'authorization-server': 'Authorization server',
});

/** A clause a finding breaks: `RFC 9449 §4.3` with a link to it. */
export interface Standard {
  cite: string;
  url: string;
}

/** What a check needs beyond the target URL, for `--list` and skip messages. */
export type Need = 'token' | 'dpop-bound-token' | 'unbound-token' | 'client' | 'second-token' | 'other-resource' | 'probe-tool' | 'sign-in' | 'allow-refresh' | 'id-token' | 'loopback';

/** A check as `warden audit --list` shows it and SARIF describes its rule. */
export interface CheckDefinition {
  /** Stable id: `area.what` (`dpop.proof-replay`). */
  id: string;
  area: Area;
  /** Severity of its findings (a finding may lower it, e.g. when a default is a documented choice). */
  severity: Severity;
  /** What is wrong when the check fails, as a finding title. */
  title: string;
  /** What the check sends and what it expects. */
  summary: string;
  standards: readonly Standard[];
  /** How to fix a failure. */
  fix: string;
  /** Inputs beyond the URL; the check is skipped (saying why) without them. */
  needs: readonly Need[];
  /**
   * Checks whose failure already implies this one (a server that verifies no signature accepts
   * `alg: none` too): when one failed, this check is not run, so a report names the root cause.
   */
  impliedBy?: readonly string[];
}

/** One request and its response, as evidence: excerpts with every credential redacted. */
export interface ExchangeExcerpt {
  /** Request line, the headers that matter, and the start of the body. */
  request: string;
  /** Status line, the headers that matter, and the start of the body. */
  response: string;
}

/** A failed check, with the evidence that shows it. */
export interface Finding {
  id: string;
  area: Area;
  severity: Severity;
  title: string;
  /** What happened in this audit, in one or two sentences. */
  detail: string;
  /** The request(s) and response(s) that prove it (redacted). */
  evidence: ExchangeExcerpt[];
  standards: readonly Standard[];
  fix: string;
  /** The URL the finding is about (the MCP endpoint, or an authorization-server endpoint). */
  location: string;
}

/** What became of one check. */
export type CheckStatus = 'passed' | 'failed' | 'skipped' | 'inconclusive' | 'error';

/** The outcome of one check in one audit. */
export interface CheckOutcome {
  id: string;
  area: Area;
  title: string;
  status: CheckStatus;
  /** Why it was skipped or inconclusive, or what went wrong (redacted). */
  reason?: string;
  /** Requests this check sent (discovery requests count for the check that needed them first). */
  requests: number;
  findings: Finding[];
}

/** A letter per area: A (no findings) … F (a critical finding); `-` when nothing in the area ran. */
export type Grade = 'A' | 'B' | 'C' | 'D' | 'F' | '-';

/** The grade of one area, and how much of it was tested. */
export interface AreaGrade {
  area: Area;
  grade: Grade;
  /** Checks that ran to a verdict (passed or failed). */
  tested: number;
  /** Checks in the area. */
  total: number;
  findings: number;
}

/** Everything one audit found: what the writers render. */
export interface AuditReport {
  tool: { name: string; version: string; informationUri: string };
  /** The MCP endpoint audited. */
  target: string;
  /** What discovery learned: the metadata URLs and the authorization server, when found. */
  discovered: {
    resourceMetadataUrl?: string;
    authorizationServer?: string;
    authorizationServerMetadataUrl?: string;
  };
  startedAt: string;
  durationMs: number;
  /** Requests sent, and the limits that bounded them. */
  requests: { sent: number; budget: number; rate: number };
  /** Origins the audit was allowed to contact (the target's and its authorization server's). */
  origins: string[];
  checks: CheckOutcome[];
  /** Every finding, worst first. */
  findings: Finding[];
  grades: AreaGrade[];
  /** Things worth saying that are not findings (an input that was not used, a metadata quirk). */
  notes: string[];
}

/**
 * The gallery: one small reference MCP server with its authorization server, correct by default,
 * started once per flaw with exactly that flaw switched on. `warden audit`, given everything a
 * thorough reviewer has (a confidential client, a second principal, another resource, an ID token,
 * a probe tool, a sign-in, --allow-refresh), must report the planted flaw under its id — and
 * nothing else — while calling no tool but the probe tool and contacting no other origin.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { CHECKS, runAudit, type AuditReport } from '../../src/audit/index.js';
import { DPOP_REQUIRED_FLAWS, FLAWS, startGallery, type Flaw, type Gallery } from '../helpers/gallery/index.js';

const RATE = 5000;
let gallery: Gallery | undefined;
afterEach(async () => {
  await gallery?.close();
  gallery = undefined;
});

async function audit(options: { flaw?: Flaw; requireDpop?: boolean }): Promise<{ report: AuditReport; server: Gallery }> {
  gallery = await startGallery(options);
  const report = await runAudit({ url: gallery.resource, rate: RATE, ...(await gallery.auditCredentials()) });
  return { report, server: gallery };
}

/** What a reviewer reads when the expectation fails: every check that did not pass, and why. */
function summary(report: AuditReport): string {
  return report.checks
    .filter((c) => c.status !== 'passed')
    .map((c) => `${c.status} ${c.id}: ${c.reason ?? c.findings.map((f) => f.detail).join(' | ')}`)
    .join('\n');
}

/** The audit stayed on the gallery's origin and never called a tool but the probe tool. */
function expectNonDestructive(server: Gallery): void {
  const origin = new URL(server.origin);
  const hosts = server.state.requests.map((r) => r.host);
  // The DNS-rebinding probes send a foreign Host header to this very server; nothing else may.
  expect(hosts.filter((h) => h !== origin.host && h !== 'rebind.warden-audit.invalid')).toEqual([]);
  expect(server.state.toolCalls.filter((t) => t !== 'admin_status')).toEqual([]);
}

function citation(id: string): string {
  return CHECKS.find((c) => c.id === id)?.standards.map((s) => s.cite).join(', ') ?? '?';
}

describe('warden audit against the reference server of the gallery', () => {
  it('RFC 6750 §3, RFC 9449 §4.3, RFC 9700 §2.1.1: no findings, and every check that can run reaches a verdict', async () => {
    const { report, server } = await audit({});
    expect(report.findings, summary(report)).toEqual([]);
    const undecided = report.checks.filter((c) => c.status !== 'passed' && c.status !== 'failed').map((c) => c.id);
    // Only what needs an https target or DPoP-required metadata cannot run here.
    expect(undecided.sort(), summary(report)).toEqual(['dpop.required-not-enforced', 'transport.hsts-missing']);
    expect(server.state.toolCalls).toEqual([]);
    expectNonDestructive(server);
    expect(report.requests.sent).toBeLessThanOrEqual(100);
  });

  it('RFC 9728 §2 (dpop_bound_access_tokens_required), RFC 9449 §7.1: no findings when the resource requires DPoP', async () => {
    const { report, server } = await audit({ requireDpop: true });
    expect(report.findings, summary(report)).toEqual([]);
    expect(report.checks.find((c) => c.id === 'dpop.required-not-enforced')?.status, summary(report)).toBe('passed');
    expectNonDestructive(server);
  });
});

describe('warden audit finds each planted flaw, and only it', () => {
  const cases = (Object.entries(FLAWS) as Array<[Flaw, string]>).map(([flaw, id]) => [flaw, id, citation(id)] as const);
  it.each(cases)('%s → %s (%s)', async (flaw, id) => {
    const { report, server } = await audit({ flaw });
    expect(report.findings.map((f) => f.id), summary(report)).toEqual([id]);
    const [finding] = report.findings;
    expect(finding?.standards.length).toBeGreaterThan(0);
    expect(finding?.fix.length).toBeGreaterThan(10);
    // Every finding shows the exchange that proves it, except the iss check (its evidence is the redirect in the detail).
    if (id !== 'as.authorization-response-iss') expect(finding?.evidence.length).toBeGreaterThan(0);
    expectNonDestructive(server);
    if (DPOP_REQUIRED_FLAWS.includes(flaw)) expect(server.state.requireDpop).toBe(true);
  });

  it('MCP Authorization "Scope Challenge Handling": a server that does not enforce scopes runs only the probe tool, once', async () => {
    const { server } = await audit({ flaw: 'scopes-not-enforced' });
    expect(server.state.toolCalls).toEqual(['admin_status']);
  });
});

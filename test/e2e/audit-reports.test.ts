/**
 * The report formats of `warden audit`, from one real audit of a gallery server with a few planted
 * flaws: SARIF 2.1.0 that code-scanning tools accept, JSON, the terminal report, and the HTML page —
 * opened in headless Chromium, where it must load nothing but itself, log no error, show every
 * finding, and be screenshotted for a person to look at.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkDefinitions, gradeAreas, JSON_REPORT_FORMAT, renderHtml, renderJson, renderSarif, renderTerminal, runAudit, SARIF_SCHEMA, type AuditReport } from '../../src/audit/index.js';
import { browserSupport, launchBrowser, trackConsoleErrors } from '../helpers/browser.js';
import { startGallery } from '../helpers/gallery/index.js';

const SCREENSHOTS = fileURLToPath(new URL('../../test-artifacts/screenshots/audit/', import.meta.url));
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

let report: AuditReport;

beforeAll(async () => {
  // A report with findings of two severities (from two gallery servers) exercises every part of the writers.
  const server = await startGallery({ flaw: 'bearer-for-bound' });
  try {
    report = await runAudit({ url: server.resource, rate: 5000, ...(await server.auditCredentials()) });
  } finally {
    await server.close();
  }
  const rebinding = await startGallery({ flaw: 'dns-rebinding' });
  try {
    const second = await runAudit({ url: rebinding.resource, rate: 5000 });
    const checks = report.checks.map((c) => second.checks.find((s) => s.id === c.id && s.status === 'failed') ?? c);
    report = { ...report, findings: [...report.findings, ...second.findings], checks, grades: gradeAreas(checks) };
  } finally {
    await rebinding.close();
  }
  expect(report.findings.map((f) => f.severity).sort()).toEqual(['high', 'low']);
});

describe('SARIF 2.1.0 (--sarif)', () => {
  it('SARIF 2.1.0 §3.13–3.27: one run whose rules are every check and whose results point at their rule', () => {
    const log = JSON.parse(renderSarif(report, checkDefinitions())) as {
      $schema: string;
      version: string;
      runs: Array<{
        tool: { driver: { name: string; version: string; informationUri: string; rules: Array<{ id: string; shortDescription: { text: string }; helpUri: string; defaultConfiguration: { level: string }; properties: { 'security-severity': string } }> } };
        results: Array<{ ruleId: string; ruleIndex: number; level: string; kind: string; message: { text: string }; locations: Array<{ physicalLocation: { artifactLocation: { uri: string } } }>; partialFingerprints: Record<string, string> }>;
        invocations: Array<{ executionSuccessful: boolean }>;
      }>;
    };
    expect(log.$schema).toBe(SARIF_SCHEMA);
    expect(log.version).toBe('2.1.0');
    expect(log.runs).toHaveLength(1);
    const [run] = log.runs;
    const rules = run!.tool.driver.rules;
    expect(rules.map((r) => r.id)).toEqual(checkDefinitions().map((c) => c.id));
    for (const rule of rules) {
      expect(rule.shortDescription.text.length).toBeGreaterThan(10);
      expect(rule.helpUri).toMatch(/^https:\/\//);
      expect(['error', 'warning', 'note']).toContain(rule.defaultConfiguration.level);
      expect(Number(rule.properties['security-severity'])).toBeGreaterThan(0);
    }
    expect(run!.tool.driver.name).toBe('warden audit');
    expect(run!.results).toHaveLength(report.findings.length);
    for (const [i, result] of run!.results.entries()) {
      expect(rules[result.ruleIndex]?.id).toBe(result.ruleId);
      expect(result.kind).toBe('fail');
      expect(result.locations[0]?.physicalLocation.artifactLocation.uri).toBe(report.findings[i]?.location);
      expect(Object.values(result.partialFingerprints)[0]).toMatch(/^[0-9a-f]{64}$/);
    }
    expect(run!.results.map((r) => r.level).sort()).toEqual(['error', 'note']);
    expect(run!.invocations[0]?.executionSuccessful).toBe(true);
  });
});

describe('JSON (--json) and the terminal report', () => {
  it('JSON carries the format tag, every check outcome, grades and findings with evidence', () => {
    const json = JSON.parse(renderJson(report)) as AuditReport & { format: string };
    expect(json.format).toBe(JSON_REPORT_FORMAT);
    expect(json.checks.map((c) => c.id)).toEqual(checkDefinitions().map((c) => c.id));
    expect(json.grades.find((g) => g.area === 'dpop')?.grade).toBe('D');
    expect(json.grades.find((g) => g.area === 'transport')?.grade).toBe('B');
    expect(json.findings[0]?.evidence[0]?.request).toContain('authorization: Bearer [redacted]');
  });

  it('the terminal report shows grades and findings, and colour only when asked', () => {
    const plain = renderTerminal(report);
    expect(plain).toContain('Grades');
    expect(plain).toMatch(/DPoP\s+D /);
    expect(plain).toContain(' HIGH  A DPoP-bound token works without its proof');
    expect(plain).toContain('RFC 9449 §7.2');
    expect(plain).not.toContain('\x1b[');
    expect(renderTerminal(report, { color: true })).toContain('\x1b[1;31m');
  });
});

const browser = await browserSupport();

describe.skipIf(browser.skip)(`HTML (--html) in Chromium${browser.note}`, () => {
  let chromium: Browser;
  beforeAll(async () => {
    chromium = await launchBrowser();
  });
  afterAll(async () => {
    await chromium?.close();
  });

  it('one self-contained page: loads nothing else, no console errors, every finding and grade shown; screenshot saved', async () => {
    await rm(SCREENSHOTS, { recursive: true, force: true });
    await mkdir(SCREENSHOTS, { recursive: true });
    const file = join(SCREENSHOTS, 'report.html');
    await writeFile(file, renderHtml(report));
    const context = await chromium.newContext({ viewport: { width: 1200, height: 900 } });
    const page = await context.newPage();
    const errors = trackConsoleErrors(page);
    const requested: string[] = [];
    page.on('request', (request) => requested.push(request.url()));
    await page.goto(`file://${file}`);
    expect(requested).toEqual([`file://${file}`]);
    expect(errors()).toEqual([]);
    expect(await page.title()).toBe(`warden audit: ${report.target}`);
    expect(await page.locator('html').getAttribute('lang')).toBe('en');
    expect(await page.getByRole('heading', { level: 1 }).innerText()).toContain(report.target);
    expect(await page.locator('article.finding').count()).toBe(report.findings.length);
    for (const finding of report.findings) expect(await page.locator(`article[id="${finding.id}"] h3`).innerText()).toContain(finding.title);
    expect(await page.locator('.grades li').count()).toBe(7);
    expect(await page.locator('[aria-label="grade D"]').count()).toBe(1);
    expect(await page.locator('tbody tr').count()).toBe(report.checks.length);
    expect(await page.locator('pre').first().innerText()).toContain('[redacted]');
    // The evidence of the first finding is open; a reader can expand the others.
    expect(await page.locator('article.finding details[open]').count()).toBe(report.findings.length);
    const png = await page.screenshot({ path: join(SCREENSHOTS, 'report.png'), fullPage: true });
    expect(png.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
    await context.close();
  });
});

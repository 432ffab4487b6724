/**
 * What `warden audit` promises about itself, checked against gallery servers that record every
 * request: it contacts no origin but the target's and its authorization server's (even when the
 * metadata points elsewhere), it stops at its request budget, it keeps to its rate, and no token,
 * proof, code or secret it sent or received appears in any report format.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { checkDefinitions, renderHtml, renderJson, renderSarif, renderTerminal, runAudit, type AuditReport } from '../../src/audit/index.js';
import { SERVICE_CLIENT, startGallery, USER, type Flaw, type Gallery } from '../helpers/gallery/index.js';

const SECRET_PARAMETERS = new Set(['access_token', 'refresh_token', 'id_token', 'code', 'code_verifier', 'client_secret', 'token', 'password']);
const open: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const thing of open.splice(0)) await thing.close();
});

async function gallery(options: Parameters<typeof startGallery>[0] = {}): Promise<Gallery> {
  const server = await startGallery(options);
  open.push(server);
  return server;
}

/** A server on another origin that records what reaches it (nothing should). */
async function decoy(): Promise<{ origin: string; hits: string[] }> {
  const hits: string[] = [];
  const server: Server = createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"keys":[]}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  open.push({ close: () => new Promise<void>((resolve) => server.close(() => resolve())) });
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits };
}

function everyOutput(report: AuditReport): string {
  return [renderTerminal(report, { verbose: true }), renderJson(report), renderSarif(report, checkDefinitions()), renderHtml(report)].join('\n');
}

describe('warden audit stays within its bounds', () => {
  it('MCP Authorization "Authorization Server Location": metadata pointing at another origin is not followed there', async () => {
    const elsewhere = await decoy();
    const server = await gallery({ decoyOrigin: elsewhere.origin });
    const report = await runAudit({ url: server.resource, rate: 5000, ...(await server.auditCredentials()) });
    expect(elsewhere.hits).toEqual([]);
    expect(report.origins).toEqual([server.origin]);
    expect(report.notes.join('\n')).toContain(elsewhere.origin);
    expect(report.findings.map((f) => f.id)).toEqual([]);
    expect(report.checks.find((c) => c.id === 'tokens.alg-confusion')?.status).toBe('skipped');
  });

  it('stops at --max-requests: the server receives at most the budget, and later checks say why they did not run', async () => {
    const server = await gallery();
    const report = await runAudit({ url: server.resource, rate: 5000, maxRequests: 20, ...(await server.auditCredentials()) });
    expect(report.requests.sent).toBe(20);
    // The sign-in page requests are the (played) user's browser, not the audit's.
    expect(server.state.requests.filter((r) => r.userAgent === 'warden-audit')).toHaveLength(20);
    const starved = report.checks.filter((c) => c.reason?.includes('request budget (20) is spent'));
    expect(starved.length).toBeGreaterThan(10);
    expect(report.findings).toEqual([]);
  });

  it('keeps to --rate: 12 requests at 20/s take at least 550 ms', async () => {
    const server = await gallery();
    const started = performance.now();
    const report = await runAudit({ url: server.resource, rate: 20, maxRequests: 12 });
    expect(report.requests.sent).toBe(12);
    // 12 requests spaced 50 ms apart: the last starts 550 ms after the first.
    expect(performance.now() - started).toBeGreaterThanOrEqual(550);
  });
});

describe('warden audit never prints a credential', () => {
  const flaws: Flaw[] = ['bearer-for-bound', 'token-in-query', 'code-reuse', 'refresh-reuse', 'open-machine-registration', 'session-not-bound', 'auto-approve', 'alg-none'];
  it.each(flaws)('RFC 6750 §5.3, RFC 9449 §11: no token, proof, code or secret of the %s run appears in terminal, JSON, SARIF or HTML output', async (flaw) => {
    const server = await gallery({ flaw });
    const credentials = await server.auditCredentials();
    const report = await runAudit({ url: server.resource, rate: 5000, ...credentials });
    expect(report.findings.length).toBeGreaterThan(0);
    const output = everyOutput(report);
    const secrets = new Set<string>([...server.state.issued, SERVICE_CLIENT.clientSecret, USER.password, credentials.secondToken as string, credentials.idToken as string]);
    for (const request of server.state.requests) {
      const token = /^\S+\s+(\S+)/.exec(request.authorization ?? '')?.[1];
      if (token !== undefined) secrets.add(token);
      if (request.dpop !== undefined) secrets.add(request.dpop);
      // (code_challenge is public by design, RFC 7636 §4.3: it is not a credential.)
      for (const [name, value] of [...new URLSearchParams(request.url.split('?')[1] ?? ''), ...new URLSearchParams(request.body)]) {
        if (SECRET_PARAMETERS.has(name) && value.length >= 6) secrets.add(value);
      }
    }
    expect(secrets.size).toBeGreaterThan(10);
    const leaked = [...secrets].filter((s) => output.includes(s));
    expect(leaked.map((s) => `${s.slice(0, 12)}…`)).toEqual([]);
    expect(output).toContain('[redacted]');
  });
});

/**
 * Transport checks against servers off the local machine, which the test suite cannot listen as:
 * the audit's transport is replaced by a function answering as `https://mcp.example.test` would.
 */
import { describe, expect, it } from 'vitest';
import { probeResponse, type ProbeRequest, type ProbeResponse } from '../http-client.js';
import { runAudit } from '../run-audit.js';

interface Site {
  issuer: string;
  hsts: boolean;
  tokenEndpoint?: string;
}

/** An MCP endpoint, its resource metadata and its authorization server's metadata; nothing else. */
function site({ issuer, hsts, tokenEndpoint }: Site): { transport: (request: ProbeRequest) => Promise<ProbeResponse>; seen: string[] } {
  const seen: string[] = [];
  const json = (body: unknown, extra: Array<[string, string]> = []) => probeResponse(200, [['content-type', 'application/json'], ...extra], JSON.stringify(body));
  const transport = async (request: ProbeRequest) => {
    seen.push(`${request.method} ${request.url}`);
    const url = new URL(request.url);
    const security: Array<[string, string]> = hsts && url.protocol === 'https:' ? [['strict-transport-security', 'max-age=31536000']] : [];
    if (url.href === 'https://mcp.example.test/mcp') {
      return probeResponse(401, [['www-authenticate', 'Bearer scope="mcp:tools", resource_metadata="https://mcp.example.test/.well-known/oauth-protected-resource/mcp"'], ...security], '{}');
    }
    if (url.href === 'https://mcp.example.test/.well-known/oauth-protected-resource/mcp') {
      return json({ resource: 'https://mcp.example.test/mcp', authorization_servers: [issuer], scopes_supported: ['mcp:tools'] }, security);
    }
    if (url.pathname === '/.well-known/oauth-authorization-server' && url.origin === new URL(issuer).origin) {
      return json({ issuer, authorization_endpoint: `${issuer}/authorize`, token_endpoint: tokenEndpoint ?? `${issuer}/token`, code_challenge_methods_supported: ['S256'], response_types_supported: ['code'], authorization_response_iss_parameter_supported: true, client_id_metadata_document_supported: true });
    }
    return probeResponse(404, [], '');
  };
  return { transport, seen };
}

const CHECKS = ['transport.', 'discovery.'];

describe('transport checks off the local machine (MCP Authorization, Communication Security; RFC 6797)', () => {
  it('OAuth 2.1 §1.5: an authorization server on plain http is reported (high), with every http endpoint named', async () => {
    const { transport } = site({ issuer: 'http://as.example.test', hsts: true });
    const report = await runAudit({ url: 'https://mcp.example.test/mcp', transport, checks: CHECKS, rate: 1e6 });
    const finding = report.findings.find((f) => f.id === 'transport.plain-http');
    expect(finding?.severity).toBe('high');
    expect(finding?.detail).toBe('Plain http off the local machine: http://as.example.test, http://as.example.test/authorize, http://as.example.test/token.');
    expect(report.findings.map((f) => f.id)).toEqual(['transport.plain-http']);
  });

  it('RFC 6797 §7.1: an https endpoint without Strict-Transport-Security is reported (low); with it, nothing', async () => {
    const without = await runAudit({ url: 'https://mcp.example.test/mcp', transport: site({ issuer: 'https://as.example.test', hsts: false }).transport, checks: CHECKS, rate: 1e6 });
    expect(without.findings.map((f) => `${f.severity} ${f.id}`)).toEqual(['low transport.hsts-missing']);
    const withHsts = await runAudit({ url: 'https://mcp.example.test/mcp', transport: site({ issuer: 'https://as.example.test', hsts: true }).transport, checks: CHECKS, rate: 1e6 });
    expect(withHsts.findings).toEqual([]);
    expect(withHsts.checks.find((c) => c.id === 'transport.dns-rebinding')?.status).toBe('skipped');
  });

  it('an endpoint of the authorization server on a third origin is noted and never contacted', async () => {
    const { transport, seen } = site({ issuer: 'https://as.example.test', hsts: true, tokenEndpoint: 'https://tokens.elsewhere.test/token' });
    const report = await runAudit({ url: 'https://mcp.example.test/mcp', transport, checks: CHECKS, rate: 1e6 });
    expect(seen.filter((s) => s.includes('elsewhere'))).toEqual([]);
    expect(report.notes.join('\n')).toContain('token_endpoint is on https://tokens.elsewhere.test');
    expect(report.origins).toEqual(['https://mcp.example.test', 'https://as.example.test']);
  });
});

import { describe, expect, it } from 'vitest';
import { BudgetExhaustedError, OriginNotAllowedError, ProbeClient, probeResponse, type ProbeRequest } from './http-client.js';

function client(budget: number) {
  const sent: ProbeRequest[] = [];
  const probe = new ProbeClient({
    rate: 1_000_000,
    budget,
    timeoutMs: 1_000,
    transport: async (request) => {
      sent.push(request);
      return probeResponse(200, [['content-type', 'text/plain']], 'ok');
    },
  });
  probe.allowOrigin('https://mcp.example');
  return { probe, sent };
}

describe('ProbeClient: the gates every audit request passes', () => {
  it('sends at most the budget, then refuses without sending', async () => {
    const { probe, sent } = client(3);
    for (let i = 0; i < 3; i++) await probe.send({ method: 'GET', url: 'https://mcp.example/x' });
    await expect(probe.send({ method: 'GET', url: 'https://mcp.example/x' })).rejects.toBeInstanceOf(BudgetExhaustedError);
    expect(sent).toHaveLength(3);
    expect(probe.sent).toBe(3);
  });

  it('refuses other origins — another host, port or scheme — without sending or spending budget', async () => {
    const { probe, sent } = client(10);
    for (const url of ['https://evil.example/x', 'https://mcp.example:8443/x', 'http://mcp.example/x', 'file:///etc/passwd']) {
      await expect(probe.send({ method: 'GET', url })).rejects.toBeInstanceOf(OriginNotAllowedError);
    }
    expect(sent).toEqual([]);
    expect(probe.sent).toBe(0);
    probe.allowOrigin('https://as.example/any/path');
    await probe.send({ method: 'GET', url: 'https://as.example/token' });
    expect(sent.map((r) => r.url)).toEqual(['https://as.example/token']);
  });

  it('lower-cases header names and identifies itself', async () => {
    const { probe, sent } = client(1);
    await probe.send({ method: 'GET', url: 'https://mcp.example/', headers: { Accept: 'application/json' } });
    expect(sent[0]?.headers).toEqual({ 'user-agent': 'warden-audit', accept: 'application/json' });
  });
});

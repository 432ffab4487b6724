import { describe, expect, it } from 'vitest';
import { createContext } from './context.js';
import { createResourceServer } from '../resource-server/index.js';
import { createMemoryAuthorizationServerStores } from '../stores/index.js';
import { createTestIssuer } from '../../test/helpers/test-issuer.js';

describe('DPoP nonces shared across one origin (RFC 9449 §8–9; MCP SDK v2 keeps one nonce per origin)', () => {
  it('a nonce issued by a resource server is accepted at the token endpoint when both use dpop.nonceSecret', async () => {
    const secret = 'n'.repeat(48);
    const ctx = createContext({
      issuer: 'https://mcp.example.com',
      stores: createMemoryAuthorizationServerStores(),
      secret: 'a'.repeat(48),
      dpop: { requireNonce: true, nonceSecret: secret },
      resources: [{ uri: 'https://mcp.example.com/mcp', name: 'demo', scopes: ['mcp:tools'] }],
    });
    const issuer = await createTestIssuer({ audience: 'https://mcp.example.com/mcp' });
    const rs = createResourceServer({ resource: 'https://mcp.example.com/mcp', trust: { issuer: issuer.issuer, jwks: issuer.jwks }, nonce: { secret } });
    const challenge = await rs.verify({ method: 'POST', url: '/mcp', headers: {} });
    const nonce = challenge.ok ? '' : (challenge.headers['DPoP-Nonce'] as string);
    expect(ctx.nonce.manager.check(nonce)).toBe('current');

    const other = createContext({
      issuer: 'https://mcp.example.com',
      stores: createMemoryAuthorizationServerStores(),
      secret: 'a'.repeat(48),
      resources: [{ uri: 'https://mcp.example.com/mcp', name: 'demo', scopes: ['mcp:tools'] }],
    });
    expect(other.nonce.manager.check(nonce)).toBe('invalid');
  });
});

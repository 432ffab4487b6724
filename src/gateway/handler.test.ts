import { describe, expect, it } from 'vitest';
import { createResourceServer } from '../resource-server/index.js';
import { MemorySessionStore } from '../stores/memory/session-store.js';
import { createGatewayHandler } from './handler.js';
import { createGatewayProxy } from './proxy.js';

const trust = { issuer: 'https://as.example', jwks: { keys: [{ kty: 'EC', crv: 'P-256', x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU', y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0', kid: 'k' }] } };

describe('createGatewayHandler (MCP security best practices: session hijacking)', () => {
  it('refuses to start when the proxy binds sessions but the resource server does not check them', () => {
    const proxy = createGatewayProxy({ upstream: 'http://127.0.0.1:1/mcp', mountPath: '/mcp', sessions: new MemorySessionStore() });
    try {
      const unchecked = createResourceServer({ resource: 'https://mcp.example/mcp', trust });
      expect(() => createGatewayHandler(unchecked, proxy)).toThrow(/checks: \[proxy\.sessionCheck\]/);
      const checked = createResourceServer({ resource: 'https://mcp.example/mcp', trust, checks: [proxy.sessionCheck!] });
      expect(() => createGatewayHandler(checked, proxy)).not.toThrow();
    } finally {
      proxy.close();
    }
  });
});

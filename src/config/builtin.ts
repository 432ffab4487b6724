/**
 * The configuration of `warden start`: the whole stack with embedded defaults — the
 * authorization server with a demo user and demo clients, the demo MCP server protected at
 * `/mcp`, SQLite under the state directory.
 */
import { join } from 'node:path';

/**
 * The raw (pre-validation) built-in configuration, so it goes through the same overrides,
 * validation and defaults as a file does.
 */
export function builtinConfig(stateDir: string): Record<string, unknown> {
  return {
    storage: { kind: 'sqlite', path: join(stateDir, 'warden.db') },
    replay: { kind: 'memory' },
    authorizationServer: { enabled: true, demo: true },
    resources: [{ name: 'demo', path: '/mcp', upstream: 'builtin:demo', dpop: 'allowed' }],
  };
}

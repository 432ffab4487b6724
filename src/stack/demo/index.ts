/** The `builtin:demo` MCP server that `warden start` protects at `/mcp`. */
export {
  createDemoMcpHandler,
  createDemoMcpServer,
  describeCaller,
  demoScopePolicy,
  DEMO_ADMIN_SCOPE,
  DEMO_TOOL_NAMES,
} from './demo-server.js';
export type { DemoMcpHandler, DemoMcpRequest, DemoToolName, DemoWhoami } from './demo-server.js';

/** Gateway mode: Warden in front of upstream MCP servers written in any language. */
export { createGatewayProxy } from './proxy.js';
export type { GatewayProxy, GatewayRequest } from './proxy.js';
export type { GatewayProxyOptions } from './options.js';
export { IDENTITY_HEADERS, identityHeaders } from './forward-headers.js';

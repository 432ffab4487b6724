/** Gateway mode: Warden in front of upstream MCP servers written in any language. */
export { createGatewayProxy } from './proxy.js';
export type { GatewayProxy, GatewayRequest } from './proxy.js';
export type { GatewayProxyOptions } from './options.js';
export { createGatewayHandler } from './handler.js';
export type { GatewayHandlerOptions } from './handler.js';
export { prepareForward } from './prepare-forward.js';
export type { ForwardPlan, ForwardRequest } from './prepare-forward.js';
export { IDENTITY_HEADERS, identityHeaders } from './forward-headers.js';
export { createUpstreamTokenSource, neededScopes } from './upstream-token.js';
export type { UpstreamMintRequest, UpstreamTokenSource, UpstreamTokenSourceOptions } from './upstream-token.js';

/** The `warden` server: every configured piece on one node:http server. */
export { StackStartError, startStack } from './stack.js';
export type { RunningStack, StackTokenOptions, StartStackOptions } from './stack.js';
export { STACK_FILE, writeStackFile } from './stack-file.js';
export type { StackInfo } from './stack-file.js';
export {
  DEMO_CLI_CLIENT_ID,
  DEMO_CLI_REDIRECT_URIS,
  DEMO_SERVICE_CLIENT_ID,
  DEMO_SERVICE_SCOPE,
  authorizationServerOptions,
  openAuthorizationServerStores,
  registeredResources,
} from './authorization-server.js';
export type { AuthorizationServerParts } from './authorization-server.js';
export { DEMO_CREDENTIALS_FILE, SECRET_FILE } from './state-files.js';

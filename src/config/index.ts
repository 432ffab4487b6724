/** Configuration: schema, defaults and loading — validated once at start-up, then frozen. */
export { ConfigError } from './errors.js';
export { configSchema, BUILTIN_UPSTREAMS, CLIENT_GRANT_TYPES, DEMO_CLIENT_IDS } from './schema.js';
export type { AuthorizationServerInput, ClientInput, ConfigInput, ResourceInput, TrustInput } from './schema.js';
export { CONFIG_DEFAULTS, applyDefaults, deepFreeze, withListenPort } from './defaults.js';
export type { AuthorizationServerConfig, ClientConfig, ReplayConfig, ResourceConfig, StorageConfig, WardenConfig } from './defaults.js';
export { ENV_OVERRIDES, loadConfigFile, parseConfigText, resolveConfig } from './load.js';
export { formatKeyPath } from './format-issues.js';
export type { LoadConfigOptions } from './load.js';
export { builtinConfig } from './builtin.js';
export { checkFleet, checkServer } from './server-spec.js';
export type { FleetCheck, FleetContext, ServerCheck, ServerProblem } from './server-spec.js';

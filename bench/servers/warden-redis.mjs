// `warden-redis`: Warden's resource server, node adapter, replay claimed in Redis
// (one network round trip per request — what a multi-instance deployment pays).
import { serve } from './common.mjs';
import { redisReplayStore, wardenHandler } from './warden.mjs';

await serve(async (config) => wardenHandler(config, await redisReplayStore(config.redisUrl)));

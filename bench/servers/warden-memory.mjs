// `warden-memory`: Warden's resource server, node adapter, default in-memory replay store.
import { serve } from './common.mjs';
import { wardenHandler } from './warden.mjs';

await serve((config) => wardenHandler(config));

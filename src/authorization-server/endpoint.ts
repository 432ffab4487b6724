import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AsContext } from './context.js';

/** One endpoint: reads the request, runs its named checks in order, answers. May throw an OAuthError. */
export type Endpoint = (ctx: AsContext, req: IncomingMessage, res: ServerResponse) => Promise<void>;

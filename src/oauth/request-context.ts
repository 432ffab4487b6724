/**
 * The request id and source address of an incoming request, handed from whoever received it (the
 * stack's router) to whoever records a decision about it (the resource-server adapters, the
 * gateway) as a value — keyed weakly by the request, so nothing outlives it.
 */
import type { IncomingMessage } from 'node:http';
import type { RequestContext } from './authorization-decision.js';

const contexts = new WeakMap<IncomingMessage, RequestContext>();

/** Records the context of `req` (the stack's router, on arrival). */
export function setRequestContext(req: IncomingMessage, context: RequestContext): void {
  contexts.set(req, context);
}

/** The context recorded for `req`, else one with the connection's peer address only. */
export function requestContextOf(req: IncomingMessage): RequestContext {
  const known = contexts.get(req);
  if (known !== undefined) return known;
  const address = req.socket?.remoteAddress;
  return address === undefined ? {} : { sourceAddress: address };
}

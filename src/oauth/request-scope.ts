/**
 * The context of the request being handled, for code that records what happens during it but is
 * not handed the request: the authorization server's security events are emitted deep inside
 * its endpoints and grants, which know neither the request id nor the trace. The stack's router
 * runs each request in its scope; {@link currentRequestContext} reads it across every `await`.
 *
 * @see https://nodejs.org/api/async_context.html#class-asynclocalstorage
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { RequestContext } from './authorization-decision.js';

const scope = new AsyncLocalStorage<RequestContext>();

/** Runs `fn` (and everything it starts) as part of the request `context` describes. */
export function runInRequestScope<T>(context: RequestContext, fn: () => T): T {
  return scope.run(context, fn);
}

/** The context of the request whose handling is running now; undefined outside any request (timers set at start). */
export function currentRequestContext(): RequestContext | undefined {
  return scope.getStore();
}

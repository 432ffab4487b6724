/**
 * Why a response refused its request, handed from whoever wrote it (the resource server's
 * adapters, the authorization server, the gateway) to whoever observes it (the stack's router,
 * for logs and metrics) as a value — never read back out of a header. Keyed weakly by the
 * response, so nothing outlives it.
 */
import type { ServerResponse } from 'node:http';

const reasons = new WeakMap<ServerResponse, string>();

/** Records the wire error code (or `no_credentials`) a response answers with. */
export function noteReason(res: ServerResponse, reason: string): void {
  reasons.set(res, reason);
}

/** The reason recorded for `res`, if any. */
export function reasonOf(res: ServerResponse): string | undefined {
  return reasons.get(res);
}

import type { ClientRecord } from '../../stores/authorization-server-contracts.js';
import type { AsContext } from '../context.js';
import { resolveMetadataDocumentClient } from './client-metadata-document.js';

/**
 * Looks a client up: the store first (registered, configured, or a still-fresh cached metadata
 * document), then a Client ID Metadata Document fetched on demand. Returns undefined for an
 * unknown client — for a client an operator disabled (so every endpoint treats it as unknown:
 * `invalid_client` at the token endpoint, RFC 6749 §5.2, and no authorization), and for a
 * registered client never used within `registration.expireUnusedAfterSeconds` of registering,
 * which the purge deletes.
 *
 * @throws TemporarilyUnavailableError (503, `Retry-After`) when a metadata document would be
 *   fetched beyond this instance's limits and no stale copy of it may be served.
 */
export async function getClient(ctx: AsContext, clientId: string): Promise<ClientRecord | undefined> {
  if (typeof clientId !== 'string' || clientId.length === 0 || clientId.length > 2048) return undefined;
  const stored = await ctx.stores.clients.get(clientId);
  // Before any metadata-document refetch: a disabled client stays disabled whatever it publishes.
  if (stored?.disabledAt !== undefined) return undefined;
  if (stored !== undefined && isUnusedAndExpired(ctx, stored)) return undefined;
  if (stored !== undefined && (stored.expiresAt === undefined || stored.expiresAt > ctx.now())) return stored;
  // An expired metadata document goes along: served stale while a refetch is refused or fails transiently.
  const found = await resolveMetadataDocumentClient(ctx, clientId, stored);
  if (found !== undefined) return found;
  return stored?.source === 'metadata-document' ? undefined : stored;
}

/** A dynamically registered client that never completed an authorization or obtained a token, past its grace period. */
export function isUnusedAndExpired(ctx: AsContext, client: ClientRecord): boolean {
  return client.source === 'registered' && client.usedAt === undefined && client.createdAt + ctx.registration.expireUnusedAfterSeconds <= ctx.now();
}

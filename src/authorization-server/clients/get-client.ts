import type { ClientRecord } from '../../stores/as-contracts.js';
import type { AsContext } from '../context.js';

/**
 * Hook for clients that are not in the store yet but can be resolved on demand (Client ID
 * Metadata Documents). Installed by `client-metadata-document.ts`.
 */
export type ClientResolver = (ctx: AsContext, clientId: string) => Promise<ClientRecord | undefined>;

const resolvers: ClientResolver[] = [];

/** Registers an on-demand resolver (called once at module load by the resolver's module). */
export function addClientResolver(resolver: ClientResolver): void {
  resolvers.push(resolver);
}

/**
 * Looks a client up: the store first (registered, configured, or a still-fresh cached metadata
 * document), then the on-demand resolvers. Returns undefined for an unknown client.
 */
export async function getClient(ctx: AsContext, clientId: string): Promise<ClientRecord | undefined> {
  if (typeof clientId !== 'string' || clientId.length === 0 || clientId.length > 2048) return undefined;
  const stored = await ctx.stores.clients.get(clientId);
  if (stored !== undefined && (stored.expiresAt === undefined || stored.expiresAt > ctx.now())) return stored;
  for (const resolve of resolvers) {
    const found = await resolve(ctx, clientId);
    if (found !== undefined) return found;
  }
  return stored?.source === 'metadata-document' ? undefined : stored;
}

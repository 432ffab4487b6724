import type { ClientRecord } from '../../stores/authorization-server-contracts.js';
import type { AsContext } from '../context.js';
import type { ConfiguredClient } from '../options.js';
import { hashClientSecret } from '../password.js';

/**
 * Writes the clients declared in configuration to the client store at start-up (secrets hashed),
 * so the configuration stays the source of truth for them.
 */
export async function syncConfiguredClients(ctx: AsContext, clients: readonly ConfiguredClient[]): Promise<void> {
  for (const c of clients) {
    const existing = await ctx.stores.clients.get(c.clientId);
    let secretHash: string | undefined;
    if (c.clientSecret !== undefined) {
      try {
        secretHash = hashClientSecret(c.clientSecret);
      } catch (error) {
        throw new TypeError(`createAuthorizationServer: clients[${c.clientId}].clientSecret: ${(error as Error).message}`);
      }
    }
    const keyed = c.jwks !== undefined || c.jwksUri !== undefined;
    const grantTypes = c.grantTypes ?? (c.clientSecret === undefined && !keyed ? ['authorization_code', 'refresh_token'] : ['client_credentials']);
    const record: ClientRecord = {
      clientId: c.clientId,
      tokenEndpointAuthMethod: c.tokenEndpointAuthMethod ?? (keyed ? 'private_key_jwt' : c.clientSecret === undefined ? 'none' : 'client_secret_basic'),
      redirectUris: c.redirectUris ?? [],
      grantTypes,
      responseTypes: grantTypes.includes('authorization_code') ? ['code'] : [],
      source: 'configured',
      createdAt: existing?.createdAt ?? ctx.now(),
    };
    if (secretHash !== undefined) record.secretHash = secretHash;
    if (c.clientName !== undefined) record.clientName = c.clientName;
    if (c.scope !== undefined) record.scope = c.scope;
    if (c.jwks !== undefined) record.jwks = { keys: [...c.jwks.keys] };
    if (c.jwksUri !== undefined) record.jwksUri = c.jwksUri;
    // Disabled from the console: a restart does not enable it again.
    if (existing?.disabledAt !== undefined) record.disabledAt = existing.disabledAt;
    await ctx.stores.clients.put(record);
  }
}

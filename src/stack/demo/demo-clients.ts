/**
 * The demo user and clients of `warden start`: a machine-to-machine client, a public client for
 * MCP clients and CLIs, and a user to sign in as — the only place the stack knows them.
 */
import type { AuthorizationServer } from '../../authorization-server/create-authorization-server.js';
import type { ConfiguredClient } from '../../authorization-server/options.js';
import { addUser, UserError } from '../../authorization-server/users.js';
import type { DemoCredentials } from '../state-files.js';

/** The demo machine-to-machine client (client_credentials, client_secret_basic). */
export const DEMO_SERVICE_CLIENT_ID = 'demo-service';
/**
 * What `demo-service` may obtain: `mcp:tools` only, so calling `admin_reset` with its token
 * shows the `insufficient_scope` step-up challenge; `mcp:admin` takes the demo user's consent.
 */
export const DEMO_SERVICE_SCOPE = 'mcp:tools';
/** The demo public client for MCP clients and CLIs (authorization code + PKCE, refresh). */
export const DEMO_CLI_CLIENT_ID = 'demo-cli';
/** Loopback redirect URIs of `demo-cli`; any port matches (RFC 8252 §7.3). */
export const DEMO_CLI_REDIRECT_URIS: readonly string[] = Object.freeze(['http://127.0.0.1/callback', 'http://localhost/callback']);

/** The demo clients: `demo-service` (confidential, client_credentials) and `demo-cli` (public). */
export function demoClients(credentials: DemoCredentials): ConfiguredClient[] {
  return [
    {
      clientId: DEMO_SERVICE_CLIENT_ID,
      clientSecret: credentials.serviceClientSecret,
      clientName: 'Warden demo service',
      grantTypes: ['client_credentials'],
      tokenEndpointAuthMethod: 'client_secret_basic',
      scope: DEMO_SERVICE_SCOPE,
    },
    {
      clientId: DEMO_CLI_CLIENT_ID,
      clientName: 'Warden demo CLI',
      // The device grant (RFC 8628) too: `warden demo-client --login device`.
      grantTypes: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'],
      tokenEndpointAuthMethod: 'none',
      redirectUris: [...DEMO_CLI_REDIRECT_URIS],
    },
  ];
}

/**
 * Creates the demo user unless it exists. An existing user keeps its password (an operator may
 * have changed it), except when the credentials were just generated — a deleted credentials file
 * with a kept database — where the new password must be the one that works.
 */
export async function ensureDemoUser(server: AuthorizationServer, credentials: DemoCredentials, fresh: boolean): Promise<void> {
  if (fresh) return addUser(server.context, credentials.username, credentials.password, { replace: true });
  if ((await server.context.stores.users.get(credentials.username)) !== undefined) return;
  try {
    await addUser(server.context, credentials.username, credentials.password);
  } catch (error) {
    // Another process created it in between: that is the state we wanted.
    if (!(error instanceof UserError && error.code === 'user_exists')) throw error;
  }
}


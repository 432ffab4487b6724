/**
 * Connecting a v1 MCP SDK client through an interactive authorization: the SDK starts it (its
 * `redirectToAuthorization`) and throws `UnauthorizedError`; this waits for the user to come back,
 * finishes the code exchange and connects again on a fresh transport (a started transport cannot
 * be restarted).
 */
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import type { McpOAuthProvider } from './oauth-provider.js';

/** The part of the SDK client this needs. */
export interface ConnectableClient<T> {
  connect(transport: T): Promise<void>;
}

/** The part of the SDK transport this needs. */
export interface AuthorizingTransport {
  finishAuth(authorizationCode: string): Promise<void>;
}

/**
 * Connects `client`, running the authorization when the server asks for one. Resolves with the
 * transport in use; rejects with `AuthorizationDeclinedError` when the user said no.
 */
export async function connectWithAuthorization<T extends AuthorizingTransport>(client: ConnectableClient<NoInfer<T>>, createTransport: () => T, provider: McpOAuthProvider): Promise<T> {
  const first = createTransport();
  try {
    await client.connect(first);
    return first;
  } catch (error) {
    if (!(error instanceof UnauthorizedError)) throw error;
  }
  const code = await provider.waitForAuthorizationCode();
  await first.finishAuth(code);
  const second = createTransport();
  await client.connect(second);
  return second;
}

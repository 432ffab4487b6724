/**
 * Connecting an MCP SDK client (v1 or v2) through an interactive authorization: the SDK starts it
 * (its `redirectToAuthorization`) and throws `UnauthorizedError`; this waits for the user to come
 * back, finishes the code exchange and connects again on a fresh transport (a started transport
 * cannot be restarted).
 */
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import type { McpOAuthProvider } from './oauth-provider.js';

/** The part of the SDK client this needs. */
export interface ConnectableClient<T> {
  connect(transport: T): Promise<void>;
}

/** The part of the SDK transport this needs. */
export interface AuthorizingTransport {
  /** v2 takes the response's `iss` too and checks it (RFC 9207 §2.4); v1 takes the code alone. */
  finishAuth(authorizationCode: string, iss?: string): Promise<void>;
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
    if (!isUnauthorized(error)) throw error;
  }
  const { code, iss } = await provider.waitForAuthorization();
  await (iss === undefined ? first.finishAuth(code) : first.finishAuth(code, iss));
  const second = createTransport();
  await client.connect(second);
  return second;
}

/** The v1 SDK's `UnauthorizedError`, or the v2 SDK's (a class of its own, named alike). */
function isUnauthorized(error: unknown): boolean {
  return error instanceof UnauthorizedError || (error instanceof Error && error.name === 'UnauthorizedError');
}

/**
 * Mints an access token through a running stack's own issuance path, skipping client
 * authentication and consent — for tests that need a token of a given shape quickly. Not part of
 * Warden: production code issues tokens only through its endpoints.
 */
import { issueAccessToken } from '../../src/authorization-server/issue-access-token.js';
import { parseScope } from '../../src/oauth/scope.js';
import type { RunningStack } from '../../src/stack/index.js';

/** What to mint; every field defaulted for the stack's first resource. */
export interface MintTokenOptions {
  /** Canonical URI of a resource registered with the stack's authorization server (`aud`). Default: the first such resource. */
  resource?: string;
  /** Default `mcp:tools`. Not checked against the resource: tests mint what they need. */
  scope?: string | readonly string[];
  /** Default `demo-user`. */
  subject?: string;
  /** Default `demo-cli`. */
  clientId?: string;
  /** Binds the token to a DPoP key (`cnf.jkt`). */
  jkt?: string;
  /** Default: the resource's token lifetime. */
  lifetimeSeconds?: number;
}

/** Mints a token; rejects when the stack runs no authorization server or the resource is not registered with it. */
export async function mintToken(stack: RunningStack, token: MintTokenOptions = {}): Promise<string> {
  const authorizationServer = stack.authorizationServer;
  if (authorizationServer === undefined) throw new TypeError('mintToken: the authorization server is disabled (authorizationServer.enabled)');
  const ctx = authorizationServer.context;
  const registered = ctx.resources.resolve(token.resource ?? ctx.resources.list()[0]?.uri);
  const resource = token.lifetimeSeconds === undefined ? registered : { ...registered, accessTokenLifetimeSeconds: token.lifetimeSeconds };
  const scope = token.scope ?? 'mcp:tools';
  const issued = await issueAccessToken(ctx, {
    clientId: token.clientId ?? 'demo-cli',
    subject: token.subject ?? 'demo-user',
    resource,
    scopes: typeof scope === 'string' ? parseScope(scope) : [...scope],
    ...(token.jkt === undefined ? {} : { jkt: token.jkt }),
  });
  return issued.accessToken;
}

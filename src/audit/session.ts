/**
 * Opening an MCP session the way a client does: `initialize`, then `notifications/initialized`
 * in the session the server assigned (if it assigns one at all — stateless servers do not).
 */
import type { AuditContext, Credential, McpSession } from './context.js';
import type { Exchange } from './http-client.js';
import { initializeBody, initializedNotificationBody, negotiatedVersion, served } from './mcp-messages.js';

/** The outcome of opening a session: the session (undefined for a stateless server) and the exchanges. */
export interface OpenedSession {
  session: McpSession | undefined;
  initialize: Exchange;
}

/** Initializes with `credential`; `undefined` session when the server is stateless. */
export async function openSession(ctx: AuditContext, credential: Credential): Promise<OpenedSession> {
  const initialize = await ctx.authorized(credential, { body: initializeBody(), note: `${credential.label} opens a session` });
  const id = initialize.response.header('mcp-session-id');
  if (!served(initialize.response) || id === undefined) return { session: undefined, initialize };
  ctx.redactor.add(id);
  const session = { id, protocolVersion: negotiatedVersion(initialize.response) };
  await ctx.authorized(credential, { body: initializedNotificationBody(), session });
  return { session, initialize };
}

/** Ends a session (DELETE), ignoring the answer: tidying up, not a check. */
export async function closeSession(ctx: AuditContext, credential: Credential, session: McpSession): Promise<void> {
  await ctx.authorized(credential, { method: 'DELETE', body: '', session }).catch(() => undefined);
}

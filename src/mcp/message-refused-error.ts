/**
 * A request Warden refuses for its message, not its credentials: a body another parser could
 * read differently, a charset or coding Warden does not read, headers that disagree with the
 * body, a session that belongs to someone else. Answered with a JSON-RPC error (so MCP clients
 * show it) and no `WWW-Authenticate` challenge — new credentials would not help.
 */
import { OAuthError, type OAuthErrorOptions } from '../oauth/errors.js';

/** JSON-RPC error codes for refused messages. */
export const RPC_CODES = Object.freeze({
  /** JSON-RPC 2.0 §5.1: invalid JSON was received. */
  parseError: -32700,
  /** JSON-RPC 2.0 §5.1: the JSON is not a valid request object. */
  invalidRequest: -32600,
  /** MCP SEP-2243 `HeaderMismatch`: `Mcp-Method` / `Mcp-Name` disagree with the body. */
  headerMismatch: -32020,
  /** MCP Streamable HTTP: the session does not exist (for this caller). */
  sessionNotFound: -32001,
} as const);

/** HTTP statuses a refused message answers with. */
export type MessageRefusalStatus = 400 | 404 | 405 | 413 | 415;

/** A refused MCP message: `status` on the wire, `rpcCode` in the JSON-RPC error body, no challenge. */
export class MessageRefusedError extends OAuthError {
  declare readonly rpcCode: number;

  constructor(status: MessageRefusalStatus, rpcCode: number, description: string, options?: OAuthErrorOptions) {
    super('invalid_request', status, description, { ...options, rpcCode, challenge: false });
  }
}

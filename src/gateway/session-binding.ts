/**
 * Sessions belong to whoever opened them. Every `Mcp-Session-Id` an upstream issues is bound to
 * the principal of the request that opened it (issuer, subject, client id) in a
 * {@link SessionStore} — shared by every instance when it is Redis — before the client learns
 * the id. A request from another principal presenting it is answered 404, as the MCP transport
 * answers an unknown session: the id alone is never a credential.
 *
 * The legacy HTTP+SSE transport (2024-11-05) names its session in the query of the endpoint it
 * announces in the stream's first event (`/messages?sessionId=…`): those query parameters are
 * bound the same way, and a request carrying a bound parameter must come from its owner.
 *
 * Ids and principals are stored as SHA-256 digests: the store never holds a usable session id.
 *
 * @see https://modelcontextprotocol.io/specification/2025-06-18/basic/security_best_practices#session-hijacking
 * @see https://modelcontextprotocol.io/specification/2025-06-18/basic/transports#session-management
 */
import { DEFAULTS } from '../oauth/defaults.js';
import { createHash } from 'node:crypto';
import { MessageRefusedError, RPC_CODES } from '../mcp/message-refused-error.js';
import type { WardenAuthInfo } from '../resource-server/types.js';
import type { SessionStore } from '../stores/contracts.js';


/** Session ownership for one upstream. */
export class SessionBinding {
  readonly #store: SessionStore;
  readonly #scope: string;
  readonly #idleSeconds: number;

  /**
   * @param scope - What sessions are unique within: the upstream's URL (two mounts of one
   *   upstream share its sessions, and their owners).
   */
  constructor(store: SessionStore, scope: string, idleSeconds: number = DEFAULTS.gateway.sessionIdleSeconds) {
    if (!Number.isFinite(idleSeconds) || idleSeconds <= 0) throw new TypeError('session idle timeout must be a positive number of seconds');
    this.#store = store;
    this.#scope = scope;
    this.#idleSeconds = idleSeconds;
  }

  /**
   * Refuses (404, JSON-RPC -32001) unless `sessionId` is bound to this caller; extends the binding.
   *
   * @throws {MessageRefusedError} 404 when the session is unknown or another principal's.
   * @throws {StoreUnavailableError} when the store cannot answer (503: fail closed).
   */
  async requireOwner(auth: WardenAuthInfo | undefined, sessionId: string): Promise<void> {
    const owner = await this.#store.owner(this.#key(sessionId), this.#idleSeconds);
    if (owner === undefined || owner !== principalOf(auth)) {
      throw new MessageRefusedError(404, RPC_CODES.sessionNotFound, 'Session not found: start a new session with initialize (MCP Streamable HTTP)');
    }
  }

  /** Binds a session id the upstream just issued; false when another principal holds it. */
  bind(auth: WardenAuthInfo | undefined, sessionId: string): Promise<boolean> {
    return this.#store.bind(this.#key(sessionId), principalOf(auth), this.#idleSeconds);
  }

  /**
   * Refuses (404) a request whose query carries a parameter bound to another principal's legacy
   * SSE session; parameters no session announced pass.
   */
  async requireQueryOwner(auth: WardenAuthInfo | undefined, target: string): Promise<void> {
    const principal = principalOf(auth);
    for (const key of queryKeys(target)) {
      const owner = await this.#store.owner(this.#key(key), this.#idleSeconds);
      if (owner !== undefined && owner !== principal) {
        throw new MessageRefusedError(404, RPC_CODES.sessionNotFound, 'Session not found: open a new stream (MCP HTTP+SSE transport)');
      }
    }
  }

  /** Binds the query parameters of a legacy SSE `endpoint` event's URL; false when another principal holds one. */
  async bindEndpoint(auth: WardenAuthInfo | undefined, endpoint: string): Promise<boolean> {
    for (const key of queryKeys(endpoint)) {
      if (!(await this.#store.bind(this.#key(key), principalOf(auth), this.#idleSeconds))) return false;
    }
    return true;
  }

  /** Forgets a session the upstream ended (DELETE) or no longer knows (404). */
  forget(sessionId: string): Promise<void> {
    return this.#store.forget(this.#key(sessionId));
  }

  #key(sessionId: string): string {
    return digest(`${this.#scope}\0${sessionId}`);
  }
}

/** Most query parameters looked up per request; a request with more is refused when sessions are bound. */
export const MAX_QUERY_PARAMETERS = 16;

/** `q:<name>=<value>` for each query parameter, decoded as servers decode them. */
export function queryKeys(target: string): string[] {
  const q = target.indexOf('?');
  if (q === -1) return [];
  const params = new URLSearchParams(target.slice(q + 1).split('#')[0]);
  const keys: string[] = [];
  for (const [name, value] of params) {
    if (keys.length === MAX_QUERY_PARAMETERS) {
      throw new MessageRefusedError(400, RPC_CODES.invalidRequest, `more than ${MAX_QUERY_PARAMETERS} query parameters`);
    }
    keys.push(`q:${name}=${value}`);
  }
  return keys;
}

/** The principal a session belongs to: issuer, subject and client, as one digest. */
export function principalOf(auth: WardenAuthInfo | undefined): string {
  return digest(JSON.stringify(auth === undefined ? [] : [auth.extra.issuer, auth.extra.subject ?? null, auth.clientId]));
}

function digest(value: string): string {
  return createHash('sha256').update(value).digest('base64url');
}

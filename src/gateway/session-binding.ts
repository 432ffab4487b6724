/**
 * Sessions belong to whoever opened them. Every `Mcp-Session-Id` an upstream issues is bound to
 * the principal of the request that opened it (issuer, subject, client id) in a
 * {@link SessionStore} — shared by every instance when it is Redis — before the client learns
 * the id. A request from another principal presenting it is answered 404, as the MCP transport
 * answers an unknown session: the id alone is never a credential.
 *
 * The legacy HTTP+SSE transport (2024-11-05) names its session in the query of the endpoint it
 * announces in the stream's first event (`/messages?sessionId=…`). Warden announces its own
 * endpoint instead — the mount with an opaque token ({@link LEGACY_TOKEN_PARAM}) bound to the
 * stream's opener and to the upstream's endpoint — so the upstream's session id never reaches a
 * client, and a token is honoured only for its owner while the stream is open.
 *
 * Ids and principals are stored as SHA-256 digests: the store never holds a usable session id.
 *
 * @see https://modelcontextprotocol.io/specification/2025-06-18/basic/security_best_practices#session-hijacking
 * @see https://modelcontextprotocol.io/specification/2025-06-18/basic/transports#session-management
 */
import { DEFAULTS } from '../oauth/defaults.js';
import { createHash, randomBytes } from 'node:crypto';
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
   * Opens a legacy HTTP+SSE session: binds a fresh opaque token to the stream's opener and to the
   * upstream's endpoint (path and query, session id included), and returns the token — the only
   * thing the client learns. The upstream's own session id never leaves Warden.
   */
  async openLegacy(auth: WardenAuthInfo | undefined, endpoint: string): Promise<string> {
    const token = randomBytes(24).toString('base64url');
    if (!(await this.#store.bind(this.#key(`legacy-owner:${token}`), principalOf(auth), this.#idleSeconds))) throw new Error('token collision');
    if (!(await this.#store.bind(this.#key(`legacy-endpoint:${token}`), endpoint, this.#idleSeconds))) throw new Error('token collision');
    return token;
  }

  /**
   * The upstream endpoint behind a legacy token, for its owner; 404 for anyone else and for a
   * token Warden never issued or has forgotten (fail closed).
   */
  async legacyEndpoint(auth: WardenAuthInfo | undefined, token: string): Promise<string> {
    const owner = await this.#store.owner(this.#key(`legacy-owner:${token}`), this.#idleSeconds);
    const endpoint = owner === principalOf(auth) ? await this.#store.owner(this.#key(`legacy-endpoint:${token}`), this.#idleSeconds) : undefined;
    if (endpoint === undefined) {
      throw new MessageRefusedError(404, RPC_CODES.sessionNotFound, 'Session not found: open a new stream (MCP HTTP+SSE transport)');
    }
    return endpoint;
  }

  /** Keeps a legacy session's bindings alive while its stream is open. */
  async touchLegacy(token: string): Promise<void> {
    await this.#store.owner(this.#key(`legacy-owner:${token}`), this.#idleSeconds);
    await this.#store.owner(this.#key(`legacy-endpoint:${token}`), this.#idleSeconds);
  }

  /** Forgets a legacy session when its stream ends. */
  async closeLegacy(token: string): Promise<void> {
    await this.#store.forget(this.#key(`legacy-owner:${token}`));
    await this.#store.forget(this.#key(`legacy-endpoint:${token}`));
  }

  /** Seconds between keep-alives of an open legacy stream's bindings. */
  get keepAliveSeconds(): number {
    return Math.min(this.#idleSeconds / 3, 3600);
  }

  /** Forgets a session the upstream ended (DELETE) or no longer knows (404). */
  forget(sessionId: string): Promise<void> {
    return this.#store.forget(this.#key(sessionId));
  }

  #key(sessionId: string): string {
    return digest(`${this.#scope}\0${sessionId}`);
  }
}

/** The query parameter of the endpoint Warden announces to legacy HTTP+SSE clients. */
export const LEGACY_TOKEN_PARAM = 'warden_session';

/** The principal a session belongs to: issuer, subject and client, as one digest. */
export function principalOf(auth: WardenAuthInfo | undefined): string {
  return digest(JSON.stringify(auth === undefined ? [] : [auth.extra.issuer, auth.extra.subject ?? null, auth.clientId]));
}

function digest(value: string): string {
  return createHash('sha256').update(value).digest('base64url');
}

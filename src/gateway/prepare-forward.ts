/**
 * What the gateway will send upstream, decided before anything is authorized: the upstream path,
 * and each JSON-RPC message rebuilt from Warden's own strict parse with only the schema members,
 * as ASCII JSON under `Content-Type: application/json`. The gauntlet then authorizes exactly that
 * parse, so the upstream runs what Warden authorized, whatever its parser. Read top to bottom:
 * each step refuses with the status and JSON-RPC code a client can act on.
 *
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/transports#streamable-http
 */
import type { IncomingHttpHeaders } from 'node:http';
import { checkBodyEncoding } from '../mcp/content-headers.js';
import { inspectMessages, type JsonRpcMessage } from '../mcp/json-rpc-messages.js';
import { MessageRefusedError, RPC_CODES } from '../mcp/message-refused-error.js';
import { checkStandardHeaders } from '../mcp/standard-headers.js';
import { asciiJson, parseStrictJson } from '../mcp/strict-json.js';
import { LEGACY_TOKEN_PARAM } from './session-binding.js';
import { upstreamPathFor } from './upstream-path.js';

/** A request ready to forward. */
export interface ForwardPlan {
  /** Upstream path and query. */
  path: string;
  /** The rebuilt body (POST); undefined for GET and DELETE. */
  body: Buffer | undefined;
  /** Headers Warden sets upstream: `Content-Type`, and `Mcp-Method`/`Mcp-Name` re-encoded from the body. */
  headers: Record<string, string>;
  /** The body as Warden parsed it: what the gauntlet authorizes. */
  json: unknown;
  messages: readonly JsonRpcMessage[];
  /** The body was a JSON-RPC batch (an array). */
  batch: boolean;
  /** The client's `Mcp-Session-Id`, when it sent one. */
  sessionId: string | undefined;
  /** The legacy HTTP+SSE session token Warden announced (its query parameter), when the request carries one. */
  legacyToken: string | undefined;
}

/** What {@link prepareForward} reads of a request. */
export interface ForwardRequest {
  method: string;
  /** The raw request target (`req.url`). */
  url: string;
  /** Every value of every header (node's `headersDistinct`). */
  headers: Readonly<Record<string, readonly string[] | undefined>>;
  body: Buffer;
}

/** Streamable HTTP: POST sends messages, GET opens a stream, DELETE ends a session. */
const METHODS = new Set(['GET', 'POST', 'DELETE']);
/** MCP: a session id is visible ASCII (0x21–0x7E). */
const SESSION_ID = /^[\x21-\x7e]{1,1024}$/;

/**
 * Runs the forwarding checks in order: method, path, session id, body against method, content
 * headers, strict JSON, JSON-RPC messages, SEP-2243 headers — then rebuilds the body.
 *
 * @throws {MessageRefusedError} 400, 404, 405 or 415 with the JSON-RPC code to answer with.
 */
export function prepareForward(request: ForwardRequest, mount: { mountPath: string; upstream: URL }): ForwardPlan {
  const method = request.method.toUpperCase();
  if (!METHODS.has(method)) {
    throw new MessageRefusedError(405, RPC_CODES.invalidRequest, 'MCP Streamable HTTP uses POST, GET and DELETE', { headers: { Allow: 'GET, POST, DELETE' } });
  }

  const mapped = upstreamPathFor(mount.mountPath, mount.upstream, request.url);
  if (!mapped.ok) throw new MessageRefusedError(mapped.status, RPC_CODES.invalidRequest, mapped.reason);

  // One value each for the transport's own headers: servers pick the first or the last of two.
  for (const [name, values] of Object.entries(request.headers)) {
    const mirrored = name === 'mcp-method' || name === 'mcp-name'; // refused as a mismatch below (-32020)
    if ((name.startsWith('mcp-') || name === 'last-event-id') && !mirrored && (values?.length ?? 0) > 1) {
      throw new MessageRefusedError(400, RPC_CODES.invalidRequest, `more than one ${name} header`);
    }
  }
  const sessionId = request.headers['mcp-session-id']?.[0];
  if (sessionId !== undefined && !SESSION_ID.test(sessionId)) {
    throw new MessageRefusedError(400, RPC_CODES.invalidRequest, 'Mcp-Session-Id must be visible ASCII (MCP Streamable HTTP)');
  }

  const legacyToken = legacyTokenOf(request.url);

  if (method !== 'POST') {
    if (request.body.length > 0) throw new MessageRefusedError(400, RPC_CODES.invalidRequest, `a ${method} request carries no body in MCP Streamable HTTP`);
    refuseMirrorHeaders(request.headers);
    return { path: mapped.path, body: undefined, headers: {}, json: undefined, messages: [], batch: false, sessionId, legacyToken };
  }

  const type = checkBodyEncoding(request.headers['content-type'] ?? [], request.headers['content-encoding'] ?? []);
  if (type?.essence !== 'application/json') {
    throw new MessageRefusedError(415, RPC_CODES.invalidRequest, 'MCP messages are POSTed as Content-Type: application/json');
  }
  if (request.body.length === 0) throw new MessageRefusedError(400, RPC_CODES.parseError, 'the POST body is empty; send a JSON-RPC message');
  const parsed = parseStrictJson(request.body);
  if (!parsed.ok) throw new MessageRefusedError(400, parsed.problem === 'syntax' ? RPC_CODES.parseError : RPC_CODES.invalidRequest, parsed.reason);
  const inspection = inspectMessages(parsed.value);
  if (!inspection.ok) throw new MessageRefusedError(400, RPC_CODES.invalidRequest, inspection.reason);
  if (!inspection.isJsonRpc) throw new MessageRefusedError(400, RPC_CODES.invalidRequest, 'the body is not a JSON-RPC 2.0 message or batch');

  const mirrored = checkStandardHeaders(inspection.messages, inspection.batch, {
    method: request.headers['mcp-method'] ?? [],
    name: request.headers['mcp-name'] ?? [],
  });
  const wire = inspection.messages.map(toWire);
  let body: Buffer | undefined;
  return {
    path: mapped.path,
    // Serialised when forwarded, after authorization: a large body costs nothing before it.
    get body(): Buffer {
      body ??= Buffer.from(asciiJson(inspection.batch ? wire : wire[0]), 'ascii');
      return body;
    },
    headers: { 'content-type': 'application/json', ...mirrored },
    json: parsed.value,
    messages: inspection.messages,
    batch: inspection.batch,
    sessionId,
    legacyToken,
  };
}

/** The legacy session token of a request target, when it names one (exactly once). */
export function legacyTokenOf(target: string): string | undefined {
  const q = target.indexOf('?');
  if (q === -1) return undefined;
  const values = new URLSearchParams(target.slice(q + 1)).getAll(LEGACY_TOKEN_PARAM);
  if (values.length === 0) return undefined;
  if (values.length > 1) throw new MessageRefusedError(400, RPC_CODES.invalidRequest, `more than one ${LEGACY_TOKEN_PARAM} parameter`);
  return values[0];
}

/** GET and DELETE carry no message for `Mcp-Method`/`Mcp-Name` to mirror. */
function refuseMirrorHeaders(headers: ForwardRequest['headers']): void {
  if ((headers['mcp-method']?.length ?? 0) > 0 || (headers['mcp-name']?.length ?? 0) > 0) {
    throw new MessageRefusedError(400, RPC_CODES.headerMismatch, 'Mcp-Method and Mcp-Name mirror a POSTed message; this request has none (MCP SEP-2243)');
  }
}

/** A message with only its schema members, in schema order. */
function toWire(message: JsonRpcMessage): Record<string, unknown> {
  switch (message.kind) {
    case 'request':
      return message.params === undefined
        ? { jsonrpc: '2.0', id: message.id, method: message.method }
        : { jsonrpc: '2.0', id: message.id, method: message.method, params: message.params };
    case 'notification':
      return message.params === undefined ? { jsonrpc: '2.0', method: message.method } : { jsonrpc: '2.0', method: message.method, params: message.params };
    case 'response':
      return message.error === undefined ? { jsonrpc: '2.0', id: message.id, result: message.result } : { jsonrpc: '2.0', id: message.id, error: message.error };
  }
}

/** Node's `headersDistinct` for a request that only has `headers` (tests, other servers). */
export function distinctHeaders(headers: IncomingHttpHeaders): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    out[name] = Array.isArray(value) ? value : [value];
  }
  return out;
}

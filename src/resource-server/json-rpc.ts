/**
 * What the gauntlet needs to know about an MCP (JSON-RPC 2.0) request body: whether it is
 * JSON-RPC (errors then answer as JSON-RPC so MCP clients show it), its id, which tools a
 * `tools/call` — single or batched — invokes; and, first, whether every parser reads the same
 * message out of it. A body another parser could read differently is refused (400 / 415) by
 * default; with `strictMessages: false` it is instead judged `ambiguous` and needs every scope.
 */
import { checkBodyEncoding, isJsonMediaType, type MediaType } from '../mcp/content-headers.js';
import { calledTools, inspectMessages, type JsonRpcMessage } from '../mcp/json-rpc-messages.js';
import { MessageRefusedError, RPC_CODES } from '../mcp/message-refused-error.js';
import { checkStandardHeaders } from '../mcp/standard-headers.js';
import { parseStrictJson } from '../mcp/strict-json.js';
import { headerValues } from './read-credentials.js';
import type { VerifyRequest } from './types.js';

export interface RpcView {
  isJsonRpc: boolean;
  /** Id for an error response: the request id for a single request, null otherwise. */
  id: string | number | null;
  /** Names of tools called (`tools/call` `params.name`), in order, without duplicates. */
  toolNames: string[];
  /** The JSON-RPC messages of the body (empty when it is not JSON-RPC). */
  messages: JsonRpcMessage[];
  /** The body as parsed JSON; undefined when there is none or it is not JSON. */
  json: unknown;
  /**
   * Only without strict messages: another parser could read a different call out of this body
   * than we did, so the caller requires every tool's scopes (fail closed).
   */
  ambiguous: boolean;
}

const NONE: RpcView = Object.freeze({ isJsonRpc: false, id: null, toolNames: [] as string[], messages: [] as JsonRpcMessage[], json: undefined, ambiguous: false }) as RpcView;
const UNREADABLE: RpcView = Object.freeze({ ...NONE, ambiguous: true }) as RpcView;

/** The view of a request that was refused before its body was understood: errors answer as JSON-RPC. */
export const REFUSED_BODY: RpcView = Object.freeze({ ...NONE, isJsonRpc: true }) as RpcView;

/**
 * Reads the body of a request into an {@link RpcView}. Bodies may come as bytes or a string (read
 * here with {@link parseStrictJson}: duplicates, lone surrogates, BOMs are visible), or already
 * parsed by a framework (then that parse is what the application sees, and only member names are
 * checked).
 *
 * Strict (the default): refuses a `Content-Encoding` or a non-UTF-8 charset (415), bytes that are
 * not I-JSON when the content type is JSON or absent (400, -32700 / -32600), JSON whose member
 * names or messages another decoder could read differently (400, -32600), and `Mcp-Method` /
 * `Mcp-Name` headers that do not mirror the body (400, -32020, MCP SEP-2243). A body of another
 * declared content type that is not JSON at all (a form, text) passes as not JSON-RPC, but judged
 * `ambiguous`: a decoder that ignores content types must not find a cheaper call in it.
 *
 * @throws {MessageRefusedError} when strict and the body is refused.
 */
export function readRpcView(request: VerifyRequest, strict: boolean): RpcView {
  let type: MediaType | undefined;
  if (strict) type = checkBodyEncoding(headerValues(request.headers, 'content-type'), headerValues(request.headers, 'content-encoding'));
  const view = readBody(request, strict, type);
  if (strict) {
    const method = headerValues(request.headers, 'mcp-method');
    const name = headerValues(request.headers, 'mcp-name');
    if (method.length > 0 || name.length > 0) checkStandardHeaders(view.messages, Array.isArray(view.json), { method, name });
  }
  return view;
}

function readBody(request: VerifyRequest, strict: boolean, type: MediaType | undefined): RpcView {
  let body = request.body;
  let json: unknown;
  if (body === undefined || body === null) return NONE;
  // Bytes in any view (`await request.arrayBuffer()`, a DataView) are bytes, never parsed JSON.
  if (body instanceof ArrayBuffer) body = new Uint8Array(body);
  else if (ArrayBuffer.isView(body) && !(body instanceof Uint8Array)) body = new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  if (typeof body === 'string' || body instanceof Uint8Array) {
    if (body.length === 0) return NONE;
    const parsed = parseStrictJson(body);
    if (!parsed.ok) {
      if (!strict) return UNREADABLE;
      const declaredOther = type !== undefined && !isJsonMediaType(type);
      if (parsed.problem === 'syntax' && declaredOther) return UNREADABLE;
      throw new MessageRefusedError(400, parsed.problem === 'syntax' ? RPC_CODES.parseError : RPC_CODES.invalidRequest, parsed.reason);
    }
    json = parsed.value;
  } else if (isParsedJson(body)) {
    json = body;
  } else {
    // A Blob, a stream, a Map…: nothing Warden can read, so nothing it can vouch for.
    if (strict) throw new MessageRefusedError(400, RPC_CODES.parseError, 'the request body must be given as bytes, a string or parsed JSON');
    return UNREADABLE;
  }
  const inspection = inspectMessages(json);
  if (!inspection.ok) {
    if (!strict) return UNREADABLE;
    throw new MessageRefusedError(400, RPC_CODES.invalidRequest, inspection.reason);
  }
  const { messages, batch } = inspection;
  const single = !batch && messages.length === 1 ? messages[0] : undefined;
  return {
    isJsonRpc: inspection.isJsonRpc,
    id: single !== undefined && single.kind !== 'response' && single.kind !== 'notification' ? single.id : null,
    toolNames: calledTools(messages),
    messages,
    json,
    ambiguous: false,
  };
}

/** What a framework's JSON parser produces: a plain object, an array, or a JSON scalar. */
function isParsedJson(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return typeof value === 'number' || typeof value === 'boolean';
  if (Array.isArray(value)) return true;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

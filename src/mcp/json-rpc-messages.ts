/**
 * The JSON-RPC 2.0 messages an MCP body carries, read the way every check after it needs them:
 * each message classified (request, notification, response) and shape-checked against the
 * JSON-RPC and MCP schemas, and any member name that a lenient decoder could read as a schema
 * member refused (see {@link ./lookalike-names.ts}).
 *
 * @see https://www.jsonrpc.org/specification
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic#messages
 */
import { foldedCollision, NameSet } from './lookalike-names.js';
import { quote } from './strict-json.js';

/** A JSON-RPC error object (JSON-RPC 2.0 §5.1). */
export interface JsonRpcErrorObject {
  code: number;
  message: string;
  data?: unknown;
}

/** One message, with exactly the schema members Warden read. */
export type JsonRpcMessage =
  | { kind: 'request'; id: string | number; method: string; params: Record<string, unknown> | undefined }
  | { kind: 'notification'; method: string; params: Record<string, unknown> | undefined }
  | { kind: 'response'; id: string | number | null; result: unknown; error: JsonRpcErrorObject | undefined };

/** What a parsed body holds. */
export type MessageInspection =
  | {
      ok: true;
      /** True when the body is (an array of) JSON-RPC messages; false for other JSON. */
      isJsonRpc: boolean;
      batch: boolean;
      messages: JsonRpcMessage[];
    }
  | { ok: false; reason: string };

/** Top-level members of a JSON-RPC 2.0 message. */
export const MESSAGE_MEMBERS = new NameSet(['jsonrpc', 'id', 'method', 'params', 'result', 'error']);

/**
 * Members of `params` that name what a call targets, or carry what routing reads: a lookalike of
 * one of these could make an upstream run a different target than Warden authorized.
 */
export const PARAMS_MEMBERS = new NameSet(['name', 'arguments', 'uri', '_meta', 'taskId', 'task']);

/**
 * MCP methods (2024-11-05 through 2026-07-28). A method value that folds to one of these but is
 * not byte-exactly it is refused: an upstream that routes case-insensitively would run it.
 */
export const MCP_METHODS = new NameSet([
  'initialize', 'ping', 'server/discover',
  'tools/list', 'tools/call',
  'resources/list', 'resources/templates/list', 'resources/read', 'resources/subscribe', 'resources/unsubscribe',
  'prompts/list', 'prompts/get', 'completion/complete', 'logging/setLevel',
  'tasks/get', 'tasks/list', 'tasks/result', 'tasks/cancel', 'tasks/update',
  'sampling/createMessage', 'elicitation/create', 'roots/list',
  'notifications/initialized', 'notifications/cancelled', 'notifications/progress', 'notifications/message',
  'notifications/roots/list_changed', 'notifications/resources/updated', 'notifications/resources/list_changed',
  'notifications/tools/list_changed', 'notifications/prompts/list_changed', 'notifications/tasks/status',
  'notifications/elicitation/complete',
]);

/**
 * Reads the JSON-RPC messages of a parsed body. A JSON object (or each element of an array) that
 * carries any JSON-RPC member — or a lookalike of one — is a message and must be a well-formed
 * one; other JSON is reported as not JSON-RPC. Refuses (`ok: false`, with a reason safe to show):
 * member names that fold to a schema name, two names of one object that fold together, a
 * malformed message, a method value that folds to an MCP method, and a `tools/call` without a
 * string `params.name`.
 */
export function inspectMessages(value: unknown): MessageInspection {
  const collision = foldedCollision(value);
  if (collision !== undefined) {
    return { ok: false, reason: `members ${quote(collision[0])} and ${quote(collision[1])} of one object are the same name to a case-insensitive decoder` };
  }
  const batch = Array.isArray(value);
  const elements = batch ? (value as unknown[]) : [value];
  const messages: JsonRpcMessage[] = [];
  for (const element of elements) {
    if (!isObject(element) || !looksLikeMessage(element)) continue;
    const read = readMessage(element);
    if (typeof read === 'string') return { ok: false, reason: read };
    messages.push(read);
  }
  if (messages.length === 0) return { ok: true, isJsonRpc: false, batch, messages };
  if (batch && messages.length !== elements.length) return { ok: false, reason: 'a batch element is not a JSON-RPC 2.0 message' };
  return { ok: true, isJsonRpc: true, batch, messages };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Carries a JSON-RPC member, or a name some decoder would read as one. */
function looksLikeMessage(object: Record<string, unknown>): boolean {
  for (const key of Object.keys(object)) {
    if (MESSAGE_MEMBERS.has(key) || MESSAGE_MEMBERS.lookalikeOf(key) !== undefined) return true;
  }
  return false;
}

/** The message, or why it is refused. */
function readMessage(object: Record<string, unknown>): JsonRpcMessage | string {
  for (const key of Object.keys(object)) {
    const meant = MESSAGE_MEMBERS.lookalikeOf(key);
    if (meant !== undefined) return `member ${quote(key)} is not "${meant}" but a lenient decoder reads it as "${meant}"`;
  }
  if (object.jsonrpc !== '2.0') return 'not a JSON-RPC 2.0 message: "jsonrpc" must be "2.0"';
  const { id, method, params } = object;
  const hasId = Object.hasOwn(object, 'id');
  if (Object.hasOwn(object, 'method')) {
    if (typeof method !== 'string') return '"method" must be a string';
    if (Object.hasOwn(object, 'result') || Object.hasOwn(object, 'error')) return 'a message cannot be both a request and a response';
    const meant = MCP_METHODS.lookalikeOf(method);
    if (meant !== undefined) return `method ${quote(method)} is not "${meant}" but an upstream matching methods loosely would run "${meant}"`;
    let paramsObject: Record<string, unknown> | undefined;
    if (Object.hasOwn(object, 'params')) {
      if (!isObject(params)) return '"params" must be an object (MCP)';
      for (const key of Object.keys(params)) {
        const meantParam = PARAMS_MEMBERS.lookalikeOf(key);
        if (meantParam !== undefined) return `params member ${quote(key)} is not "${meantParam}" but a lenient decoder reads it as "${meantParam}"`;
      }
      paramsObject = params;
    }
    if (method === 'tools/call' && typeof paramsObject?.name !== 'string') return 'tools/call needs "params.name" as a string';
    if (!hasId) return { kind: 'notification', method, params: paramsObject };
    if (typeof id !== 'string' && typeof id !== 'number') return 'a request "id" must be a string or a number (MCP)';
    return { kind: 'request', id, method, params: paramsObject };
  }
  if (!hasId) return 'a JSON-RPC message needs "method" (request, notification) or "id" (response)';
  if (typeof id !== 'string' && typeof id !== 'number' && id !== null) return 'a response "id" must be a string, a number or null';
  const hasResult = Object.hasOwn(object, 'result');
  const hasError = Object.hasOwn(object, 'error');
  if (hasResult === hasError) return 'a response carries exactly one of "result" and "error"';
  if (hasResult) return { kind: 'response', id, result: object.result, error: undefined };
  const error = object.error;
  if (!isObject(error) || !Number.isInteger(error.code) || typeof error.message !== 'string') {
    return 'a response "error" needs an integer "code" and a string "message"';
  }
  const errorObject: JsonRpcErrorObject = { code: error.code as number, message: error.message };
  if (Object.hasOwn(error, 'data')) errorObject.data = error.data;
  return { kind: 'response', id, result: undefined, error: errorObject };
}

/** Names of the tools the messages call (`tools/call` requests and notifications), in order, once each. */
export function calledTools(messages: readonly JsonRpcMessage[]): string[] {
  const names = new Set<string>();
  for (const m of messages) {
    if (m.kind !== 'response' && m.method === 'tools/call' && typeof m.params?.name === 'string') names.add(m.params.name);
  }
  return [...names];
}

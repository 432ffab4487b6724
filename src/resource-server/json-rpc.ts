/**
 * What the gauntlet needs to know about an MCP (JSON-RPC 2.0) request body: whether it is
 * JSON-RPC (errors then answer as JSON-RPC so MCP clients show it), its id, which tools a
 * `tools/call` — single or batched — invokes, and whether that could not be determined exactly.
 */
export interface RpcView {
  isJsonRpc: boolean;
  /** Id for an error response: the request id for a single request, null otherwise. */
  id: string | number | null;
  /** Names of tools called (`tools/call` `params.name`), in order, without duplicates. */
  toolNames: string[];
  /**
   * True when another parser could read a different tool call out of this body than we did: a
   * body that is not valid UTF-8 JSON (a BOM, UTF-16), members whose names differ from `method`,
   * `params` or `name` only by case (case-insensitive decoders), a `tools/call` without a string
   * tool name. The caller then requires every tool's scopes (fail closed).
   */
  ambiguous: boolean;
}

const NOT_RPC: RpcView = Object.freeze({ isJsonRpc: false, id: null, toolNames: [] as string[], ambiguous: false }) as RpcView;
const UNREADABLE: RpcView = Object.freeze({ isJsonRpc: false, id: null, toolNames: [] as string[], ambiguous: true }) as RpcView;

/** Marker for a body that was present but is not valid JSON. */
export const INVALID_JSON: unique symbol = Symbol('invalid JSON');

/** Parses a body given as parsed JSON, a string or bytes. Never throws; `INVALID_JSON` for a non-empty body that does not parse. */
export function parseJsonBody(body: unknown): unknown {
  if (typeof body === 'string') return tryParse(body);
  if (body instanceof Uint8Array) return body.length === 0 ? undefined : tryParse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'));
  return body;
}

function tryParse(text: string): unknown {
  if (text.length === 0) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return INVALID_JSON;
  }
}

/** Reads the JSON-RPC view of a parsed body (see {@link parseJsonBody}). */
export function viewRpc(parsed: unknown): RpcView {
  if (parsed === INVALID_JSON) return UNREADABLE;
  if (Array.isArray(parsed)) {
    const names = new Set<string>();
    let any = false;
    let ambiguous = false;
    for (const message of parsed) {
      if (message !== null && typeof message === 'object' && !Array.isArray(message)) ambiguous ||= hasCaseVariants(message as Record<string, unknown>);
      if (isRpcMessage(message)) {
        any = true;
        const call = toolCall(message);
        if (call.name !== undefined) names.add(call.name);
        ambiguous ||= call.ambiguous;
      }
    }
    return any || ambiguous ? { isJsonRpc: any, id: null, toolNames: [...names], ambiguous } : NOT_RPC;
  }
  if (parsed === null || typeof parsed !== 'object') return NOT_RPC;
  const ambiguousKeys = hasCaseVariants(parsed as Record<string, unknown>);
  if (!isRpcMessage(parsed)) return ambiguousKeys ? UNREADABLE : NOT_RPC;
  const id = parsed.id;
  const call = toolCall(parsed);
  return {
    isJsonRpc: true,
    id: typeof id === 'string' || typeof id === 'number' ? id : null,
    toolNames: call.name === undefined ? [] : [call.name],
    ambiguous: ambiguousKeys || call.ambiguous,
  };
}

function isRpcMessage(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && (value as Record<string, unknown>).jsonrpc === '2.0';
}

/** Member names that differ from a JSON-RPC/MCP member only by case: a case-insensitive decoder would read them. */
function hasCaseVariants(message: Record<string, unknown>): boolean {
  for (const key of Object.keys(message)) {
    const lower = key.toLowerCase();
    if ((lower === 'method' || lower === 'params' || lower === 'jsonrpc') && key !== lower) return true;
  }
  const params = message.params;
  if (params !== null && typeof params === 'object' && !Array.isArray(params)) {
    for (const key of Object.keys(params)) if (key.toLowerCase() === 'name' && key !== 'name') return true;
  }
  return false;
}

function toolCall(message: Record<string, unknown>): { name?: string; ambiguous: boolean } {
  const method = message.method;
  if (typeof method !== 'string') return { ambiguous: false };
  if (method !== 'tools/call') return { ambiguous: method.toLowerCase() === 'tools/call' };
  const params = message.params;
  const name = params !== null && typeof params === 'object' ? (params as Record<string, unknown>).name : undefined;
  return typeof name === 'string' ? { name, ambiguous: false } : { ambiguous: true };
}

/** JSON-RPC error codes Warden uses for HTTP auth failures (implementation-defined range). */
export function rpcErrorCode(status: number): number {
  if (status === 401) return -32001;
  if (status === 403) return -32003;
  if (status === 400) return -32600;
  return -32000;
}

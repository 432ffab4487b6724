/**
 * What the gauntlet needs to know about an MCP (JSON-RPC 2.0) request body: whether it is
 * JSON-RPC (errors then answer as JSON-RPC so MCP clients show them), its id, and which tools a
 * `tools/call` — single or batched — invokes.
 */
export interface RpcView {
  isJsonRpc: boolean;
  /** Id for an error response: the request id for a single request, null otherwise. */
  id: string | number | null;
  /** Names of tools called (`tools/call` `params.name`), in order, without duplicates. */
  toolNames: string[];
}

const NOT_RPC: RpcView = Object.freeze({ isJsonRpc: false, id: null, toolNames: [] as string[] }) as RpcView;

/** Parses a body given as parsed JSON, a string or bytes. Never throws. */
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
    return undefined;
  }
}

/** Reads the JSON-RPC view of a parsed body. */
export function viewRpc(parsed: unknown): RpcView {
  if (Array.isArray(parsed)) {
    const names = new Set<string>();
    let any = false;
    for (const message of parsed) {
      if (isRpcMessage(message)) {
        any = true;
        const name = toolName(message);
        if (name !== undefined) names.add(name);
      }
    }
    return any ? { isJsonRpc: true, id: null, toolNames: [...names] } : NOT_RPC;
  }
  if (!isRpcMessage(parsed)) return NOT_RPC;
  const id = parsed.id;
  const name = toolName(parsed);
  return {
    isJsonRpc: true,
    id: typeof id === 'string' || typeof id === 'number' ? id : null,
    toolNames: name === undefined ? [] : [name],
  };
}

function isRpcMessage(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && (value as Record<string, unknown>).jsonrpc === '2.0';
}

function toolName(message: Record<string, unknown>): string | undefined {
  if (message.method !== 'tools/call') return undefined;
  const params = message.params;
  if (params === null || typeof params !== 'object') return undefined;
  const name = (params as Record<string, unknown>).name;
  return typeof name === 'string' ? name : undefined;
}

/** JSON-RPC error codes Warden uses for HTTP auth failures (implementation-defined range). */
export function rpcErrorCode(status: number): number {
  if (status === 401) return -32001;
  if (status === 403) return -32003;
  if (status === 400) return -32600;
  return -32000;
}

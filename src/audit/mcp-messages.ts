/**
 * The MCP messages an audit sends, and how it reads the answers. Only harmless methods are built
 * here (`initialize`, `tools/list`, `notifications/initialized`); `tools/call` is built only for
 * the tool the user named with `--probe-tool`, by the one check that calls it.
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/transports#streamable-http
 */
import type { ProbeResponse } from './http-client.js';

/** The protocol version the audit speaks (widely supported; the server may answer with its own). */
export const PROTOCOL_VERSION = '2025-06-18';

/** Headers of every Streamable HTTP POST. */
export function postHeaders(session?: { id: string; protocolVersion: string }): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
  if (session !== undefined) {
    headers['mcp-session-id'] = session.id;
    headers['mcp-protocol-version'] = session.protocolVersion;
  }
  return headers;
}

let nextId = 1;
const id = () => nextId++;

/** `initialize`: harmless, needs no session, and is what every client sends first. */
export function initializeBody(): string {
  return JSON.stringify({
    jsonrpc: '2.0',
    id: id(),
    method: 'initialize',
    params: { protocolVersion: PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'warden-audit', version: '1' } },
  });
}

/** `notifications/initialized`. */
export function initializedNotificationBody(): string {
  return JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' });
}

/** `tools/list`: lists, runs nothing. */
export function toolsListBody(): string {
  return JSON.stringify({ jsonrpc: '2.0', id: id(), method: 'tools/list', params: {} });
}

/** A batch of one `tools/list` (servers on 2025-03-26 accept batches; later ones refuse them). */
export function batchBody(): string {
  return `[${toolsListBody()}]`;
}

/** `tools/call` of the tool the user named as harmless. */
export function toolsCallBody(tool: string): string {
  return JSON.stringify({ jsonrpc: '2.0', id: id(), method: 'tools/call', params: { name: tool, arguments: {} } });
}

/** The JSON-RPC messages of a response: a JSON body, or the `data:` lines of an event stream. */
export function jsonRpcMessages(response: ProbeResponse): unknown[] {
  const type = response.header('content-type') ?? '';
  const texts = /^text\/event-stream/i.test(type)
    ? response.body
        .split(/\r?\n\r?\n/)
        .map((event) =>
          event
            .split(/\r?\n/)
            .filter((line) => line.startsWith('data:'))
            .map((line) => line.slice(5).trimStart())
            .join('\n'),
        )
        .filter((data) => data.length > 0)
    : [response.body];
  const messages: unknown[] = [];
  for (const text of texts) {
    try {
      const parsed = JSON.parse(text) as unknown;
      if (Array.isArray(parsed)) messages.push(...parsed);
      else messages.push(parsed);
    } catch {
      // Not JSON: no message.
    }
  }
  return messages;
}

/** The first JSON-RPC result in a response, if the server answered one. */
export function jsonRpcResult(response: ProbeResponse): Record<string, unknown> | undefined {
  for (const message of jsonRpcMessages(response)) {
    if (message !== null && typeof message === 'object' && 'result' in message) {
      const result = (message as { result: unknown }).result;
      return result !== null && typeof result === 'object' ? (result as Record<string, unknown>) : {};
    }
  }
  return undefined;
}

/**
 * True when the server served the request: a 2xx carrying a JSON-RPC result (or, for
 * notifications, a bare 2xx). A 2xx carrying only a JSON-RPC error was not served.
 */
export function served(response: ProbeResponse, kind: 'request' | 'notification' = 'request'): boolean {
  if (response.status < 200 || response.status > 299) return false;
  if (kind === 'notification') return true;
  return jsonRpcResult(response) !== undefined;
}

/** The tool result of a `tools/call` that ran (not `isError`), or undefined. */
export function toolRan(response: ProbeResponse): boolean {
  const result = served(response) ? jsonRpcResult(response) : undefined;
  return result !== undefined && result.isError !== true && Array.isArray(result.content);
}

/** The protocol version the server chose in its `initialize` result. */
export function negotiatedVersion(response: ProbeResponse): string {
  const version = jsonRpcResult(response)?.protocolVersion;
  return typeof version === 'string' ? version : PROTOCOL_VERSION;
}

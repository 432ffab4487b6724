/**
 * The MCP 2026-07-28 standard headers (SEP-2243): `Mcp-Method` mirrors a message's `method`,
 * `Mcp-Name` its target (`params.name`, `params.uri` or `params.taskId`). Load balancers and
 * upstreams may route by them without reading the body, so a header that disagrees with the body
 * is a confused deputy: Warden authorizes the body, the upstream runs the header. When present
 * they must equal the body (else 400, JSON-RPC `-32020` HeaderMismatch), and what goes upstream
 * is re-encoded from the body.
 *
 * @see https://modelcontextprotocol.io/seps/2243-http-standardization
 */
import type { JsonRpcMessage } from './json-rpc-messages.js';
import { MessageRefusedError, RPC_CODES } from './message-refused-error.js';

/** Where `Mcp-Name` comes from, per method. */
const NAME_SOURCES: Readonly<Record<string, 'name' | 'uri' | 'taskId'>> = Object.freeze({
  'tools/call': 'name',
  'prompts/get': 'name',
  'resources/read': 'uri',
  'resources/subscribe': 'uri',
  'resources/unsubscribe': 'uri',
  'tasks/get': 'taskId',
  'tasks/update': 'taskId',
  'tasks/cancel': 'taskId',
  'tasks/result': 'taskId',
});

const SENTINEL_PREFIX = '=?base64?';
const SENTINEL_SUFFIX = '?=';
const CANONICAL_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The target a message's `Mcp-Name` mirrors, when its method has one and the body carries it. */
export function mcpNameOf(message: JsonRpcMessage): string | undefined {
  if (message.kind === 'response') return undefined;
  const source = NAME_SOURCES[message.method];
  if (source === undefined) return undefined;
  const value = message.params?.[source];
  return typeof value === 'string' ? value : undefined;
}

/**
 * Decodes a header value: the `=?base64?…?=` sentinel (case-sensitive) carries canonical base64
 * of UTF-8; anything else is the value itself. Undefined for a malformed sentinel payload.
 */
export function decodeHeaderValue(value: string): string | undefined {
  if (!(value.startsWith(SENTINEL_PREFIX) && value.endsWith(SENTINEL_SUFFIX) && value.length >= SENTINEL_PREFIX.length + SENTINEL_SUFFIX.length)) return value;
  const payload = value.slice(SENTINEL_PREFIX.length, value.length - SENTINEL_SUFFIX.length);
  if (!CANONICAL_BASE64.test(payload)) return undefined;
  try {
    return utf8.decode(Buffer.from(payload, 'base64'));
  } catch {
    return undefined;
  }
}

/**
 * Encodes a value for a header: as is when it is printable ASCII without surrounding space and
 * cannot be mistaken for the sentinel; otherwise `=?base64?…?=`.
 */
export function encodeHeaderValue(value: string): string {
  const plain = /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/.test(value) && !(value.startsWith(SENTINEL_PREFIX) && value.endsWith(SENTINEL_SUFFIX));
  return plain ? value : `${SENTINEL_PREFIX}${Buffer.from(value, 'utf8').toString('base64')}${SENTINEL_SUFFIX}`;
}

/** The headers to send upstream in place of the client's. */
export interface StandardHeaders {
  'mcp-method'?: string;
  'mcp-name'?: string;
}

function mismatch(description: string): MessageRefusedError {
  return new MessageRefusedError(400, RPC_CODES.headerMismatch, `${description} (MCP SEP-2243: servers reject requests whose headers and body disagree)`);
}

/** HTTP optional white space (RFC 9110 §5.6.3) around a field value. */
function stripOws(value: string): string {
  return value.replace(/^[ \t]+|[ \t]+$/g, '');
}

/**
 * Checks the client's `Mcp-Method` / `Mcp-Name` against the body's messages and returns the
 * headers to forward: each one the client sent, re-encoded from the body. A header with no
 * single message to mirror (a batch, a response) or naming anything other than the body's method
 * or target is refused.
 *
 * @throws {MessageRefusedError} 400 with JSON-RPC code -32020.
 */
export function checkStandardHeaders(
  messages: readonly JsonRpcMessage[],
  batch: boolean,
  sent: { method: readonly string[]; name: readonly string[] },
): StandardHeaders {
  const out: StandardHeaders = {};
  if (sent.method.length === 0 && sent.name.length === 0) return out;
  if (sent.method.length > 1) throw mismatch('more than one Mcp-Method header');
  if (sent.name.length > 1) throw mismatch('more than one Mcp-Name header');
  const message = messages.length === 1 && !batch ? messages[0] : undefined;
  if (message === undefined || message.kind === 'response') throw mismatch('Mcp-Method and Mcp-Name mirror a single request or notification; this body has none');

  if (sent.method.length === 1) {
    const header = stripOws(sent.method[0] as string);
    if (header !== message.method) throw mismatch('the Mcp-Method header does not name the body\'s method');
    out['mcp-method'] = message.method;
  }
  if (sent.name.length === 1) {
    const decoded = decodeHeaderValue(stripOws(sent.name[0] as string));
    if (decoded === undefined) throw mismatch('the Mcp-Name header carries an invalid =?base64?…?= value');
    const target = mcpNameOf(message);
    if (target === undefined) throw mismatch('an Mcp-Name header was sent, but the body names no target for it');
    if (decoded !== target) throw mismatch('the Mcp-Name header does not name the body\'s target');
    out['mcp-name'] = encodeHeaderValue(target);
  }
  return out;
}

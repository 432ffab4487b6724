/**
 * Evidence excerpts: a request and its response as a reader needs them — the request line, the
 * headers that matter, the start of each body — with every credential redacted.
 */
import type { Exchange, ProbeRequest, ProbeResponse } from './http-client.js';
import type { Redactor } from './redact.js';
import type { ExchangeExcerpt } from './types.js';

const BODY_EXCERPT = 400;

/** Response headers shown in evidence (others are noise for an authorization finding). */
const RESPONSE_HEADERS = [
  'www-authenticate',
  'location',
  'content-type',
  'dpop-nonce',
  'mcp-session-id',
  'access-control-allow-origin',
  'access-control-allow-credentials',
  'access-control-allow-methods',
  'access-control-allow-headers',
  'strict-transport-security',
  'set-cookie',
];

/** Request headers never worth showing. */
const HIDDEN_REQUEST_HEADERS = new Set(['user-agent', 'content-length', 'accept']);

/** Turns an exchange into a redacted excerpt. */
export function excerpt(exchange: Exchange, redactor: Redactor): ExchangeExcerpt {
  return { request: redactor.redact(formatRequest(exchange.request)), response: redactor.redact(formatResponse(exchange.response)) };
}

function formatRequest(request: ProbeRequest): string {
  const url = new URL(request.url);
  const lines = [`${request.method} ${url.pathname}${url.search} HTTP/1.1`, `host: ${request.headers?.host ?? url.host}`];
  for (const [name, value] of Object.entries(request.headers ?? {})) {
    const key = name.toLowerCase();
    if (key === 'host' || HIDDEN_REQUEST_HEADERS.has(key)) continue;
    lines.push(`${key}: ${value}`);
  }
  if (request.note !== undefined) lines.push(`# ${request.note}`);
  if (request.body !== undefined && request.body.length > 0) lines.push('', clip(request.body));
  return lines.join('\n');
}

function formatResponse(response: ProbeResponse): string {
  const lines = [`HTTP/1.1 ${response.status}`];
  for (const name of RESPONSE_HEADERS) for (const value of response.headers.get(name) ?? []) lines.push(`${name}: ${value}`);
  if (response.body.length > 0) lines.push('', clip(response.body));
  return lines.join('\n');
}

function clip(text: string): string {
  const flat = text.replace(/\r\n/g, '\n');
  return flat.length <= BODY_EXCERPT ? flat : `${flat.slice(0, BODY_EXCERPT)}… (${flat.length - BODY_EXCERPT} more characters)`;
}

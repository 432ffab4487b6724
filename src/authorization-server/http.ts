import type { IncomingMessage, ServerResponse } from 'node:http';
import { toWireError, errorAnswer } from '../oauth/error-response.js';
import { noteReason } from '../oauth/response-reason.js';
import { InvalidRequestError } from '../oauth/errors.js';
import { BodyLimitError, readStream } from '../oauth/read-stream.js';

/** RFC 6749 §5.1: token responses (and errors, RFC 6749 §5.2 via OAuth 2.1) must never be cached. */
export const NO_STORE_HEADERS: Readonly<Record<string, string>> = Object.freeze({ 'Cache-Control': 'no-store', Pragma: 'no-cache' });

/** Default cap on form and JSON bodies at the authorization server. */
export const MAX_FORM_BYTES = 64 * 1024;

/**
 * Reads an `application/x-www-form-urlencoded` body (RFC 6749 §3.2). A parameter sent twice is
 * `invalid_request` (§3.1, "Request and response parameters MUST NOT be included more than once").
 * Returns a null-prototype record of single values.
 */
export async function readForm(req: IncomingMessage, maxBytes = MAX_FORM_BYTES): Promise<Record<string, string>> {
  const type = req.headers['content-type'] ?? '';
  if (!/^application\/x-www-form-urlencoded\b/i.test(type)) {
    throw new InvalidRequestError('the request body must be application/x-www-form-urlencoded');
  }
  const raw = await readRaw(req, maxBytes);
  return singleValues(new URLSearchParams(raw.toString('utf8')));
}

/** Query parameters as single values; duplicates are `invalid_request`. */
export function readQuery(req: IncomingMessage): Record<string, string> {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  return singleValues(new URLSearchParams(q === -1 ? '' : url.slice(q + 1)));
}

/** Converts params to a null-prototype record, refusing repeated names. */
export function singleValues(params: URLSearchParams): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [name, value] of params) {
    if (Object.hasOwn(out, name)) throw new InvalidRequestError(`parameter "${name}" is included more than once (RFC 6749 §3.1)`);
    out[name] = value;
  }
  return out;
}

/** Reads a body with a size cap; 413-worthy bodies become `invalid_request`. */
export async function readRaw(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? '0');
  if (declared > maxBytes) throw new InvalidRequestError(`request body exceeds ${maxBytes} bytes`);
  try {
    return await readStream(req, maxBytes);
  } catch (error) {
    if (error instanceof BodyLimitError) throw new InvalidRequestError(error.message);
    throw error;
  }
}

/** Sends JSON with the given status and headers. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/**
 * Sends an OAuth error response (RFC 6749 §5.2) through the one error path: JSON `{ error,
 * error_description }`, `Cache-Control: no-store` and `Pragma: no-cache`, the error's own headers
 * (e.g. `DPoP-Nonce`, `Retry-After`), a `DPoP` challenge with proof errors (RFC 9449 §5) and
 * `WWW-Authenticate: Basic` for `invalid_client` after an Authorization-header attempt. Anything
 * that is not a wire error becomes one first (a store outage → 503, the unexpected → 500).
 */
export function sendOAuthError(res: ServerResponse, error: unknown, options: { basicChallenge?: boolean } = {}): void {
  const wire = toWireError(error, 'server-error');
  noteReason(res, wire.code);
  const answer = errorAnswer(wire, { pragma: true, dpopChallenge: true, basicChallenge: options.basicChallenge === true });
  res.writeHead(answer.status, { ...answer.headers, 'Content-Length': Buffer.byteLength(answer.body) });
  res.end(answer.body);
}

/** The 503 a store outage becomes, for endpoints that answer with a page rather than JSON: its Retry-After, or undefined when `error` is not an outage. */
export function unavailableRetryAfter(error: unknown): string | undefined {
  const wire = toWireError(error, 'server-error');
  return wire.code === 'temporarily_unavailable' && wire.status === 503 ? (wire.headers['Retry-After'] ?? '1') : undefined;
}

/** Security headers for every HTML page the authorization server renders. */
export const HTML_SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'Content-Type': 'text/html; charset=utf-8',
  'Cache-Control': 'no-store',
  'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'X-Frame-Options': 'DENY',
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
});

/** Extra response headers; a list for a header sent more than once (`Set-Cookie`). */
export type ResponseHeaders = Record<string, string | string[]>;

/** Sends an HTML page with the security headers. */
export function sendHtml(res: ServerResponse, status: number, html: string, headers: ResponseHeaders = {}): void {
  res.writeHead(status, { ...HTML_SECURITY_HEADERS, 'Content-Length': Buffer.byteLength(html), ...headers });
  res.end(html);
}

/** Escapes text for HTML element content and double-quoted attribute values. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`);
}

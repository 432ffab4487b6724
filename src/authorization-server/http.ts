import type { IncomingMessage, ServerResponse } from 'node:http';
import { InvalidRequestError, type OAuthError } from '../oauth/errors.js';
import { BodyLimitError, readStream } from '../oauth/read-stream.js';

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
 * Sends an OAuth error response (RFC 6749 §5.2): JSON `{ error, error_description }`,
 * `Cache-Control: no-store`, plus the error's own headers (e.g. `DPoP-Nonce`).
 * `invalid_client` after an Authorization-header attempt adds `WWW-Authenticate: Basic`.
 */
export function sendOAuthError(res: ServerResponse, error: OAuthError, options: { basicChallenge?: boolean } = {}): void {
  const headers: Record<string, string> = { 'Cache-Control': 'no-store', Pragma: 'no-cache', ...error.headers };
  if (error.code === 'invalid_client' && options.basicChallenge === true) headers['WWW-Authenticate'] = 'Basic realm="warden", charset="UTF-8"';
  if (error.code === 'invalid_dpop_proof' || error.code === 'use_dpop_nonce') {
    headers['WWW-Authenticate'] = `DPoP error="${error.code}", error_description="${error.description.replace(/[^\x20-\x21\x23-\x5B\x5D-\x7E]/g, '')}"`;
  }
  sendJson(res, error.status, { error: error.code, error_description: error.description }, headers);
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

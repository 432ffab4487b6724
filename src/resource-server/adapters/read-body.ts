import { BodyLimitError, readStream } from '../../oauth/read-stream.js';
import type { IncomingMessage } from 'node:http';


/**
 * Reads a node request body up to `maxBytes`. Requests without a body (GET, DELETE, or no
 * content) resolve to an empty buffer without waiting.
 */
export async function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const length = req.headers['content-length'];
  if (length !== undefined && Number(length) > maxBytes) throw new BodyLimitError(`request body exceeds ${maxBytes} bytes`);
  if ((req.method === 'GET' || req.method === 'HEAD' || req.method === 'DELETE') && length === undefined && req.headers['transfer-encoding'] === undefined) {
    return Buffer.alloc(0);
  }
  return readStream(req, maxBytes);
}

/** True when the content type says JSON (`application/json`, `application/*+json`). */
export function isJsonContentType(contentType: string | undefined): boolean {
  return contentType !== undefined && /^application\/(.+\+)?json\b/i.test(contentType.trim());
}

/** 413 answer for an oversized body, JSON so MCP clients show it. */
export function payloadTooLarge(maxBytes: number): { status: number; headers: Record<string, string>; body: string } {
  return {
    status: 413,
    headers: { 'Content-Type': 'application/json', Connection: 'close' },
    body: JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32600, message: `request body exceeds ${maxBytes} bytes` } }),
  };
}

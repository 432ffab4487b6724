import type { ResourceServerCore } from '../core.js';
import type { WardenAuthInfo } from '../types.js';
import { payloadTooLarge } from './read-body.js';

/**
 * Web `Request` gate — the shape of MCP SDK v2's `requireBearerAuth`: resolves to the auth info,
 * or to the `Response` to send. Reads the body from a clone, so the caller can still read it.
 * Note: Web `Headers` join repeated headers with ", ", which the shape check rejects as malformed.
 */
export function webAdapter(core: ResourceServerCore): (request: Request) => Promise<WardenAuthInfo | Response> {
  return async (request) => {
    let body: unknown;
    if (request.body !== null) {
      const declared = Number(request.headers.get('content-length') ?? '0');
      if (declared > core.options.maxBodyBytes) return toResponse(payloadTooLarge(core.options.maxBodyBytes));
      const raw = new Uint8Array(await request.clone().arrayBuffer());
      if (raw.byteLength > core.options.maxBodyBytes) return toResponse(payloadTooLarge(core.options.maxBodyBytes));
      body = raw;
    }
    const url = new URL(request.url);
    const result = await core.verify({ method: request.method, url: url.pathname + url.search, headers: request.headers, body });
    if (!result.ok) return toResponse(result);
    return result.auth;
  };
}

function toResponse(r: { status: number; headers: Record<string, string>; body: string }): Response {
  return new Response(r.body, { status: r.status, headers: r.headers });
}

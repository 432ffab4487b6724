import type { MiddlewareHandler } from 'hono';
import type { ResourceServerCore } from '../core.js';
import type { WardenAuthInfo } from '../types.js';
import { payloadTooLarge } from './read-body.js';

/** Hono context variables set by the middleware. */
export interface WardenHonoEnv {
  Variables: { auth: WardenAuthInfo };
}

/**
 * Hono middleware: runs the gauntlet and sets `c.get('auth')`. The body is read through Hono's
 * body cache, so handlers can still call `c.req.json()`.
 */
export function honoAdapter(core: ResourceServerCore): MiddlewareHandler<WardenHonoEnv> {
  return async (c, next) => {
    let body: unknown;
    if (c.req.raw.body !== null) {
      const declared = Number(c.req.header('content-length') ?? '0');
      const tooLarge = payloadTooLarge(core.options.maxBodyBytes);
      if (declared > core.options.maxBodyBytes) return new Response(tooLarge.body, tooLarge);
      const raw = new Uint8Array(await c.req.arrayBuffer());
      if (raw.byteLength > core.options.maxBodyBytes) return new Response(tooLarge.body, tooLarge);
      body = raw;
    }
    const url = new URL(c.req.url);
    const result = await core.verify({ method: c.req.method, url: url.pathname + url.search, headers: c.req.raw.headers, body });
    if (!result.ok) return new Response(result.body, { status: result.status, headers: result.headers });
    c.set('auth', result.auth);
    await next();
    for (const [name, value] of Object.entries(result.headers)) c.res.headers.set(name, value);
    return undefined;
  };
}

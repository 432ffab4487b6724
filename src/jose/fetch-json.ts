/**
 * Internal: one bounded JSON fetch for trust sources (JWKS, introspection). Not part of the
 * public API.
 */
import { WardenError } from '../oauth/errors.js';

/** Why a bounded fetch failed. The message carries no request body or credential. */
export class FetchJsonError extends WardenError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('fetch_failed', message, options);
  }
}

/** Limits for {@link fetchJson}. */
export interface FetchJsonLimits {
  /** Whole exchange, headers and body. */
  timeoutMs: number;
  /** Largest body accepted, in bytes. */
  maxBytes: number;
  fetch: typeof fetch;
  /** Aborts the exchange early (e.g. on `close()`). */
  signal?: AbortSignal;
}

/**
 * Fetches `url` and parses a 200 response as JSON. Redirects are refused: a redirect could move
 * trust to another origin. The timeout covers the body too, so a server that trickles bytes
 * cannot hold the caller, and the body is read against `maxBytes` rather than buffered whole.
 *
 * @throws {FetchJsonError} On network error, timeout, redirect, non-200, oversized or non-JSON body.
 */
export async function fetchJson(url: URL, init: RequestInit, limits: FetchJsonLimits): Promise<unknown> {
  const controller = new AbortController();
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  const abort = (reason: string): void => {
    if (controller.signal.aborted) return;
    controller.abort(new FetchJsonError(reason));
    // An injected fetch may ignore the signal once headers are in; cancel the body ourselves.
    reader?.cancel().catch(() => undefined);
  };
  const timer = setTimeout(() => abort(`timed out after ${limits.timeoutMs} ms`), limits.timeoutMs);
  const onOuterAbort = (): void => abort('aborted');
  limits.signal?.addEventListener('abort', onOuterAbort, { once: true });
  try {
    if (limits.signal?.aborted) abort('aborted');
    let response: Response;
    try {
      response = await limits.fetch(url, { ...init, redirect: 'error', signal: controller.signal });
    } catch (cause) {
      throw controller.signal.aborted ? reasonOf(controller.signal) : new FetchJsonError('request failed', { cause });
    }
    if (response.status !== 200) {
      await response.body?.cancel().catch(() => undefined);
      throw new FetchJsonError(`answered HTTP ${response.status}`);
    }
    const declared = Number(response.headers.get('content-length') ?? Number.NaN);
    if (declared > limits.maxBytes) {
      await response.body?.cancel().catch(() => undefined);
      throw new FetchJsonError(`body of ${declared} bytes exceeds ${limits.maxBytes}`);
    }
    if (response.body === null) throw new FetchJsonError('empty body');
    reader = response.body.getReader();
    const chunks: Uint8Array[] = [];
    let size = 0;
    for (;;) {
      let chunk: Awaited<ReturnType<typeof reader.read>>;
      try {
        chunk = await reader.read();
      } catch (cause) {
        throw controller.signal.aborted ? reasonOf(controller.signal) : new FetchJsonError('body read failed', { cause });
      }
      // A cancelled reader reports `done`: a truncated body must not pass for a complete one.
      if (controller.signal.aborted) throw reasonOf(controller.signal);
      if (chunk.done) break;
      size += chunk.value.byteLength;
      if (size > limits.maxBytes) {
        await reader.cancel().catch(() => undefined);
        throw new FetchJsonError(`body exceeds ${limits.maxBytes} bytes`);
      }
      chunks.push(chunk.value);
    }
    try {
      return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks))) as unknown;
    } catch (cause) {
      throw new FetchJsonError('body is not JSON', { cause });
    }
  } finally {
    clearTimeout(timer);
    limits.signal?.removeEventListener('abort', onOuterAbort);
  }
}

function reasonOf(signal: AbortSignal): FetchJsonError {
  return signal.reason instanceof FetchJsonError ? signal.reason : new FetchJsonError('aborted');
}

/**
 * Parses an `http:`/`https:` URL for a trust source, failing at set-up with a message naming
 * the option.
 *
 * @throws {TypeError} When `value` is not an absolute http(s) URL without credentials or fragment.
 */
export function parseHttpUrl(value: string | URL, option: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TypeError(`${option} must be an absolute http(s) URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new TypeError(`${option} must use https: (or http:)`);
  if (url.username !== '' || url.password !== '') throw new TypeError(`${option} must not embed credentials`);
  if (url.hash !== '') throw new TypeError(`${option} must not have a fragment`);
  return url;
}

/**
 * Checks a numeric option at set-up.
 *
 * @throws {TypeError} When `value` is not a finite number ≥ `min`.
 */
export function checkNumber(value: number, option: string, min: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw new TypeError(`${option} must be a finite number ≥ ${min}`);
  }
  return value;
}

import { once } from 'node:events';
import { createServer, request as httpRequest, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough, Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { WardenError } from './errors.js';
import { BodyLimitError, readStream } from './read-stream.js';

/** A readable that stands in for a request: chunks, then end. */
function body(...chunks: string[]): IncomingMessage {
  return Readable.from(chunks.map((c) => Buffer.from(c)), { objectMode: false }) as unknown as IncomingMessage;
}

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

describe('readStream — a request body up to a cap', () => {
  it('concatenates chunks in order', async () => {
    const buffer = await readStream(body('{"jsonrpc":', '"2.0",', '"id":1}'), 1024);
    expect(buffer.toString('utf8')).toBe('{"jsonrpc":"2.0","id":1}');
  });

  it('a single chunk and an empty body', async () => {
    expect((await readStream(body('abc'), 3)).toString()).toBe('abc');
    expect(await readStream(body(), 10)).toEqual(Buffer.alloc(0));
  });

  it('exactly maxBytes is accepted; one byte more is refused with BodyLimitError', async () => {
    expect((await readStream(body('12345', '67890'), 10)).toString()).toBe('1234567890');
    const refused = readStream(body('12345', '678901'), 10);
    await expect(refused).rejects.toBeInstanceOf(BodyLimitError);
    await expect(readStream(body('12345678901'), 10)).rejects.toMatchObject({ code: 'body_too_large', message: 'request body exceeds 10 bytes', name: 'BodyLimitError' });
    await expect(readStream(body('x'), 0)).rejects.toBeInstanceOf(WardenError);
  });

  it('counts bytes, not characters', async () => {
    await expect(readStream(body('ééééé'), 9)).rejects.toBeInstanceOf(BodyLimitError);
    expect((await readStream(body('ééééé'), 10)).toString('utf8')).toBe('ééééé');
  });

  it('after the cap it stops listening but keeps draining, so the stream still ends', async () => {
    const stream = new PassThrough();
    const result = readStream(stream as unknown as IncomingMessage, 4);
    stream.write('12345');
    await expect(result).rejects.toBeInstanceOf(BodyLimitError);
    expect(stream.listenerCount('data')).toBe(0);
    const ended = once(stream, 'end');
    stream.write('more bytes nobody buffers');
    stream.end();
    await ended;
  });

  it('rejects with the stream\'s own error', async () => {
    const stream = new PassThrough();
    const result = readStream(stream as unknown as IncomingMessage, 100);
    stream.write('partial');
    const failure = new Error('socket hang up');
    stream.destroy(failure);
    await expect(result).rejects.toBe(failure);
  });

  it('an already consumed stream resolves to an empty body instead of waiting for an end that never comes', async () => {
    const stream = body('consumed');
    stream.resume();
    await once(stream, 'end');
    expect(stream.readableEnded).toBe(true);
    expect(await readStream(stream, 100)).toEqual(Buffer.alloc(0));
  });

  it('RFC 9112 §7.1: a chunked request body over HTTP is read whole; one over the cap is refused and still answered', async () => {
    const server = createServer((req, res) => {
      readStream(req, 16).then(
        (buffer) => res.end(`ok ${buffer.length} ${buffer.toString()}`),
        (error: unknown) => {
          res.statusCode = error instanceof BodyLimitError ? 413 : 500;
          res.end(error instanceof Error ? error.message : 'error');
        },
      );
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    closers.push(() => new Promise((resolve) => server.close(() => resolve())));
    const { port } = server.address() as AddressInfo;

    const send = async (chunks: string[]): Promise<{ status: number; text: string }> => {
      const req = httpRequest({ host: '127.0.0.1', port, method: 'POST', path: '/mcp', agent: false, headers: { 'Transfer-Encoding': 'chunked' } });
      for (const chunk of chunks) req.write(chunk);
      req.end();
      const [res] = (await once(req, 'response')) as [IncomingMessage];
      let text = '';
      for await (const part of res) text += String(part);
      return { status: res.statusCode ?? 0, text };
    };

    expect(await send(['{"a"', ':1,', '"b":2}'])).toEqual({ status: 200, text: 'ok 13 {"a":1,"b":2}' });
    expect(await send(['0123456789', '0123456789', 'tail'])).toEqual({ status: 413, text: 'request body exceeds 16 bytes' });
  });
});

import { createServer, type IncomingMessage, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { headerValues } from '../read-credentials.js';
import { requestHeaders } from './request-headers.js';

let server: Server;
let port: number;
let last: IncomingMessage | undefined;
beforeAll(async () => {
  server = createServer((req, res) => {
    last = req;
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

/** Sends `head` (header lines) raw, so repeated fields reach node as they were written. */
async function received(head: string): Promise<IncomingMessage> {
  await new Promise<void>((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(`GET /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n${head}Connection: close\r\n\r\n`));
    socket.on('data', () => {});
    socket.on('end', resolve);
    socket.on('error', reject);
  });
  return last as IncomingMessage;
}

describe('requestHeaders — what the node adapter hands the gauntlet', () => {
  it('no repeated field: req.headers itself, every value as sent', async () => {
    const req = await received('Authorization: DPoP abc\r\nDPoP: x.y.z\r\n');
    const headers = requestHeaders(req);
    expect(headers).toBe(req.headers);
    expect(headerValues(headers, 'authorization')).toStrictEqual(['DPoP abc']);
    expect(headerValues(headers, 'dpop')).toStrictEqual(['x.y.z']);
  });

  it('RFC 6750 §2.1 / RFC 9449 §4.3 step 1: a repeated field, in any spelling, keeps every line (node\'s req.headers keeps one Authorization, joins DPoPs)', async () => {
    const auth = await received('Authorization: DPoP abc\r\nauthorization: DPoP def\r\n');
    expect(auth.headers.authorization).toBe('DPoP abc');
    expect(headerValues(requestHeaders(auth), 'authorization')).toStrictEqual(['DPoP abc', 'DPoP def']);
    const dpop = await received('Authorization: DPoP abc\r\nDPoP: a.b.c\r\nDpop: d.e.f\r\n');
    expect(headerValues(requestHeaders(dpop), 'dpop')).toStrictEqual(['a.b.c', 'd.e.f']);
    const other = await received('Authorization: DPoP abc\r\nX-Note: 1\r\nX-Note: 2\r\n');
    expect(requestHeaders(other)).toBe(other.headersDistinct);
  });
});

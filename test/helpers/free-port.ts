/**
 * A TCP port that was free a moment ago on 127.0.0.1: listen on port 0, read the port the
 * kernel chose, close. For child processes whose public URL must be known before they start.
 * (Another process could take the port in between; on a test machine that is rare enough.)
 */
import { createServer } from 'node:net';

/** Resolves to a port that was free on `host` when this returned. */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('freePort: listening socket has no port'));
        return;
      }
      server.close((error) => (error ? reject(error) : resolve(address.port)));
    });
  });
}

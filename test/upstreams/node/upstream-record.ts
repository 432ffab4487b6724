/**
 * The in-process record of a Node upstream: every request (with its raw body, read before the
 * MCP SDK sees it) and every tool run, readable by the test without going through Warden.
 */
import type { IncomingMessage } from 'node:http';
import type { LogCursor, LogSlice, ReceivedRequest, ToolRun } from '../upstream.js';

export class UpstreamRecord {
  readonly #requests: ReceivedRequest[] = [];
  readonly #runs: ToolRun[] = [];

  /** Records a request; returns its `seq`. */
  request(req: IncomingMessage, body: Buffer): number {
    const headers: Record<string, string[]> = {};
    // node decodes header bytes as Latin-1; record what the bytes say in UTF-8 (as Go and Python do).
    for (const [name, values] of Object.entries(req.headersDistinct)) {
      if (values !== undefined) headers[name] = values.map((v) => Buffer.from(v, 'latin1').toString('utf8'));
    }
    const seq = this.#requests.length + 1;
    this.#requests.push({ seq, method: req.method ?? '', target: req.url ?? '', headers, body });
    return seq;
  }

  /** Records that `tool` ran (attributed to the latest request: SDK handlers do not see theirs). */
  ran(tool: string): void {
    this.#runs.push({ seq: this.#requests.length, tool });
  }

  cursor(): Promise<LogCursor> {
    return Promise.resolve({ requests: this.#requests.length, runs: this.#runs.length });
  }

  since(cursor: LogCursor): Promise<LogSlice> {
    return Promise.resolve({ requests: this.#requests.slice(cursor.requests), runs: this.#runs.slice(cursor.runs) });
  }
}

/** Reads a request body completely (GET and friends resolve with an empty buffer). */
export async function readAll(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The path of a raw request target, without the query. */
export function pathOf(target: string): string {
  const q = target.indexOf('?');
  return q === -1 ? target : target.slice(0, q);
}

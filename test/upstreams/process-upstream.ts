/**
 * Runs an upstream that is its own process (Go, Python): starts it, waits for the
 * `LISTENING <port>` line it prints, and reads its record from a control path on its own port —
 * a random path only this process knows, so no request relayed by Warden can reach it.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import type { DiffUpstream, LogCursor, LogSlice, ReceivedRequest, ToolRun, UpstreamTransport } from './upstream.js';

export interface ProcessUpstreamOptions {
  name: string;
  description: string;
  command: string;
  /** Arguments; `--control <path>` (or `-control` for Go) is added after them. */
  args: string[];
  controlFlag: '-control' | '--control';
  /** The MCP endpoint path the upstream URL names. */
  mcpPath: string;
  tools: readonly string[];
  transport?: UpstreamTransport;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Called after the process exited and its record is no longer needed (temp dirs). */
  cleanup?: () => Promise<void>;
  startTimeoutMs?: number;
}

/** What the control path answers. */
interface WireLog {
  requests: Array<Omit<ReceivedRequest, 'body'> & { body: string }>;
  runs: ToolRun[];
  counts: LogCursor;
}

export async function startProcessUpstream(options: ProcessUpstreamOptions): Promise<DiffUpstream> {
  const control = `/__control-${randomUUID()}`;
  const child = spawn(options.command, [...options.args, options.controlFlag, control], {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-16_384)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const timeoutMs = options.startTimeoutMs ?? 10_000;
  const port = await new Promise<number>((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => fail(`no LISTENING line within ${timeoutMs} ms`), timeoutMs);
    function fail(why: string): void {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      void options.cleanup?.();
      reject(new Error(`${options.name} upstream did not start: ${why}\n--- stderr ---\n${stderr}\n--- stdout ---\n${stdout}`));
    }
    child.once('error', (error) => fail(error.message));
    child.once('exit', (code, signal) => fail(`exited (code ${code}, signal ${signal})`));
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
      const match = /^LISTENING (\d+)$/m.exec(stdout);
      if (match !== null && !settled) {
        settled = true;
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
  });
  const origin = `http://127.0.0.1:${port}`;

  async function read(cursor: LogCursor): Promise<WireLog> {
    const response = await fetch(`${origin}${control}?requests=${cursor.requests}&runs=${cursor.runs}`);
    if (!response.ok) throw new Error(`${options.name} upstream control path answered ${response.status}`);
    return (await response.json()) as WireLog;
  }

  let closed: Promise<void> | undefined;
  return {
    name: options.name,
    description: options.description,
    url: `${origin}${options.mcpPath}`,
    transport: options.transport ?? 'streamable-http',
    tools: options.tools,
    async cursor() {
      return (await read({ requests: Number.MAX_SAFE_INTEGER, runs: Number.MAX_SAFE_INTEGER })).counts;
    },
    async since(cursor): Promise<LogSlice> {
      const log = await read(cursor);
      return { requests: log.requests.map((r) => ({ ...r, body: Buffer.from(r.body, 'base64') })), runs: log.runs };
    },
    close() {
      closed ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
          await exited;
          clearTimeout(timer);
        }
        await options.cleanup?.();
      })();
      return closed;
    },
  };
}

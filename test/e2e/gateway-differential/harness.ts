/**
 * Drives the corpus through a running `warden serve`: builds each case's request for one
 * upstream's resource (its token, session, endpoint), sends it, and collects what that upstream
 * recorded meanwhile. Cases against one upstream run one at a time, so everything an upstream
 * records between a case's start and its answer belongs to that case.
 */
import http from 'node:http';
import type { DiffUpstream } from '../../upstreams/upstream.js';
import type { DiffCase } from './corpus.js';
import { judge, type Observation, type Verdict } from './judge.js';
import { sendRaw, type RawRequest } from './send.js';

/** MCP protocol revision the harness speaks on Streamable HTTP. */
export const PROTOCOL_VERSION = '2025-06-18';

/** One upstream behind one Warden resource, ready for cases. */
export interface Target {
  upstream: DiffUpstream;
  /** `http://127.0.0.1:<warden port>` */
  origin: string;
  /** The resource's path on Warden, e.g. `/mcp`. */
  mountPath: string;
  /** Bearer token of principal A (scope `mcp:tools`, audience this resource). */
  token: string;
  /** Headers every request in A's session carries (`Mcp-Session-Id`). */
  sessionHeaders: Record<string, string>;
  /** Legacy SSE: the query naming A's session (`?sessionId=…`); empty otherwise. */
  sessionQuery: string;
}

/** The request a case becomes for `target`. */
export function requestFor(target: Target, c: DiffCase, token = target.token): RawRequest {
  const endpoint = target.upstream.transport === 'legacy-sse' ? '/messages' : '';
  const requestTarget = `${target.mountPath}${c.path ?? endpoint}${target.sessionQuery}`;
  const headers: Record<string, string | string[]> = {
    authorization: `Bearer ${token}`,
    accept: 'application/json, text/event-stream',
    'content-type': 'application/json',
    'mcp-protocol-version': PROTOCOL_VERSION,
    ...target.sessionHeaders,
  };
  for (const [name, value] of Object.entries(c.headers ?? {})) {
    if (value === null) delete headers[name];
    else headers[name] = value;
  }
  return { method: c.method ?? 'POST', target: requestTarget, headers, body: c.body };
}

/** Sends one case and collects what the upstream recorded meanwhile. */
export async function observe(target: Target, c: DiffCase): Promise<Observation> {
  const { upstream } = target;
  const started = performance.now();
  const before = await upstream.cursor();
  let response: Observation['response'];
  let error: string | undefined;
  try {
    response = await sendRaw(target.origin, requestFor(target, c));
  } catch (e) {
    error = (e as Error).message;
  }
  await upstream.idle?.();
  const log = await upstream.since(before);
  const durationMs = Math.round(performance.now() - started);
  return { case: c, upstream: upstream.name, upstreamBasePath: new URL(upstream.url).pathname, response, error, durationMs, log };
}

/** Runs every case against `target`, one at a time, and judges each. */
export async function runCorpus(target: Target, corpus: readonly DiffCase[]): Promise<Verdict[]> {
  const verdicts: Verdict[] = [];
  for (const c of corpus) verdicts.push(judge(await observe(target, c)));
  return verdicts;
}

/** The JSON-RPC messages of a Streamable HTTP answer (a JSON body or an SSE stream of them). */
export function answerMessages(body: Buffer, contentType: string | undefined): unknown[] {
  const text = body.toString('utf8');
  if (contentType?.startsWith('text/event-stream')) {
    return text
      .split('\n')
      .filter((line) => line.startsWith('data:'))
      .map((line) => JSON.parse(line.slice(5).trim()) as unknown);
  }
  const parsed = text === '' ? [] : (JSON.parse(text) as unknown);
  return Array.isArray(parsed) ? parsed : [parsed];
}

/**
 * Initializes an MCP session through Warden (Streamable HTTP): `initialize`, then
 * `notifications/initialized`. Returns the session id the upstream issued.
 */
export async function initializeSession(origin: string, mountPath: string, token: string): Promise<string> {
  const headers = { authorization: `Bearer ${token}`, accept: 'application/json, text/event-stream', 'content-type': 'application/json' };
  const init = await sendRaw(origin, {
    method: 'POST',
    target: mountPath,
    headers,
    body: Buffer.from(JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'warden-differential', version: '1.0.0' } } })),
  });
  const sessionId = init.headers['mcp-session-id'];
  if (init.status !== 200 || typeof sessionId !== 'string') {
    throw new Error(`initialize through Warden answered ${init.status} without a session id: ${init.body.toString('utf8').slice(0, 300)}`);
  }
  const initialized = await sendRaw(origin, {
    method: 'POST',
    target: mountPath,
    headers: { ...headers, 'mcp-session-id': sessionId, 'mcp-protocol-version': PROTOCOL_VERSION },
    body: Buffer.from('{"jsonrpc":"2.0","method":"notifications/initialized"}'),
  });
  if (initialized.status !== 202) throw new Error(`notifications/initialized answered ${initialized.status}`);
  return sessionId;
}

/** An open legacy SSE stream (through Warden) and the messages endpoint it announced. */
export interface SseSession {
  /** The announced endpoint, e.g. `/legacy/messages?sessionId=…`. */
  endpoint: string;
  /** `?sessionId=…` */
  query: string;
  /** Every `message` event received so far. */
  messages: unknown[];
  close(): void;
}

/** Opens `GET <mount>/sse` through Warden and waits for the `endpoint` event. */
export function openSseSession(origin: string, mountPath: string, token: string, timeoutMs = 5_000): Promise<SseSession> {
  const { hostname, port } = new URL(origin);
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: hostname,
      port: Number(port),
      method: 'GET',
      path: `${mountPath}/sse`,
      headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
    });
    const timer = setTimeout(() => req.destroy(new Error(`no endpoint event within ${timeoutMs} ms`)), timeoutMs);
    req.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    req.once('response', (res) => {
      if (res.statusCode !== 200) {
        clearTimeout(timer);
        res.resume();
        reject(new Error(`GET ${mountPath}/sse through Warden answered ${res.statusCode}`));
        return;
      }
      const messages: unknown[] = [];
      let buffer = '';
      let announced = false;
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) !== -1) {
          const event = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const name = /^event: (.*)$/m.exec(event)?.[1];
          const data = /^data: (.*)$/m.exec(event)?.[1] ?? '';
          if (name === 'endpoint' && !announced) {
            announced = true;
            clearTimeout(timer);
            const q = data.indexOf('?');
            resolve({ endpoint: data, query: q === -1 ? '' : data.slice(q), messages, close: () => req.destroy() });
          } else if (name === 'message') {
            messages.push(JSON.parse(data) as unknown);
          }
        }
      });
      res.once('error', () => undefined);
    });
    req.end();
  });
}

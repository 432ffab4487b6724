/**
 * The verdict on one case against one upstream: either Warden refused it (a 4xx, and the upstream
 * received nothing), or Warden forwarded it and the upstream got one canonical form and ran only
 * what Warden authorized. Anything else is a failure, described in words a reader of the test
 * report can act on.
 *
 * Canonical form (DESIGN.md, "Gateway forwarding"): `Content-Type: application/json` without
 * parameters, no `Content-Encoding`, a body of printable ASCII that JSON.parse reads, without
 * duplicate member names or integers JavaScript cannot hold exactly, whose messages carry only
 * the JSON-RPC members; `Mcp-Method`/`Mcp-Name` (when present) equal to the body's; a path with
 * no `;`, dot segments or encoded `. / \ %`; none of the client's forwarding headers; no client
 * credentials (no token passthrough).
 */
import type { LogSlice, ReceivedRequest } from '../../upstreams/upstream.js';
import type { DiffCase } from './corpus.js';
import type { RawResponse } from './send.js';

/** The tool the token may never run: it needs `mcp:admin`, the token holds only `mcp:tools`. */
export const GUARDED_TOOL = 'admin_delete';

/** What happened when a case was sent. */
export interface Observation {
  case: DiffCase;
  upstream: string;
  /** The upstream URL's path: what Warden maps the mount onto. */
  upstreamBasePath: string;
  response: RawResponse | undefined;
  /** Set when no complete answer came (socket error, timeout). */
  error: string | undefined;
  /** From sending to having the upstream's record. */
  durationMs: number;
  /** What the upstream recorded while the case ran. */
  log: LogSlice;
}

export type Outcome = 'refused' | 'forwarded' | 'failed';

export interface Verdict {
  observation: Observation;
  outcome: Outcome;
  problems: string[];
}

/** Judges one observation (see the module comment). */
export function judge(observation: Observation): Verdict {
  const { case: c, response, error, log } = observation;
  const problems: string[] = [];
  if (error !== undefined) problems.push(`no answer from Warden: ${error}`);
  const authorized = toolsWardenAuthorized(c.body);
  for (const run of log.runs) {
    if (run.tool === GUARDED_TOOL) problems.push(`the upstream ran ${GUARDED_TOOL}, which needs mcp:admin (the token has only mcp:tools)`);
    else if (!authorized.has(run.tool)) problems.push(`the upstream ran ${JSON.stringify(run.tool)}, which Warden did not authorize (JSON.parse reads ${describeSet(authorized)})`);
  }

  // Nothing recorded: Warden refused — or the upstream's HTTP layer rejected the request before
  // its handler saw it (Go answers 400 to malformed percent-encoding); either way nothing ran.
  if (log.requests.length === 0) {
    if (response !== undefined && (response.status < 400 || response.status > 499)) {
      problems.push(`Warden answered ${response.status} without forwarding: expected a 4xx refusal`);
    }
    if (c.mustForward === true && response !== undefined) problems.push(`a legitimate request was refused with ${response.status}`);
    return { observation, outcome: problems.length === 0 ? 'refused' : 'failed', problems };
  }

  for (const received of log.requests) problems.push(...forwardedProblems(c, received, observation.upstreamBasePath));
  return { observation, outcome: problems.length === 0 ? 'forwarded' : 'failed', problems: [...new Set(problems)] };
}

/** Tool names of the `tools/call` messages JSON.parse reads in the client's body (Warden's reading). */
export function toolsWardenAuthorized(body: Buffer): Set<string> {
  const tools = new Set<string>();
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return tools;
  }
  for (const message of Array.isArray(parsed) ? parsed : [parsed]) {
    if (!isRecord(message) || message.method !== 'tools/call' || !isRecord(message.params)) continue;
    if (typeof message.params.name === 'string' && message.params.name !== GUARDED_TOOL) tools.add(message.params.name);
  }
  return tools;
}

const REQUEST_MEMBERS = new Set(['jsonrpc', 'id', 'method', 'params']);
const RESPONSE_MEMBERS = new Set(['jsonrpc', 'id', 'result', 'error']);

function forwardedProblems(c: DiffCase, received: ReceivedRequest, basePath: string): string[] {
  const problems: string[] = [];
  const one = (name: string): string | undefined => received.headers[name]?.join(', ');
  const expectedMethod = (c.method ?? 'POST').toUpperCase();
  if (received.method !== expectedMethod) problems.push(`the upstream received method ${received.method}, the client sent ${expectedMethod}`);

  problems.push(...pathProblems(received.target, basePath));
  for (const credential of ['authorization', 'dpop']) {
    if (received.headers[credential] !== undefined) problems.push(`the client's ${credential} header reached the upstream (token passthrough)`);
  }
  for (const [name, value] of c.spoofed ?? []) {
    for (const [receivedName, values] of Object.entries(received.headers)) {
      const sameHeader = receivedName.replace(/_/g, '-') === name;
      for (const v of values) {
        if (v.includes(value) && (sameHeader || value.length >= 7)) problems.push(`the upstream received ${receivedName}: ${v} (the client wrote ${name}: ${value})`);
      }
    }
  }

  if (received.body.length === 0 && expectedMethod !== 'POST') return problems;
  const contentType = received.headers['content-type'];
  if (contentType === undefined || contentType.length !== 1 || contentType[0] !== 'application/json') {
    problems.push(`Content-Type ${contentType === undefined ? '(none)' : JSON.stringify(contentType.join(', '))} reached the upstream, not exactly application/json`);
  }
  if (received.headers['content-encoding'] !== undefined) problems.push(`Content-Encoding ${one('content-encoding')} reached the upstream`);

  const nonAscii = received.body.findIndex((byte) => byte > 0x7e || (byte < 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0d));
  if (nonAscii !== -1) problems.push(`the body is not printable ASCII (byte 0x${received.body[nonAscii]!.toString(16)} at ${nonAscii}): ${preview(received.body)}`);
  const text = received.body.toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    problems.push(`the body is not JSON that JSON.parse reads: ${preview(received.body)}`);
    return problems;
  }
  problems.push(...jsonTextProblems(text));
  const messages = Array.isArray(parsed) ? parsed : [parsed];
  if (messages.length === 0) problems.push('the body is an empty batch');
  for (const message of messages) {
    if (!isRecord(message)) {
      problems.push(`a forwarded message is not an object: ${preview(Buffer.from(JSON.stringify(message) ?? 'undefined'))}`);
      continue;
    }
    const allowed = 'method' in message ? REQUEST_MEMBERS : RESPONSE_MEMBERS;
    for (const member of Object.keys(message)) {
      if (!allowed.has(member)) problems.push(`a forwarded message has the member ${JSON.stringify(member)}, which is no JSON-RPC ${'method' in message ? 'request' : 'response'} member`);
    }
  }
  problems.push(...routingHeaderProblems(received, parsed));
  problems.push(...sameMessageProblems(c.body, parsed));
  return problems;
}

const MESSAGE_MEMBERS = ['jsonrpc', 'id', 'method', 'params', 'result', 'error'] as const;

/**
 * The forwarded messages are the ones Warden read (JSON.parse of the client's body), member for
 * member: whatever Warden authorized is what the upstream gets (e.g. an id of 1e400 must not
 * become null on the way).
 */
function sameMessageProblems(clientBody: Buffer, forwarded: unknown): string[] {
  let client: unknown;
  try {
    client = JSON.parse(clientBody.toString('utf8'));
  } catch {
    return [];
  }
  const read = Array.isArray(client) ? client : [client];
  const sent = Array.isArray(forwarded) ? forwarded : [forwarded];
  if (Array.isArray(client) !== Array.isArray(forwarded) || read.length !== sent.length) {
    return [`the upstream received ${sent.length} message(s)${Array.isArray(forwarded) ? ' in a batch' : ''}, Warden read ${read.length}${Array.isArray(client) ? ' in a batch' : ''}`];
  }
  const problems: string[] = [];
  read.forEach((message, i) => {
    const out = sent[i];
    if (!isRecord(message) || !isRecord(out)) return;
    for (const member of MESSAGE_MEMBERS) {
      if (!sameJson(message[member], out[member])) problems.push(`the upstream received ${member} ${show(out[member])} where Warden read ${show(message[member])}`);
    }
  });
  return problems;
}

/** Deep equality of JSON values as readers see them (so -0 equals 0; Infinity is not null). */
function sameJson(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((v, i) => sameJson(v, b[i]));
  }
  if (isRecord(a) && isRecord(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && sameJson(a[k], b[k]));
  }
  return a === b;
}

function show(value: unknown): string {
  const text = typeof value === 'number' ? String(value) : (JSON.stringify(value) ?? 'nothing');
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}

/** The path must stay under the upstream's base, without `;`, dot segments or encoded `. / \ %`. */
function pathProblems(target: string, basePath: string): string[] {
  const q = target.indexOf('?');
  const path = q === -1 ? target : target.slice(0, q);
  if (path !== basePath && !path.startsWith(`${basePath}/`)) return [`the upstream received the path ${path}, outside ${basePath}`];
  const problems: string[] = [];
  for (const segment of path.slice(basePath.length).split('/').slice(1)) {
    if (segment.includes(';')) problems.push(`the upstream received a path segment with ";": ${path}`);
    if (segment === '.' || segment === '..') problems.push(`the upstream received a dot segment: ${path}`);
    // Percent-encoded, overlong UTF-8 (%c0%ae …) and IIS %u forms of . / \ and %.
    if (/%2e|%2f|%5c|%25|%c0%ae|%e0%80%ae|%c0%af|%c1%9c|%u002e|%u002f|%u005c/i.test(segment) || segment.includes('\\')) {
      problems.push(`the upstream received an encoded dot, slash, backslash or percent: ${path}`);
    }
  }
  return problems;
}

/** SEP-2243: when the upstream gets `Mcp-Method`/`Mcp-Name`, they say what the body says. */
function routingHeaderProblems(received: ReceivedRequest, parsed: unknown): string[] {
  const method = received.headers['mcp-method'];
  const name = received.headers['mcp-name'];
  if (method === undefined && name === undefined) return [];
  if (!isRecord(parsed)) return ['the upstream received Mcp-Method/Mcp-Name with a body that is not one message'];
  const problems: string[] = [];
  if (method !== undefined && (method.length !== 1 || method[0] !== parsed.method)) {
    problems.push(`the upstream received Mcp-Method: ${method.join(', ')} with a body whose method is ${JSON.stringify(parsed.method)}`);
  }
  if (name !== undefined) {
    const params = isRecord(parsed.params) ? parsed.params : {};
    const bodyName = parsed.method === 'resources/read' ? params.uri : params.name;
    if (name.length !== 1 || decodeHeaderValue(name[0]!) !== bodyName) {
      problems.push(`the upstream received Mcp-Name: ${name.join(', ')} with a body naming ${JSON.stringify(bodyName)}`);
    }
  }
  return problems;
}

/** Undoes SEP-2243's `=?base64?…?=` form. */
export function decodeHeaderValue(value: string): string {
  const match = /^=\?base64\?([A-Za-z0-9+/]*={0,2})\?=$/.exec(value);
  return match === null ? value : Buffer.from(match[1]!, 'base64').toString('utf8');
}

/**
 * What JSON.parse hides: duplicate member names (it keeps the last), lone surrogates, and numbers
 * it cannot hold (non-finite, or integers beyond ±(2^53−1)). Iterative: bodies may nest deeply.
 */
export function jsonTextProblems(text: string): string[] {
  const problems = new Set<string>();
  const frames: Array<Set<string> | undefined> = [];
  const number = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '{') frames.push(new Set());
    else if (c === '[') frames.push(undefined);
    else if (c === '}' || c === ']') frames.pop();
    else if (c === '"') {
      let end = i + 1;
      while (end < text.length && text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      const value = JSON.parse(text.slice(i, end + 1)) as string;
      if (/[\uD800-\uDFFF]/u.test(value)) problems.add(`a lone surrogate in ${JSON.stringify(value)}`);
      let next = end + 1;
      while (text[next] === ' ' || text[next] === '\t' || text[next] === '\n' || text[next] === '\r') next += 1;
      const frame = frames.at(-1);
      if (text[next] === ':' && frame !== undefined) {
        if (frame.has(value)) problems.add(`the duplicate member name ${JSON.stringify(value)}`);
        frame.add(value);
      }
      i = end + 1;
      continue;
    } else if (c === '-' || (c >= '0' && c <= '9')) {
      number.lastIndex = i;
      const literal = number.exec(text)?.[0] ?? c;
      const value = Number(literal);
      if (!Number.isFinite(value)) problems.add(`the number ${literal}, which JSON.parse reads as ${value}`);
      else if (!/[.eE]/.test(literal) && !Number.isSafeInteger(value)) problems.add(`the integer ${literal}, beyond ±(2^53−1)`);
      i += literal.length;
      continue;
    }
    i += 1;
  }
  return [...problems].map((p) => `the forwarded body has ${p}`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function describeSet(tools: Set<string>): string {
  return tools.size === 0 ? 'no tool call' : [...tools].map((t) => JSON.stringify(t)).join(', ');
}

/** The start of a body, printable: non-ASCII and control bytes as \xNN. */
export function preview(body: Buffer, max = 160): string {
  let out = '';
  for (const byte of body.subarray(0, max)) out += byte >= 0x20 && byte < 0x7f ? String.fromCharCode(byte) : `\\x${byte.toString(16).padStart(2, '0')}`;
  return body.length > max ? `${out}… (${body.length} bytes)` : out;
}

/** One line per failing case: what was sent, what Warden answered, what the upstream saw and ran. */
export function describeFailure(verdict: Verdict): string {
  const { case: c, response, log } = verdict.observation;
  const answered = response === undefined ? 'no answer' : `${response.status} ${preview(response.body, 120)}`;
  const ran = log.runs.length === 0 ? 'ran nothing' : `ran ${log.runs.map((r) => r.tool).join(', ')}`;
  return [
    `- ${c.id} [${c.group}]`,
    `    Warden answered: ${answered}`,
    `    upstream: received ${log.requests.length} request(s), ${ran}`,
    ...verdict.problems.map((p) => `    ✗ ${p}`),
  ].join('\n');
}

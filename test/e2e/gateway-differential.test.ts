/**
 * The gateway's trust boundary, tested differentially: a real `warden serve` child in front of
 * real upstream MCP servers in other languages, and a corpus of hostile requests from a client
 * whose token holds only `mcp:tools`. For every case and every upstream, either Warden refuses
 * (a 4xx it answers itself: the upstream receives nothing), or the upstream receives one canonical
 * form and runs only the tool Warden authorized — never `admin_delete`, which needs `mcp:admin`.
 * (See `gateway-differential/judge.ts` for the canonical form, `…/corpus.ts` for the cases.)
 *
 * Upstreams, all on 127.0.0.1 with kernel-chosen ports, each recording every request it received
 * and every tool it ran on a channel that does not pass through Warden:
 * - go: Go net/http + encoding/json decoding into structs (as mark3labs/mcp-go), routing by
 *   `Mcp-Method`/`Mcp-Name` — built from `test/upstreams/go` with the local toolchain;
 * - python: http.server + json.loads on the raw bytes;
 * - sdk-v1: MCP TypeScript SDK v1, Streamable HTTP, stateful;
 * - sdk-v1-sse: MCP TypeScript SDK v1, legacy HTTP+SSE transport (decodes the declared charset);
 * - sdk-v2: MCP TypeScript SDK v2 server, Streamable HTTP, stateless.
 *
 * Without Go or Python the suites needing them are skipped with a note (under CI they fail).
 * Set WARDEN_DIFF_REPORT=<file> to write every verdict as JSON lines.
 *
 * Build first: `npx tsc -p tsconfig.build.json && npx vitest run test/e2e/gateway-differential.test.ts`.
 */
import { appendFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/free-port.js';
import { spawnWarden, type SpawnedWarden } from '../helpers/spawn-warden.js';
import { createTestIssuer, type TestIssuer } from '../helpers/test-issuer.js';
import { startGoUpstream } from '../upstreams/go/start-go-upstream.js';
import { startSdkV1SseUpstream } from '../upstreams/node/sdk-v1-sse.js';
import { startSdkV1StreamableUpstream } from '../upstreams/node/sdk-v1-streamable.js';
import { startSdkV2Upstream } from '../upstreams/node/sdk-v2.js';
import { startPythonUpstream } from '../upstreams/python/start-python-upstream.js';
import { findToolchain, requireToolchain, type Toolchain } from '../upstreams/toolchain.js';
import type { DiffUpstream } from '../upstreams/upstream.js';
import {
  ATTACK_LONG_S_JSONRPC,
  ATTACK_LONG_S_PARAMS,
  ATTACK_LONG_S_PARAMS_ESCAPED,
  ATTACK_MCP_METHOD_MISMATCH,
  ATTACK_MCP_NAME_MISMATCH,
  ATTACK_PATH_DOT_DOT_SEMICOLON,
  ATTACK_PATH_ENCODED_DOTS_SEMICOLON,
  ATTACK_UTF7_NAME,
  ATTACK_UTF7_SHADOW_NAME,
  buildCorpus,
  MATCHING_MCP_HEADERS,
  MATCHING_MCP_HEADERS_BASE64,
  toolCall,
  type DiffCase,
  type Expectation,
} from './gateway-differential/corpus.js';
import { initializeSession, observe, openSseSession, requestFor, runCorpus, type SseSession, type Target } from './gateway-differential/harness.js';
import { decodeHeaderValue, describeFailure, GUARDED_TOOL, preview, type Observation, type Verdict } from './gateway-differential/judge.js';
import { closeSender, sendRaw, type RawResponse } from './gateway-differential/send.js';

const CORPUS_TIMEOUT = 60_000;
const TEST_TIMEOUT = 20_000;

const go = findToolchain('go', ['version']);
const python = findToolchain('python3', ['--version']);
const corpus = buildCorpus();
const byId = new Map(corpus.map((c) => [c.id, c]));

/** The upstreams, in report order: how to start each and where Warden mounts it. */
const UPSTREAMS: ReadonlyArray<{ name: string; label: string; mountPath: string; toolchain?: Toolchain; start: () => Promise<DiffUpstream> }> = [
  { name: 'go', label: 'Go net/http + encoding/json, routes by Mcp-Name', mountPath: '/mcp', toolchain: go, start: () => startGoUpstream(go.command) },
  { name: 'python', label: 'Python http.server + json.loads(bytes)', mountPath: '/py', toolchain: python, start: () => startPythonUpstream(python.command) },
  { name: 'sdk-v1', label: 'TypeScript SDK v1, Streamable HTTP', mountPath: '/v1', start: startSdkV1StreamableUpstream },
  // Mounted so its paths line up: Warden /legacy/sse and /legacy/messages → upstream /legacy/…
  { name: 'sdk-v1-sse', label: 'TypeScript SDK v1, legacy HTTP+SSE', mountPath: '/legacy', start: () => startSdkV1SseUpstream('/legacy') },
  { name: 'sdk-v2', label: 'TypeScript SDK v2 server, Streamable HTTP', mountPath: '/v2', start: startSdkV2Upstream },
];

const upstreams = new Map<string, DiffUpstream>();
const startFailures = new Map<string, Error>();
const targets = new Map<string, Target>();
/** Principal B's token per upstream (another sub and client_id, same scope). */
const tokensB = new Map<string, string>();
let jwksServer: Server | undefined;
let issuer: TestIssuer;
let warden: SpawnedWarden | undefined;
let sse: SseSession | undefined;

/** The target for `name`, or the reason it could not be set up. */
function requireTarget(name: string): Target {
  const failure = startFailures.get(name);
  if (failure !== undefined) throw failure;
  const entry = UPSTREAMS.find((u) => u.name === name);
  if (entry?.toolchain !== undefined) requireToolchain(entry.toolchain);
  const target = targets.get(name);
  if (target === undefined) throw new Error(`upstream ${name} was not set up`);
  return target;
}

function caseById(id: string): DiffCase {
  const c = byId.get(id);
  if (c === undefined) throw new Error(`no corpus case ${id}`);
  return c;
}

beforeAll(async () => {
  await Promise.all(
    UPSTREAMS.filter((u) => u.toolchain?.skip !== true).map(async (u) => {
      try {
        if (u.toolchain !== undefined) requireToolchain(u.toolchain);
        upstreams.set(u.name, await u.start());
      } catch (error) {
        startFailures.set(u.name, error as Error);
      }
    }),
  );

  // The issuer's keys, served over HTTP as an authorization server serves them.
  let jwks: unknown = { keys: [] };
  const server = createServer((req, res) => {
    if (req.url !== '/jwks') return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jwks));
  });
  jwksServer = server;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const jwksOrigin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  issuer = await createTestIssuer({ issuer: jwksOrigin, audience: 'set-per-token' });
  jwks = issuer.jwks;

  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const trust = { issuer: issuer.issuer, jwksUri: `${jwksOrigin}/jwks` };
  const scopes = { default: ['mcp:tools'], tools: { [GUARDED_TOOL]: ['mcp:admin'] } };
  const mounted = UPSTREAMS.filter((u) => upstreams.has(u.name));
  warden = await spawnWarden({
    port,
    config: {
      publicUrl: origin,
      listen: { host: '127.0.0.1', port },
      storage: { kind: 'memory' },
      replay: { kind: 'memory' },
      authorizationServer: { enabled: false },
      resources: mounted.map((u) => ({ name: u.name, path: u.mountPath, upstream: upstreams.get(u.name)!.url, dpop: 'allowed', scopes, trust })),
    },
  });

  for (const u of mounted) {
    const upstream = upstreams.get(u.name)!;
    const resource = warden.resource(u.name);
    const token = await issuer.mint({ aud: resource.url, sub: 'alice', client_id: 'diff-client-a', scope: 'mcp:tools' });
    tokensB.set(u.name, await issuer.mint({ aud: resource.url, sub: 'mallory', client_id: 'diff-client-b', scope: 'mcp:tools' }));
    try {
      let sessionHeaders: Record<string, string> = {};
      let sessionQuery = '';
      if (u.name === 'sdk-v1') sessionHeaders = { 'mcp-session-id': await initializeSession(origin, u.mountPath, token) };
      if (upstream.transport === 'legacy-sse') {
        sse = await openSseSession(origin, u.mountPath, token);
        sessionQuery = sse.query;
      }
      targets.set(u.name, { upstream, origin, mountPath: u.mountPath, token, sessionHeaders, sessionQuery });
    } catch (error) {
      startFailures.set(u.name, new Error(`${(error as Error).message}\n${warden.diagnostics().slice(-3000)}`));
    }
  }
}, 120_000);

afterAll(async () => {
  sse?.close();
  closeSender();
  await warden?.stop();
  await Promise.all([...upstreams.values()].map((u) => u.close()));
  if (jwksServer?.listening) {
    jwksServer.closeAllConnections();
    await new Promise((resolve) => jwksServer!.close(resolve));
  }
}, 30_000);

// ---------------------------------------------------------------------------------------------
// Reporting.

function summarise(name: string, verdicts: readonly Verdict[]): string {
  const count = (outcome: Verdict['outcome']) => verdicts.filter((v) => v.outcome === outcome).length;
  const failedGroups = new Map<string, number>();
  for (const v of verdicts) if (v.outcome === 'failed') failedGroups.set(v.observation.case.group, (failedGroups.get(v.observation.case.group) ?? 0) + 1);
  const groups = [...failedGroups].map(([group, n]) => `${group} ${n}`).join(', ');
  return `[gateway-differential] ${name}: ${verdicts.length} cases — ${count('refused')} refused, ${count('forwarded')} forwarded-consistent, ${count('failed')} failures${groups === '' ? '' : ` (${groups})`}`;
}

function writeReport(verdicts: readonly Verdict[]): void {
  const file = process.env.WARDEN_DIFF_REPORT;
  if (file === undefined || file === '') return;
  const lines = verdicts.map((v) =>
    JSON.stringify({
      upstream: v.observation.upstream,
      case: v.observation.case.id,
      group: v.observation.case.group,
      outcome: v.outcome,
      status: v.observation.response?.status ?? null,
      answer: v.observation.response === undefined ? v.observation.error : preview(v.observation.response.body, 200),
      received: v.observation.log.requests.length,
      ms: v.observation.durationMs,
      ran: v.observation.log.runs.map((r) => r.tool),
      problems: v.problems,
    }),
  );
  appendFileSync(file, `${lines.join('\n')}\n`);
}

beforeAll(() => {
  const file = process.env.WARDEN_DIFF_REPORT;
  if (file !== undefined && file !== '') writeFileSync(file, '');
});

// ---------------------------------------------------------------------------------------------

describe(`differential corpus (${corpus.length} cases per upstream): refused with a 4xx, or forwarded in one canonical form that runs only the tool Warden authorized (DESIGN: gateway forwarding)`, () => {
  for (const u of UPSTREAMS) {
    it.skipIf(u.toolchain?.skip === true)(
      `${u.name} (${u.label})${u.toolchain?.note ?? ''}`,
      async () => {
        const target = requireTarget(u.name);
        const verdicts = await runCorpus(target, corpus);
        console.info(summarise(`${u.name} (${target.upstream.description})`, verdicts));
        writeReport(verdicts);
        const failures = verdicts.filter((v) => v.outcome === 'failed');
        const message = `${u.name}: ${failures.length} of ${verdicts.length} cases fail\n${failures.map(describeFailure).join('\n')}`;
        expect(failures.length, message).toBe(0);
      },
      CORPUS_TIMEOUT,
    );
  }
});

// ---------------------------------------------------------------------------------------------
// Exact answers.

/** How an observation differs from the exact refusal `expected` (empty when it matches). */
function refusalMismatch(observation: Observation, expected: Expectation): string[] {
  const { response, error, log } = observation;
  const out: string[] = [];
  if (response === undefined) return [`no answer: ${error}`];
  if (response.status !== expected.status) out.push(`status ${response.status}, want ${expected.status}`);
  if (expected.rpcCode !== undefined) {
    const code = rpcErrorCode(response);
    if (code === undefined) out.push(`body is not a JSON-RPC error: ${preview(response.body, 120)}`);
    else if (expected.rpcCode !== 'any' && code !== expected.rpcCode) out.push(`error.code ${code}, want ${expected.rpcCode}`);
  }
  if (log.requests.length > 0) out.push(`the upstream received ${log.requests.length} request(s)${log.runs.length > 0 ? ` and ran ${log.runs.map((r) => r.tool).join(', ')}` : ''}`);
  return out;
}

/** `error.code` of a JSON-RPC error body, or undefined when the body is none. */
function rpcErrorCode(response: RawResponse): number | undefined {
  try {
    const body = JSON.parse(response.body.toString('utf8')) as { jsonrpc?: unknown; error?: { code?: unknown } };
    return body.jsonrpc === '2.0' && typeof body.error?.code === 'number' ? body.error.code : undefined;
  } catch {
    return undefined;
  }
}

/** Sends each case to `target` and asserts its exact refusal, reporting every mismatch at once. */
async function expectRefusals(target: Target, cases: ReadonlyArray<{ c: DiffCase; expected: Expectation }>): Promise<void> {
  const mismatches: string[] = [];
  for (const { c, expected } of cases) {
    const problems = refusalMismatch(await observe(target, c), expected);
    if (problems.length > 0) mismatches.push(`- ${c.id} (${expected.because}):\n    ${problems.join('\n    ')}`);
  }
  expect(mismatches, `${mismatches.length} of ${cases.length} cases not refused as the contract says:\n${mismatches.join('\n')}`).toEqual([]);
}

const withOwnExpectation = (...ids: string[]) => ids.map((id) => ({ c: caseById(id), expected: caseById(id).expect! }));

describe('the exact attacks of the issue', () => {
  it.skipIf(go.skip)(
    `RFC 8259 §4 / JSON-RPC 2.0 §5.1: "paramſ" and "param\\u017f" beside "params" (Go encoding/json folds them into params, last wins) → 400 -32600, nothing reaches the upstream${go.note}`,
    async () => {
      await expectRefusals(requireTarget('go'), withOwnExpectation(ATTACK_LONG_S_PARAMS, ATTACK_LONG_S_PARAMS_ESCAPED));
    },
    TEST_TIMEOUT,
  );

  it.skipIf(go.skip)(
    `JSON-RPC 2.0 §4: "jſonrpc" (a JSON-RPC message only to Go's folding decoder) → 400 -32600, nothing reaches the upstream${go.note}`,
    async () => {
      await expectRefusals(requireTarget('go'), withOwnExpectation(ATTACK_LONG_S_JSONRPC));
    },
    TEST_TIMEOUT,
  );

  it(
    'RFC 8259 §8.1 / RFC 9110 §15.5.16: SDK v1 legacy SSE transport, Content-Type charset=utf-7 with "+AG4-ame" in params → 415 with a JSON-RPC error, never forwarded',
    async () => {
      await expectRefusals(requireTarget('sdk-v1-sse'), withOwnExpectation(ATTACK_UTF7_NAME, ATTACK_UTF7_SHADOW_NAME));
    },
    TEST_TIMEOUT,
  );

  it(
    'RFC 3986 §3.3 / §5.2.4: <mount>/..;/..;/actuator/env and <mount>/%2e%2e;/x → 400, never reach the upstream (every upstream)',
    async () => {
      for (const name of targets.keys()) {
        await expectRefusals(requireTarget(name), withOwnExpectation(ATTACK_PATH_DOT_DOT_SEMICOLON, ATTACK_PATH_ENCODED_DOTS_SEMICOLON));
      }
    },
    TEST_TIMEOUT,
  );

  it.skipIf(go.skip)(
    `SEP-2243: Mcp-Name: admin_delete on a body calling echo → 400 -32020 (HeaderMismatch); the Go upstream, which routes by the header, receives nothing${go.note}`,
    async () => {
      await expectRefusals(requireTarget('go'), withOwnExpectation(ATTACK_MCP_NAME_MISMATCH));
    },
    TEST_TIMEOUT,
  );

  it.skipIf(go.skip)(
    `SEP-2243: Mcp-Method: tools/list on a tools/call body → 400 -32020 (HeaderMismatch)${go.note}`,
    async () => {
      await expectRefusals(requireTarget('go'), withOwnExpectation(ATTACK_MCP_METHOD_MISMATCH));
    },
    TEST_TIMEOUT,
  );

  it.skipIf(go.skip)(
    `SEP-2243: matching Mcp-Method/Mcp-Name pass — plain for echo, =?base64?…?= for the non-ASCII tool "héllo" — and the upstream receives headers that match the body and runs that tool${go.note}`,
    async () => {
      const target = requireTarget('go');
      for (const [id, tool] of [[MATCHING_MCP_HEADERS, 'echo'], [MATCHING_MCP_HEADERS_BASE64, 'héllo']] as const) {
        const { response, log } = await observe(target, caseById(id));
        expect(response?.status, `${id}: ${response === undefined ? 'no answer' : preview(response.body)}`).toBe(200);
        expect(log.runs.map((r) => r.tool), id).toEqual([tool]);
        expect(log.requests, id).toHaveLength(1);
        const received = log.requests[0]!;
        const body = JSON.parse(received.body.toString('utf8')) as { method: string; params: { name: string } };
        expect(received.headers['mcp-method'], id).toEqual([body.method]);
        expect(received.headers['mcp-name']?.map(decodeHeaderValue), id).toEqual([body.params.name]);
        expect(body.params.name, id).toBe(tool);
      }
    },
    TEST_TIMEOUT,
  );
});

// ---------------------------------------------------------------------------------------------

describe('sessions: upstream session ids are bound to the principal that created them (MCP Streamable HTTP, session management; DESIGN: gateway forwarding)', () => {
  /** Sends `method` with `body` as `token` in `session` and reports what came back and what the upstream saw. */
  async function inSession(target: Target, token: string, session: { header?: string; query?: string }, method: string, body: string) {
    const c: DiffCase = { id: 'session', group: 'baseline', method, body: Buffer.from(body) };
    const request = requestFor({ ...target, sessionHeaders: session.header === undefined ? {} : { 'mcp-session-id': session.header }, sessionQuery: session.query ?? '' }, c, token);
    if (method !== 'POST') delete request.headers['content-type'];
    const before = await target.upstream.cursor();
    const response = await sendRaw(target.origin, request, { timeoutMs: 3_000, headersOnly: method === 'GET' });
    await target.upstream.idle?.();
    return { response, log: await target.upstream.since(before) };
  }

  /** Mismatches between an answer and "404, JSON-RPC error body, upstream untouched". */
  function notFoundProblems(step: string, seen: Awaited<ReturnType<typeof inSession>>): string[] {
    const problems: string[] = [];
    if (seen.response.status !== 404) problems.push(`${step}: status ${seen.response.status}, want 404 (${preview(seen.response.body, 100)})`);
    else if (rpcErrorCode(seen.response) === undefined) problems.push(`${step}: 404 without a JSON-RPC error body`);
    if (seen.log.requests.length > 0) problems.push(`${step}: the upstream received it${seen.log.runs.length > 0 ? ` and ran ${seen.log.runs.map((r) => r.tool).join(', ')}` : ''}`);
    return problems;
  }

  it(
    "principal B presenting A's Mcp-Session-Id (POST, GET, DELETE) → 404 with a JSON-RPC error, the upstream receives nothing; A keeps working; after A's DELETE the id is 404 for A too",
    async () => {
      const target = requireTarget('sdk-v1');
      const tokenA = target.token;
      const tokenB = tokensB.get('sdk-v1')!;
      const sessionId = await initializeSession(target.origin, target.mountPath, tokenA);
      const session = { header: sessionId };
      const echo = toolCall('echo', 5);
      const problems: string[] = [];

      problems.push(...notFoundProblems('B POST tools/call', await inSession(target, tokenB, session, 'POST', echo)));
      problems.push(...notFoundProblems('B GET (open the session stream)', await inSession(target, tokenB, session, 'GET', '')));
      problems.push(...notFoundProblems('B DELETE', await inSession(target, tokenB, session, 'DELETE', '')));

      const a = await inSession(target, tokenA, session, 'POST', echo);
      if (a.response.status !== 200 || a.log.runs.map((r) => r.tool).join() !== 'echo') {
        problems.push(`A POST tools/call echo in its own session: status ${a.response.status}, ran ${a.log.runs.map((r) => r.tool).join(', ') || 'nothing'} (want 200, echo)`);
      }
      const deleted = await inSession(target, tokenA, session, 'DELETE', '');
      if (deleted.response.status < 200 || deleted.response.status > 299) problems.push(`A DELETE of its session: status ${deleted.response.status}, want 2xx`);

      const after = await inSession(target, tokenA, session, 'POST', echo);
      if (after.response.status !== 404 || rpcErrorCode(after.response) === undefined) {
        problems.push(`A after DELETE: status ${after.response.status}, want 404 with a JSON-RPC error (${preview(after.response.body, 100)})`);
      }
      if (after.log.runs.length > 0) problems.push(`A after DELETE: the upstream ran ${after.log.runs.map((r) => r.tool).join(', ')}`);
      problems.push(...notFoundProblems('B after DELETE', await inSession(target, tokenB, session, 'POST', echo)));

      expect(problems, problems.join('\n')).toEqual([]);
    },
    TEST_TIMEOUT,
  );

  it(
    "legacy HTTP+SSE: principal B posting to A's /messages?sessionId=… → 404 with a JSON-RPC error, nothing reaches A's session",
    async () => {
      const target = requireTarget('sdk-v1-sse');
      const problems = notFoundProblems('B POST to A\'s session', await inSession(target, tokensB.get('sdk-v1-sse')!, { query: target.sessionQuery }, 'POST', toolCall('echo', 6)));
      const a = await inSession(target, target.token, { query: target.sessionQuery }, 'POST', toolCall('echo', 7));
      if (a.response.status !== 202 || a.log.runs.map((r) => r.tool).join() !== 'echo') {
        problems.push(`A POST in its own session: status ${a.response.status}, ran ${a.log.runs.map((r) => r.tool).join(', ') || 'nothing'} (want 202, echo)`);
      }
      expect(problems, problems.join('\n')).toEqual([]);
    },
    TEST_TIMEOUT,
  );
});

// ---------------------------------------------------------------------------------------------

/** The contract's exact refusals, by rule; each case with an `expect` belongs to one of these. */
const CONTRACT: ReadonlyArray<{ title: string; select: (c: DiffCase) => boolean }> = [
  {
    title: 'RFC 8259 §8.1: a body that is not UTF-8 JSON text (UTF-8 BOM, UTF-16/32 with or without BOM, invalid UTF-8) → 400 -32700',
    select: (c) => c.expect?.rpcCode === -32700,
  },
  {
    title: 'RFC 8259 §4: duplicate member names, anywhere in the body → 400 -32600',
    select: (c) => c.expect?.rpcCode === -32600 && c.group === 'duplicate-member',
  },
  {
    title: 'DESIGN (gateway): member names a case-insensitive decoder folds into jsonrpc/method/params/id (ASCII case, ſ, K, ı, İ; raw or escaped) → 400 -32600',
    select: (c) => c.expect?.rpcCode === -32600 && (c.group === 'member-fold' || c.group === 'batch' || c.group === 'notification'),
  },
  {
    title: 'RFC 8259 §8.2: lone surrogate escapes → 400 -32600',
    select: (c) => c.expect?.rpcCode === -32600 && c.group === 'encoding',
  },
  {
    title: 'RFC 7493 §2.2 (I-JSON): integers beyond ±(2^53−1), which JSON.parse cannot hold → 400 -32600',
    select: (c) => c.expect?.rpcCode === -32600 && c.group === 'number',
  },
  {
    title: 'JSON-RPC 2.0 §4, §6: valid JSON that is not a JSON-RPC message → 400 -32600',
    select: (c) => c.expect?.rpcCode === -32600 && c.group === 'message-shape',
  },
  {
    title: 'RFC 9110 §15.5.16: a charset other than UTF-8, or a Content-Encoding other than identity → 415 with a JSON-RPC error',
    select: (c) => c.expect?.status === 415,
  },
  {
    title: 'SEP-2243: Mcp-Method/Mcp-Name that do not match the body (or are malformed) → 400 -32020 HeaderMismatch',
    select: (c) => c.expect?.rpcCode === -32020,
  },
  {
    title: 'RFC 3986 §3.3: path segments with ";" or encoded dots → 400',
    select: (c) => c.group === 'path' && c.expect !== undefined,
  },
];

describe('exact refusals the gateway contract demands (against the SDK v2 upstream)', () => {
  for (const rule of CONTRACT) {
    const cases = corpus.filter((c) => c.expect !== undefined && rule.select(c));
    it(
      `${rule.title} (${cases.length} cases)`,
      async () => {
        await expectRefusals(
          requireTarget('sdk-v2'),
          cases.map((c) => ({ c, expected: c.expect! })),
        );
      },
      TEST_TIMEOUT,
    );
  }

  it('every case with an exact expectation is checked by exactly one rule above', () => {
    const unchecked = corpus.filter((c) => c.expect !== undefined && CONTRACT.filter((rule) => rule.select(c)).length !== 1).map((c) => c.id);
    expect(unchecked).toEqual([]);
  });
});

describe('whole-run invariant', () => {
  it(`no upstream ran ${GUARDED_TOOL} at any time during this file (the token never held mcp:admin)`, async () => {
    const ran: string[] = [];
    for (const [name, upstream] of upstreams) {
      const { runs } = await upstream.since({ requests: 0, runs: 0 });
      const count = runs.filter((r) => r.tool === GUARDED_TOOL).length;
      if (count > 0) ran.push(`${name}: ${count} time(s)`);
    }
    expect(ran).toEqual([]);
  });
});

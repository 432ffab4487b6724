/**
 * The trail's fast path (issue 12: audit cost): a record's line is built from pre-serialized stamps
 * and the body's own JSON, the time is cached per millisecond, and the file sink writes batches.
 * None of it may change a byte of what `warden.audit/1` and its hash chain promise.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { AuthorizationDecision } from '../oauth/authorization-decision.js';
import { AUDIT_SCHEMA, GENESIS_HASH, type AuditEventBody, type AuditRecord } from './audit-event.js';
import { decisionEvent, securityEvent } from './audit-events.js';
import { createAuditTrail, type AuditSink } from './audit-trail.js';
import { createJsonLinesSink } from './json-lines-sink.js';
import { verifyAuditLog } from './verify-audit-log.js';

function capture(): { sink: AuditSink; lines: string[]; records: AuditRecord[] } {
  const lines: string[] = [];
  const records: AuditRecord[] = [];
  return { lines, records, sink: { write: (record, line) => (records.push(record as AuditRecord), lines.push(line)) } };
}

const t0 = 1_000;
const decision: AuthorizationDecision = {
  outcome: 'allow',
  reason: 'ok',
  status: 200,
  resource: 'https://mcp.example.com/mcp',
  methods: ['tools/call'],
  tools: ['delete_file', 'naïve "quoted" \\ tool\u2028'],
  clientId: 'agent-1',
  subject: 'alice',
  jkt: 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs',
  jti: 'jti-1',
  scheme: 'DPoP',
  steps: [['shape', t0 + 0.1], ['replay', t0 + 0.25]],
  startedAt: t0,
  context: { requestId: 'req-1', sourceAddress: '203.0.113.9' },
};

describe('audit record lines (warden.audit/1, schemas/audit-event.v1.json)', () => {
  it('each line is exactly JSON.stringify of its record, stamps first and prev last; prev is the SHA-256 (FIPS 180-4) of the line before', () => {
    const { sink, lines, records } = capture();
    const trail = createAuditTrail({ instance: 'i "1"', sinks: [sink] });
    trail.emit(decisionEvent(decision, 'files'));
    trail.emit(decisionEvent({ ...decision, outcome: 'deny', reason: 'invalid_token', status: 401 }));
    trail.emit(securityEvent({ type: 'keys.rotated' }));
    trail.emit({ type: 'keys.rotated' } as AuditEventBody);
    expect(lines).toHaveLength(4);
    lines.forEach((line, i) => {
      expect(line).toBe(JSON.stringify(records[i]));
      expect(JSON.parse(line)).toEqual(JSON.parse(JSON.stringify(records[i])));
      const keys = Object.keys(JSON.parse(line) as object);
      expect(keys.slice(0, 5)).toEqual(['schema', 'instance', 'run', 'seq', 'time']);
      expect(keys[keys.length - 1]).toBe('prev');
      expect(records[i]!.prev).toBe(i === 0 ? GENESIS_HASH : createHash('sha256').update(lines[i - 1]!).digest('hex'));
    });
    expect(verifyAuditLog([{ file: 'a.log', text: `${lines.join('\n')}\n` }])).toMatchObject({ intact: true, records: 4 });
  });

  it('a body cannot overwrite the stamps (schema, instance, run, seq, time, prev)', () => {
    const { sink, lines, records } = capture();
    const trail = createAuditTrail({ instance: 'real', sinks: [sink], now: () => Date.UTC(2026, 0, 2, 3, 4, 5, 6) });
    trail.emit(securityEvent({ type: 'keys.rotated' }));
    const forged = { type: 'keys.rotated', schema: 'x', instance: 'fake', run: 'r', seq: 99, time: 'then', prev: 'f'.repeat(64) } as unknown as AuditEventBody;
    trail.emit(forged);
    const parsed = JSON.parse(lines[1]!) as AuditRecord;
    expect(parsed).toMatchObject({ schema: AUDIT_SCHEMA, instance: 'real', run: trail.run, seq: 1, time: '2026-01-02T03:04:05.006Z', prev: createHash('sha256').update(lines[0]!).digest('hex') });
    expect(lines[1]).toBe(JSON.stringify(records[1]));
    expect(lines[1]!.match(/"seq":/g)).toHaveLength(1);
  });

  it('time is RFC 3339 UTC with milliseconds, right for each millisecond of the clock', () => {
    const { sink, records } = capture();
    const clock = [0, 0, 1, 1, 1_764_892_800_123, 1_764_892_800_123, 1_764_892_800_999, 1_764_892_801_000];
    let i = 0;
    const trail = createAuditTrail({ instance: 'clock', sinks: [sink], now: () => clock[i++]! });
    for (let n = 0; n < clock.length; n += 1) trail.emit(securityEvent({ type: 'keys.rotated' }));
    expect(records.map((r) => r.time)).toEqual(clock.map((ms) => new Date(ms).toISOString()));
  });
});

describe('JSON-lines sink batching', () => {
  it('writes many records in one write, in order, none lost; flush writes what is buffered', async () => {
    const writes: string[] = [];
    const trail = createAuditTrail({ instance: 'batch', sinks: [createJsonLinesSink({ kind: 'stdout', write: (text) => writes.push(text) })] });
    for (let n = 0; n < 50; n += 1) trail.emit(securityEvent({ type: 'consent.given', clientId: `c${n}` }));
    await new Promise((resolve) => setImmediate(resolve));
    for (let n = 50; n < 100; n += 1) trail.emit(securityEvent({ type: 'consent.given', clientId: `c${n}` }));
    await trail.flush();
    expect(writes.length).toBeLessThan(100);
    const lines = writes.join('').trimEnd().split('\n');
    expect(lines.map((l) => (JSON.parse(l) as AuditRecord).seq)).toEqual([...Array(100).keys()]);
    expect(verifyAuditLog([{ file: 'stdout', text: writes.join('') }])).toMatchObject({ intact: true, records: 100 });
  });

  // Runs the built sink (dist/, `npx tsc -p tsconfig.build.json`) in a child process.
  it('a buffered file is written out when the process exits without closing the trail', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'warden-audit-exit-')), 'audit.log');
    const sinkUrl = new URL('../../dist/observability/json-lines-sink.js', import.meta.url).href;
    const trailUrl = new URL('../../dist/observability/audit-trail.js', import.meta.url).href;
    const script = `
      const { createJsonLinesSink } = await import(${JSON.stringify(sinkUrl)});
      const { createAuditTrail } = await import(${JSON.stringify(trailUrl)});
      const trail = createAuditTrail({ instance: 'exit', sinks: [createJsonLinesSink({ kind: 'file', path: ${JSON.stringify(path)}, maxBytes: 1048576, keep: 1 })] });
      for (let n = 0; n < 7; n += 1) trail.emit({ type: 'keys.rotated' });
      process.exit(0);
    `;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const text = readFileSync(path, 'utf8');
    expect(verifyAuditLog([{ file: path, text }])).toMatchObject({ intact: true, records: 7 });
  });
});
